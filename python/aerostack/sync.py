"""The blocking face: ``from aerostack.sync import AerostackClient`` gives the same methods as the
async client, without ``await`` (the GIL is released while a call runs)."""

from ._client import SyncAerostackClient as AerostackClient
from ._client import SyncAerostackClient

__all__ = ["AerostackClient", "SyncAerostackClient"]
