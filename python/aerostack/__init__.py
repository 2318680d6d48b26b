"""Aerostack SDK for Python.

Two faces over one Rust engine (``aerostack._native``):

* ``AerostackClient`` — async-first (``await client.db.query(...)``), and its blocking twin
  ``SyncAerostackClient`` (also ``aerostack.sync.AerostackClient``);
* ``SDK`` — the operation-style surface of the ``aerostack`` package on PyPI
  (``sdk.database.db_query(request={...})`` and ``..._async``).

Errors are in :mod:`aerostack.errors`; the local platform for tests and demos is
:class:`aerostack.local.LocalPlatform`. Everything heavy is imported on first use, so
``import aerostack`` costs almost nothing.
"""

from __future__ import annotations

# No `import typing` here: it alone costs ~10 ms; the names below are for type checkers only.
TYPE_CHECKING = False

__all__ = [
    "AerostackClient",
    "SyncAerostackClient",
    "AsyncGatewaySocket",
    "SyncGatewaySocket",
    "SDK",
    "AerostackError",
    "LocalPlatform",
    "Record",
    "QueryResult",
    "RetryConfig",
    "BackoffStrategy",
    "errors",
    "utils",
    "engine_version",
    "__version__",
]

if TYPE_CHECKING:
    from typing import Any

    from . import errors, hooks, local, sync, utils
    from ._client import AerostackClient, SyncAerostackClient
    from ._gateway_socket import AsyncGatewaySocket, SyncGatewaySocket
    from ._records import QueryResult, Record
    from ._sdk import SDK
    from .errors import AerostackError
    from .local import LocalPlatform
    from .utils import BackoffStrategy, RetryConfig

    __version__: str

    def engine_version() -> str: ...


_LAZY = {
    "AerostackClient": ("._client", "AerostackClient"),
    "SyncAerostackClient": ("._client", "SyncAerostackClient"),
    "AsyncGatewaySocket": ("._gateway_socket", "AsyncGatewaySocket"),
    "SyncGatewaySocket": ("._gateway_socket", "SyncGatewaySocket"),
    "SDK": ("._sdk", "SDK"),
    "AerostackError": (".errors", "AerostackError"),
    "LocalPlatform": (".local", "LocalPlatform"),
    "Record": ("._records", "Record"),
    "QueryResult": ("._records", "QueryResult"),
    "RetryConfig": (".utils", "RetryConfig"),
    "BackoffStrategy": (".utils", "BackoffStrategy"),
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module, __name__), attr)
    elif name in ("errors", "utils", "sync", "local", "hooks"):
        value = importlib.import_module("." + name, __name__)
    elif name == "__version__":
        try:
            from importlib.metadata import version

            value = version("aerostack")
        except Exception:  # pragma: no cover - not installed as a distribution
            value = importlib.import_module("._native", __name__).__version__
    elif name == "engine_version":
        value = importlib.import_module("._native", __name__).engine_version
    else:
        raise AttributeError(f"module 'aerostack' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
