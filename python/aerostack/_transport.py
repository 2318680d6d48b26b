"""The one funnel between the Python faces and the engine (``aerostack._native``).

A namespace method is written once and calls ``self._t.call(op, args, convert)``: the async
transport returns a coroutine, the sync transport returns the value. Errors from the engine are
re-raised as the classes of :mod:`aerostack.errors`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Tuple, TypeVar, Union

from . import _records
from .errors import _from_native
from .utils import RetryConfig, RetryPolicy, retry_policy

if TYPE_CHECKING:
    from ._native import NativeClient

T = TypeVar("T")

logger = logging.getLogger("aerostack")

_native_mod: Any = None


def native() -> Any:
    """The native module, imported on first use (``import aerostack`` stays fast)."""
    global _native_mod
    if _native_mod is None:
        from . import _native

        _native_mod = _native
    return _native_mod


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
) -> Dict[str, Any]:
    """The engine's ``ClientConfig`` as a dict (timeouts in seconds here, ms in the engine)."""
    cfg: Dict[str, Any] = {}
    if api_key is not None:
        cfg["api_key"] = api_key
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


def _ms(name: str, seconds: float) -> int:
    if not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, e.g. {name}=10, got {seconds!r}")
    return max(1, int(round(seconds * 1000)))


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
    """Shared state: the native client, per-call options, the logger."""

    __slots__ = ("native", "options", "log")

    def __init__(self, native_client: "NativeClient", options: Optional[Dict[str, Any]] = None,
                 log: Optional[logging.Logger] = None) -> None:
        self.native = native_client
        self.options = options or None
        self.log = log or logger

    def _args(self, args: Mapping[str, Any], extra: Optional[Dict[str, Any]] = None) -> str:
        if self.options or extra:
            merged = dict(args)
            opts = dict(self.options or {})
            if extra:
                opts.update(extra)
            merged["_options"] = opts
            return _records.dumps(merged)
        return _records.dumps(args)

    def with_options(self, options: Dict[str, Any]) -> "Transport":
        merged = dict(self.options or {})
        merged.update(options)
        return type(self)(self.native, merged, self.log)


class SyncTransport(Transport):
    """Blocking calls; the GIL is released while the engine works."""

    __slots__ = ()

    def call(self, op: str, args: Mapping[str, Any], convert: Callable[[Any], T] = _identity,
             extra: Optional[Dict[str, Any]] = None) -> T:
        payload = self._args(args, extra)
        debug = self.log.isEnabledFor(logging.DEBUG)
        start = time.perf_counter() if debug else 0.0
        try:
            raw = self.native.call(op, payload)
        except native().NativeError as e:
            err = _from_native(e)
            if debug:
                self.log.debug("%s failed after %.1f ms: %s", op, (time.perf_counter() - start) * 1000, err)
            raise err from None
        if debug:
            self.log.debug("%s ok in %.1f ms", op, (time.perf_counter() - start) * 1000)
        return convert(_records.loads(raw))

    def upload(self, args: Mapping[str, Any], data: Optional[bytes], convert: Callable[[Any], T] = _identity,
               extra: Optional[Dict[str, Any]] = None) -> T:
        payload = self._args(args, extra)
        try:
            raw = self.native.upload(payload, data)
        except native().NativeError as e:
            raise _from_native(e) from None
        self.log.debug("storage.upload ok")
        return convert(_records.loads(raw))

    def download(self, args: Mapping[str, Any], convert: Callable[[Tuple[bytes, Optional[str]]], T] = _identity,
                 extra: Optional[Dict[str, Any]] = None) -> T:
        payload = self._args(args, extra)
        try:
            data, content_type = self.native.download(payload)
        except native().NativeError as e:
            raise _from_native(e) from None
        self.log.debug("storage.get ok (%d bytes)", len(data))
        return convert((data, content_type))


class AsyncTransport(Transport):
    """Awaitable calls driven by the engine's runtime; cancelling the task drops the call."""

    __slots__ = ()

    def call(self, op: str, args: Mapping[str, Any], convert: Callable[[Any], T] = _identity,
             extra: Optional[Dict[str, Any]] = None) -> Any:
        return self._call(op, self._args(args, extra), convert)

    async def _call(self, op: str, payload: str, convert: Callable[[Any], T]) -> T:
        debug = self.log.isEnabledFor(logging.DEBUG)
        start = time.perf_counter() if debug else 0.0
        try:
            raw = await self.native.call_async(op, payload)
        except native().NativeError as e:
            err = _from_native(e)
            if debug:
                self.log.debug("%s failed after %.1f ms: %s", op, (time.perf_counter() - start) * 1000, err)
            raise err from None
        if debug:
            self.log.debug("%s ok in %.1f ms", op, (time.perf_counter() - start) * 1000)
        return convert(_records.loads(raw))

    def upload(self, args: Mapping[str, Any], data: Optional[bytes], convert: Callable[[Any], T] = _identity,
               extra: Optional[Dict[str, Any]] = None) -> Any:
        return self._upload(self._args(args, extra), data, convert)

    async def _upload(self, payload: str, data: Optional[bytes], convert: Callable[[Any], T]) -> T:
        try:
            raw = await self.native.upload_async(payload, data)
        except native().NativeError as e:
            raise _from_native(e) from None
        self.log.debug("storage.upload ok")
        return convert(_records.loads(raw))

    def download(self, args: Mapping[str, Any], convert: Callable[[Tuple[bytes, Optional[str]]], T] = _identity,
                 extra: Optional[Dict[str, Any]] = None) -> Any:
        return self._download(self._args(args, extra), convert)

    async def _download(self, payload: str, convert: Callable[[Tuple[bytes, Optional[str]]], T]) -> T:
        try:
            data, content_type = await self.native.download_async(payload)
        except native().NativeError as e:
            raise _from_native(e) from None
        self.log.debug("storage.get ok (%d bytes)", len(data))
        return convert((data, content_type))


def new_native_client(config: Dict[str, Any]) -> "NativeClient":
    try:
        return native().NativeClient(_records.dumps(config))  # type: ignore[no-any-return]
    except native().NativeError as e:
        raise _from_native(e) from None
