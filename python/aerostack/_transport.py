"""The one funnel between the Python faces and the engine (``aerostack._native``).

A namespace method is written once and calls ``self._t.call(op, args, convert)``: the async
transport returns a coroutine, the sync transport returns the value. Errors from the engine are
re-raised as the classes of :mod:`aerostack.errors`.
"""

from __future__ import annotations

import os
import sys
import time
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, Generic, List, Mapping, Optional, Tuple, TypeVar, Union

from . import _records
from .errors import _from_native
from .utils import RetryConfig, RetryPolicy, retry_policy, seconds_ms

if TYPE_CHECKING:
    import asyncio
    import logging

    from ._native import NativeClient

T = TypeVar("T")

#: An upload progress callback: ``progress(sent_bytes, total_bytes)``.
# progress(sent, total): bytes sent so far and the upload's size. Every source Python offers
# (bytes, a path, a binary file) has a known size, so `total` is always an int.
Progress = Callable[[int, int], Any]

_DEBUG = 10  # logging.DEBUG

# `logging` and `asyncio` are imported by the first use that needs them, not by `import aerostack`
# (together they are most of a cold import). Until the program imports logging itself nothing can
# have enabled our debug logs, so the per-call check is a dict lookup.
_aerostack_logger: "Optional[logging.Logger]" = None


def _log(log: "Optional[logging.Logger]") -> "Optional[logging.Logger]":
    """``log``, else the ``aerostack`` logger once the program has imported logging."""
    global _aerostack_logger
    if log is not None:
        return log
    if _aerostack_logger is None:
        lg = sys.modules.get("logging")
        if lg is None:
            return None
        _aerostack_logger = lg.getLogger("aerostack")
    return _aerostack_logger


def _debug_log(log: "Optional[logging.Logger]") -> "Optional[logging.Logger]":
    """The logger when its DEBUG level is on, else None."""
    lg = _log(log)
    return lg if lg is not None and lg.isEnabledFor(_DEBUG) else None


_aio: Any = None


def _loop() -> "asyncio.AbstractEventLoop":
    global _aio
    if _aio is None:
        import asyncio

        _aio = asyncio
    return _aio.get_running_loop()  # type: ignore[no-any-return]

_native_mod: Any = None


def native() -> Any:
    """The native module, imported on first use (``import aerostack`` stays fast)."""
    global _native_mod
    if _native_mod is None:
        from . import _native

        _native_mod = _native
    return _native_mod


def _emit_engine_logs(lines: List[Tuple[str, str]]) -> None:
    """Writes the engine's log lines (retries: debug, a wait over a second: warning) to the
    ``aerostack`` logger; the native module calls it on the calling thread or the event loop."""
    import logging

    log = logging.getLogger("aerostack")
    for level, message in lines:
        log.log(logging.WARNING if level == "warning" else logging.DEBUG, "%s", message)


def _identity(v: Any) -> Any:
    return v


def client_config(
    *,
    api_key: Optional[str] = None,
    project_id: Optional[str] = None,
    base_url: Optional[str] = None,
    server_index: Optional[int] = None,
    timeout: Optional[float] = None,
    connect_timeout: Optional[float] = None,
    retry: Union[RetryConfig, RetryPolicy, bool, None] = None,
    headers: Optional[Mapping[str, str]] = None,
    consumer_key: Optional[str] = None,
) -> Dict[str, Any]:
    """The engine's ``ClientConfig`` as a dict (timeouts in seconds here, ms in the engine)."""
    cfg: Dict[str, Any] = {}
    if api_key is not None:
        cfg["api_key"] = api_key
    if consumer_key is not None:
        cfg["consumer_key"] = consumer_key
    if project_id is not None:
        cfg["project_id"] = project_id
    if base_url is not None:
        cfg["base_url"] = base_url
    if server_index is not None:
        cfg["server_index"] = server_index
    if timeout is not None:
        cfg["timeout_ms"] = _ms("timeout", timeout)
    if connect_timeout is not None:
        cfg["connect_timeout_ms"] = _ms("connect_timeout", connect_timeout)
    policy = retry_policy(retry)
    if policy is not None:
        cfg["retry"] = policy
    if headers:
        cfg["headers"] = dict(headers)
    cfg["user_agent_prefix"] = f"aerostack-python/{native().__version__}"
    return cfg


