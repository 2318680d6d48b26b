"""``AerostackClient`` (async, seed 001) and ``SyncAerostackClient`` (the same methods, blocking)."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Mapping, Optional, Type, TypeVar, Union

from . import _api
from ._transport import (
    AsyncTransport,
    SyncTransport,
    Transport,
    call_options,
    client_config,
    new_native_client,
)
from .utils import RetryConfig, RetryPolicy

if TYPE_CHECKING:
    import logging

    from ._realtime import Realtime, Socket

_C = TypeVar("_C", bound="_ClientBase")

RetryArg = Union[RetryConfig, RetryPolicy, bool, None]


class _ClientBase:
    _transport_class: Type[Transport] = Transport
    _t: Any

    def __init__(
        self,
        project_id: Optional[str] = None,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        server_index: Optional[int] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        retry: RetryArg = None,
        headers: Optional[Mapping[str, str]] = None,
        logger: Optional[logging.Logger] = None,
        consumer_key: Optional[str] = None,
    ) -> None:
        """Connects to the project ``project_id`` with ``api_key`` (both fall back to
        ``AEROSTACK_PROJECT_ID`` / ``AEROSTACK_API_KEY``) at ``base_url`` (or ``server_index``:
        0 = https://api.aerostack.dev/v1, 1 = http://localhost:8787/v1; env ``AEROSTACK_API_URL``).

        ``timeout`` is seconds per attempt (default 30), ``retry`` a :class:`~aerostack.utils.RetryConfig`,
        a mapping of engine retry fields, or ``False`` for no retries. ``consumer_key`` is the AI
        gateway consumer key (``ask_…``; env ``AEROSTACK_CONSUMER_KEY``) the ``gateway`` calls use.
        Nothing is sent until the first call; one client holds one connection pool, so reuse it.
        """
        config = client_config(
            api_key=api_key,
            project_id=project_id,
            base_url=base_url,
            server_index=server_index,
            timeout=timeout,
            connect_timeout=connect_timeout,
            retry=retry,
            headers=headers,
            consumer_key=consumer_key,
        )
        self._bind(self._transport_class(new_native_client(config), None, logger))

    def _bind(self, t: Transport) -> None:
        # One set of classes serves both faces (only the transport differs); the typed names
        # (AsyncDb, SyncDb, ...) exist for type checkers, see _api.pyi.
        ns: Any = _api
        self._t = t
        self._root: Any = ns.Root(t)
        self.auth = ns.Auth(t)
        self.db = ns.Db(t)
        self.cache = ns.Cache(t)
        self.storage = ns.Storage(t)
        self.ai = ns.Ai(t)
        self.gateway = ns.Gateway(t)
        self.queue = ns.Queue(t)
        self.secrets = ns.Secrets(t)
        self.services = ns.Services(t)
        self.local = ns.Local(t)

    def with_options(
        self: _C,
        *,
        timeout: Optional[float] = None,
        retry: RetryArg = None,
        idempotency_key: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> _C:
        """A client for the same project and connection pool whose calls use these options:
        ``client.with_options(timeout=2, retry=False).db.query(...)``."""
        opts = call_options(timeout=timeout, retry=retry, idempotency_key=idempotency_key, headers=headers)
        clone = object.__new__(type(self))
        clone._bind(self._t.with_options(opts))
        return clone

    @property
    def realtime(self) -> "Realtime":
        """Realtime channels (one WebSocket per client): ``client.realtime.channel("orders")``.
        Listeners run on the event loop (async client) or on a daemon thread (sync client);
        see :mod:`aerostack._realtime`."""
        rt = self.__dict__.get("_realtime_obj")
        if rt is None:
            from ._realtime import Realtime

            rt = self.__dict__.setdefault("_realtime_obj", Realtime(self._t, isinstance(self, SyncAerostackClient)))
        return rt  # type: ignore[no-any-return]

    @property
    def socket(self) -> "Socket":
        """Server-side broadcast to realtime rooms: ``client.socket.emit(event, data, room)``."""
        from ._realtime import Socket

        return Socket(self._t, isinstance(self, SyncAerostackClient))

    def _close_realtime(self) -> None:
        rt = self.__dict__.get("_realtime_obj")
        if rt is not None:
            rt.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class AerostackClient(_ClientBase):
    """The async client (seed 001): ``await client.db.query(...)``.

    Namespaces: ``auth``, ``db``, ``cache``, ``storage``, ``ai`` (``ai.search``), ``queue``,
    ``secrets``, ``services``, ``local``; plus ``call(slug, data, method)`` for custom APIs.
    Cancelling the awaiting task (``task.cancel()``, ``asyncio.wait_for``) cancels the call.
    """

    _transport_class = AsyncTransport

    auth: _api.AsyncAuth
    db: _api.AsyncDb
    cache: _api.AsyncCache
    storage: _api.AsyncStorage
    ai: _api.AsyncAi
    gateway: _api.AsyncGateway
    queue: _api.AsyncQueue
    secrets: _api.AsyncSecrets
    services: _api.AsyncServices
    local: _api.AsyncLocal

    async def call(self, slug: str, data: Any = None, method: str = "POST") -> Any:
        """Calls the custom API (Logic Module endpoint) ``slug``; its JSON answer."""
        return await self._root.call(slug, data, method)

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """A raw platform call (``path`` under ``/v1``); the JSON answer as sent."""
        return await self._root.request(method, path, body)

    async def close(self) -> None:
        """Closes the realtime connection, if one was opened; the connection pool closes when the
        client is garbage-collected."""
        self._close_realtime()

    async def __aenter__(self) -> "AerostackClient":
        return self

    async def __aexit__(self, et: Optional[Type[BaseException]], e: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        await self.close()


class SyncAerostackClient(_ClientBase):
    """The blocking twin of :class:`AerostackClient`: the same namespaces and methods, without
    ``await``. The GIL is released while a call runs, so other threads keep working."""

    _transport_class = SyncTransport

    auth: _api.SyncAuth
    db: _api.SyncDb
    cache: _api.SyncCache
    storage: _api.SyncStorage
    ai: _api.SyncAi
    gateway: _api.SyncGateway
    queue: _api.SyncQueue
    secrets: _api.SyncSecrets
    services: _api.SyncServices
    local: _api.SyncLocal

    def call(self, slug: str, data: Any = None, method: str = "POST") -> Any:
        """Calls the custom API (Logic Module endpoint) ``slug``; its JSON answer."""
        return self._root.call(slug, data, method)

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """A raw platform call (``path`` under ``/v1``); the JSON answer as sent."""
        return self._root.request(method, path, body)

    def close(self) -> None:
        """Closes the realtime connection, if one was opened; the connection pool closes when the
        client is garbage-collected."""
        self._close_realtime()

    def __enter__(self) -> "SyncAerostackClient":
        return self

    def __exit__(self, et: Optional[Type[BaseException]], e: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()