_ms = seconds_ms


def call_options(
    *,
    timeout: Optional[float] = None,
    retry: Union[RetryConfig, RetryPolicy, bool, None] = None,
    idempotency_key: Optional[str] = None,
    headers: Optional[Mapping[str, str]] = None,
) -> Dict[str, Any]:
    """The engine's per-call ``CallOptions`` as a dict."""
    opts: Dict[str, Any] = {}
    if timeout is not None:
        opts["timeout_ms"] = _ms("timeout", timeout)
    policy = retry_policy(retry)
    if policy is not None:
        opts["retry"] = policy
    if idempotency_key is not None:
        opts["idempotency_key"] = idempotency_key
    if headers:
        opts["headers"] = dict(headers)
    return opts


class Transport:
    """Shared state: the native client, per-call options, the logger, and (hosted transports
    only) the user's HTTP client."""

    __slots__ = ("native", "options", "log", "http")

    def __init__(self, native_client: "NativeClient", options: Optional[Dict[str, Any]] = None,
                 log: "Optional[logging.Logger]" = None, *, http: Any = None) -> None:
        self.native = native_client
        self.options = options or None
        self.log = log
        self.http = http

    def _args(self, args: Mapping[str, Any], extra: Optional[Dict[str, Any]] = None) -> str:
        if self.options or extra:
            merged = dict(args)
            opts = dict(self.options or {})
            if extra:
                opts.update(extra)
            merged["_options"] = opts
            return _records.dumps(merged)
        return _records.dumps(args)

    def _native_with_options(self) -> "NativeClient":
        """The native client with this transport's per-call options (timeout, headers), for
        what is not an operation (a gateway socket)."""
        if not self.options:
            return self.native
        try:
            return self.native.with_options(_records.dumps(self.options))
        except native().NativeError as e:
            raise _from_native(e) from None

    def with_options(self, options: Dict[str, Any]) -> "Transport":
        merged = dict(self.options or {})
        merged.update(options)
        return type(self)(self.native, merged, self.log, http=self.http)


def _failed(e: BaseException, op: str, debug: "Optional[logging.Logger]", start: float) -> Exception:
    """The package's exception for a ``NativeError``, logged when debug logs are on."""
    err = _from_native(e)
    if debug:
        debug.debug("%s failed after %.1f ms: %s", op, (time.perf_counter() - start) * 1000, err)
    return err


class SyncTransport(Transport):
    """Blocking calls; the GIL is released while the engine works."""

    __slots__ = ()

    def call(self, op: str, args: Mapping[str, Any], convert: Callable[[Any], T] = _identity,
             extra: Optional[Dict[str, Any]] = None) -> T:
        payload = self._args(args, extra)
        debug = _debug_log(self.log)
        start = time.perf_counter() if debug else 0.0
        try:
            raw = self.native.call(op, payload)
        except native().NativeError as e:
            raise _failed(e, op, debug, start) from None
        if debug:
            debug.debug("%s ok in %.1f ms", op, (time.perf_counter() - start) * 1000)
        return convert(_records.loads(raw, op))

    def upload(self, args: Mapping[str, Any], data: Optional[bytes], convert: Callable[[Any], T] = _identity,
               extra: Optional[Dict[str, Any]] = None, progress: Optional[Progress] = None) -> T:
        payload = self._args(args, extra)
        try:
            raw = self.native.upload(payload, data, progress)
        except native().NativeError as e:
            raise _from_native(e) from None
        debug = _debug_log(self.log)
        if debug:
            debug.debug("storage.upload ok")
        return convert(_records.loads(raw))

    def download(self, args: Mapping[str, Any], convert: Callable[[Tuple[bytes, Optional[str]]], T] = _identity,
                 extra: Optional[Dict[str, Any]] = None) -> T:
        payload = self._args(args, extra)
        try:
            data, content_type = self.native.download(payload)
        except native().NativeError as e:
            raise _from_native(e) from None
        debug = _debug_log(self.log)
        if debug:
            debug.debug("storage.get ok (%d bytes)", len(data))
        return convert((data, content_type))

    def stream(self, op: str, args: Mapping[str, Any], convert: Callable[[Any], T] = _identity,
               extra: Optional[Dict[str, Any]] = None) -> "SyncStream[T]":
        return SyncStream(self, op, self._args(args, extra), convert)

    def gateway_socket(self, api_slug: str, consumer_key: Optional[str]) -> Any:
        """Opens a gateway chat socket (``gateway.connect_websocket``)."""
        from ._gateway_socket import SyncGatewaySocket

        try:
            return SyncGatewaySocket(self._native_with_options().gateway_socket(api_slug, consumer_key))
        except native().NativeError as e:
            raise _from_native(e) from None


class AsyncTransport(Transport):
    """Awaitable calls driven by the engine's runtime; cancelling the task drops the call.

    Results come back through the event loop's port (see :func:`_port`): the engine never takes
    the GIL, the loop pulls finished calls in batches on its own thread.
    """

    __slots__ = ()

    def call(self, op: str, args: Mapping[str, Any], convert: Callable[[Any], T] = _identity,
             extra: Optional[Dict[str, Any]] = None) -> Any:
        return self._call(op, self._args(args, extra), convert)

    async def _call(self, op: str, payload: str, convert: Callable[[Any], T]) -> T:
        debug = _debug_log(self.log)
        start = time.perf_counter() if debug else 0.0
        try:
            raw = await _on_port(lambda port, fut: self.native.call_async(port, fut, op, payload))
        except native().NativeError as e:
            raise _failed(e, op, debug, start) from None
        if debug:
            debug.debug("%s ok in %.1f ms", op, (time.perf_counter() - start) * 1000)
        return convert(_records.loads(raw, op))

    def upload(self, args: Mapping[str, Any], data: Optional[bytes], convert: Callable[[Any], T] = _identity,
               extra: Optional[Dict[str, Any]] = None, progress: Optional[Progress] = None) -> Any:
        return self._upload(self._args(args, extra), data, convert, progress)

    async def _upload(self, payload: str, data: Optional[bytes], convert: Callable[[Any], T],
                      progress: Optional[Progress]) -> T:
        try:
            raw = await _on_port(lambda port, fut: self.native.upload_async(port, fut, payload, data, progress))
        except native().NativeError as e:
            raise _from_native(e) from None
        debug = _debug_log(self.log)
        if debug:
            debug.debug("storage.upload ok")
        return convert(_records.loads(raw))

    def download(self, args: Mapping[str, Any], convert: Callable[[Tuple[bytes, Optional[str]]], T] = _identity,
                 extra: Optional[Dict[str, Any]] = None) -> Any:
        return self._download(self._args(args, extra), convert)

    async def _download(self, payload: str, convert: Callable[[Tuple[bytes, Optional[str]]], T]) -> T:
        try:
            data, content_type = await _on_port(lambda port, fut: self.native.download_async(port, fut, payload))
        except native().NativeError as e:
            raise _from_native(e) from None
        debug = _debug_log(self.log)
        if debug:
            debug.debug("storage.get ok (%d bytes)", len(data))
        return convert((data, content_type))

    def stream(self, op: str, args: Mapping[str, Any], convert: Callable[[Any], T] = _identity,
               extra: Optional[Dict[str, Any]] = None) -> "AsyncStream[T]":
        return AsyncStream(self, op, self._args(args, extra), convert)

    def gateway_socket(self, api_slug: str, consumer_key: Optional[str]) -> Any:
        """Opens a gateway chat socket (``gateway.connect_websocket``): a coroutine."""
        return self._gateway_socket(api_slug, consumer_key)

    async def _gateway_socket(self, api_slug: str, consumer_key: Optional[str]) -> Any:
        from ._gateway_socket import AsyncGatewaySocket

        n = self._native_with_options()
        try:
            raw = await _on_port(lambda port, fut: n.gateway_socket_async(port, fut, api_slug, consumer_key))
        except native().NativeError as e:
            raise _from_native(e) from None
        return AsyncGatewaySocket(raw)


async def _on_port(start: Callable[[Any, "asyncio.Future[Any]"], Any], abort: bool = True) -> Any:
    """Starts an engine call with ``start(port, future)`` (a native ``*_async`` method) and
    awaits its future; cancelling the awaiting task aborts the engine call (unless ``abort`` is
    false: a ``NativeTask`` that goes on by itself)."""
    loop = _loop()
    fut = loop.create_future()
    call = start(_port(loop), fut)
    try:
        return await fut
    except BaseException:  # cancelled (a failed call is already over: abort is then a no-op)
        if abort and call is not None:
            call.abort()
        raise


# One port per event loop (and process: a forked child starts afresh).
_ports: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]" = weakref.WeakKeyDictionary()


def _port(loop: asyncio.AbstractEventLoop) -> Any:
    """The loop's completion port, created and registered with ``loop.add_reader`` on first use."""
    port = _ports.get(loop)
    if port is None:
        port = native().NativePort()
        try:
            loop.add_reader(port.fileno(), port.drain)
        except NotImplementedError:
            raise RuntimeError(
                "aerostack's async client needs an event loop with add_reader (the default loop on "
                "Linux and macOS, or uvloop); on Windows use asyncio.WindowsSelectorEventLoopPolicy()"
            ) from None
        _ports[loop] = port
    return port


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ports.clear)


class SyncStream(Generic[T]):
    """The items of a streamed call (``ai.chat_stream``) as an iterator; ``close()`` (or leaving a
    ``with`` block, or breaking out of the loop and dropping it) stops the stream."""

    def __init__(self, t: "SyncTransport", op: str, payload: str, convert: Callable[[Any], T]) -> None:
        self._t, self._op, self._payload, self._convert = t, op, payload, convert
        self._native: Any = None
        self._closed = False

    def __iter__(self) -> "SyncStream[T]":
        return self

    def __next__(self) -> T:
        if self._closed:
            raise StopIteration
        try:
            if self._native is None:
                self._native = self._t.native.stream(self._op, self._payload)
            raw = self._native.next()
        except native().NativeError as e:
            self._closed = True
            raise _from_native(e) from None
        if raw is None:
            self._closed = True
            raise StopIteration
        return self._convert(_records.loads(raw, self._op))

    def close(self) -> None:
        self._closed = True
        if self._native is not None:
            self._native.close()

    def __enter__(self) -> "SyncStream[T]":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncStream(Generic[T]):
    """The items of a streamed call as an async iterator: ``async for chunk in ...``;
    ``await aclose()`` (or ``async with``) stops the stream, so does cancelling the task."""

    def __init__(self, t: AsyncTransport, op: str, payload: str, convert: Callable[[Any], T]) -> None:
        self._t, self._op, self._payload, self._convert = t, op, payload, convert
        self._native: Any = None
        self._closed = False

    def __aiter__(self) -> "AsyncStream[T]":
        return self

    async def __anext__(self) -> T:
        if self._closed:
            raise StopAsyncIteration
        try:
            if self._native is None:
                self._native = await _on_port(
                    lambda port, fut: self._t.native.stream_async(port, fut, self._op, self._payload))
            raw = await _on_port(self._native.next_async)
        except native().NativeError as e:
            self._closed = True
            raise _from_native(e) from None
        except BaseException:  # cancelled: stop the stream with the task
            await self.aclose()
            raise
        if raw is None:
            self._closed = True
            raise StopAsyncIteration
        return self._convert(_records.loads(raw, self._op))

    async def aclose(self) -> None:
        self._closed = True
        if self._native is not None:
            self._native.close()

    async def __aenter__(self) -> "AsyncStream[T]":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


class HostedSyncTransport(SyncTransport):
    """Blocking calls whose HTTP requests go through the user's own client (an ``httpx.Client`` or
    anything with ``build_request``/``send``, seed 002's ``SDK(client=...)``). The engine still
    builds every request and handles retries, errors and decoding; this loop only carries bytes."""

    __slots__ = ()

    def call(self, op: str, args: Mapping[str, Any], convert: Callable[[Any], T] = _identity,
             extra: Optional[Dict[str, Any]] = None) -> T:
        return convert(self._drive(lambda: self.native.hosted(op, self._args(args, extra))))

    def upload(self, args: Mapping[str, Any], data: Optional[bytes], convert: Callable[[Any], T] = _identity,
               extra: Optional[Dict[str, Any]] = None, progress: Optional[Progress] = None) -> T:
        if progress is not None:
            raise TypeError("progress= is not available when requests go through your own HTTP client")
        return convert(self._drive(lambda: self.native.hosted_upload(self._args(args, extra), data)))

    def _drive(self, start: Callable[[], Any]) -> Any:
        try:
            call = start()
            while True:
                step = call.next()
                if isinstance(step, str):
                    return _records.loads(step)
                rid, method, url, headers, body = step
                try:
                    resp = self.http.send(self.http.build_request(method, url, headers=headers, content=body or None))
                    content = resp.read()
                except Exception as e:  # the user's client failed: the engine retries it as a network error
                    call.fail(rid, f"{type(e).__name__}: {e}")
                    continue
                call.respond(rid, resp.status_code, _header_items(resp), content)
        except native().NativeError as e:
            raise _from_native(e) from None


class HostedAsyncTransport(AsyncTransport):
    """:class:`HostedSyncTransport` for ``SDK(async_client=...)`` (``httpx.AsyncClient`` or any
    object with ``build_request`` and an async ``send``)."""

    __slots__ = ()

    async def _call(self, op: str, payload: str, convert: Callable[[Any], T]) -> T:
        return convert(await self._drive(lambda: self.native.hosted(op, payload)))

    async def _upload(self, payload: str, data: Optional[bytes], convert: Callable[[Any], T],
                      progress: Optional[Progress]) -> T:
        if progress is not None:
            raise TypeError("progress= is not available when requests go through your own HTTP client")
        return convert(await self._drive(lambda: self.native.hosted_upload(payload, data)))

    async def _drive(self, start: Callable[[], Any]) -> Any:
        try:
            call = start()
            while True:
                step = await _on_port(call.next_async)
                if isinstance(step, str):
                    return _records.loads(step)
                rid, method, url, headers, body = step
                try:
                    resp = await self.http.send(self.http.build_request(method, url, headers=headers, content=body or None))
                    content = await resp.aread()
                except Exception as e:  # the user's client failed: the engine retries it as a network error
                    call.fail(rid, f"{type(e).__name__}: {e}")
                    continue
                call.respond(rid, resp.status_code, _header_items(resp), content)
        except native().NativeError as e:
            raise _from_native(e) from None


def _header_items(resp: Any) -> "list[Tuple[str, str]]":
    headers = resp.headers
    items = headers.multi_items() if hasattr(headers, "multi_items") else headers.items()
    return [(str(k), str(v)) for k, v in items]


def new_native_client(config: Dict[str, Any]) -> "NativeClient":
    try:
        return native().NativeClient(_records.dumps(config))  # type: ignore[no-any-return]
    except native().NativeError as e:
        raise _from_native(e) from None
