"""The scoped ``sdk`` a hook handler receives (seed 000 names).

``sdk.db.query(sql, params)``, ``sdk.cache.get/set(key, value, ttl)``, ``sdk.ai.chat(model,
messages)``, ``sdk.fetch(url, options)``, ``sdk.secrets.get(key)``, ``sdk.queue.enqueue(job_name,
data)``, ``sdk.socket.emit(event, data, room)``, plus ``sdk.storage`` and ``sdk.services``. Every
call acts on the invocation's project with its scope token, over the worker's connection pool.
An ``async def`` handler gets :class:`AsyncSdk` (``await sdk.db.query(...)``), a plain ``def``
handler :class:`SyncSdk` (``sdk.db.query(...)``, run in a thread).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Sequence, Union

from .. import _api, _records
from .._transport import AsyncTransport, SyncTransport, Transport, native
from ..errors import _from_native
from ..utils import seconds_ms

if TYPE_CHECKING:  # pragma: no cover
    from .._native import NativeInvocation


class FetchResponse:
    """The answer of ``sdk.fetch``: any HTTP status is an answer (only network failures raise)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: Dict[str, str], body: str) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    def text(self) -> str:
        """The body as text."""
        return self.body

    def json(self) -> Any:
        """The body parsed as JSON."""
        return _records.loads(self.body)

    def __repr__(self) -> str:
        return f"<FetchResponse {self.status}>"


def _fetch_options(options: Optional[Mapping[str, Any]], method: Optional[str], headers: Optional[Mapping[str, str]],
                   body: Any, json: Any, timeout: Optional[float]) -> Dict[str, Any]:
    o: Dict[str, Any] = dict(options or {})
    if method is not None:
        o["method"] = method
    hdrs: Dict[str, str] = {str(k): str(v) for k, v in dict(o.get("headers") or {}).items()}
    if headers:
        hdrs.update({str(k): str(v) for k, v in headers.items()})
    if body is not None:
        o["body"] = body
    if json is not None:
        o["body"] = _records.dumps(json)
        if not any(k.lower() == "content-type" for k in hdrs):
            hdrs["Content-Type"] = "application/json"
    b = o.get("body")
    if isinstance(b, (bytes, bytearray)):
        o["body"] = bytes(b).decode("utf-8")
    elif b is not None and not isinstance(b, str):
        o["body"] = _records.dumps(b)
        if not any(k.lower() == "content-type" for k in hdrs):
            hdrs["Content-Type"] = "application/json"
    o["headers"] = hdrs
    seconds = o.pop("timeout", None) if timeout is None else timeout
    if seconds is not None:
        o["timeout_ms"] = seconds_ms("timeout", seconds)
    return o


def _fetch_response(v: Any) -> FetchResponse:
    return FetchResponse(int(v.get("status", 0)), dict(v.get("headers") or {}), str(v.get("body") or ""))


class HookAi:
    """``sdk.ai``: ``chat(model, messages)`` (seed 000), ``complete``, ``embed``, ``search``."""

    __slots__ = ("_ai", "search")

    def __init__(self, transport: Transport) -> None:
        ai: Any = getattr(_api, "Ai")(transport)
        self._ai = ai
        self.search: Any = ai.search

    def chat(self, model: Union[str, Sequence[Mapping[str, Any]], None],
             messages: Optional[Sequence[Mapping[str, Any]]] = None, **options: Any) -> Any:
        """A chat completion with ``model`` (e.g. ``@cf/meta/llama-3-8b-instruct``) for
        ``[{"role": "user", "content": "..."}]``; ``result.text``. ``chat(messages)`` uses the
        platform's default model."""
        if messages is None and model is not None and not isinstance(model, str):
            model, messages = None, model
        return self._ai.chat(messages or [], model=model, **options)

    def complete(self, prompt: str, model: Optional[str] = None, **options: Any) -> Any:
        """Completes a prompt; ``result.text``."""
        return self._ai.complete(prompt, model=model, **options)

    def embed(self, text: str) -> Any:
        """The embedding vector of a text."""
        return self._ai.embed(text)


class HookSocket:
    """``sdk.socket``: ``emit(event, data, room)`` to the project's realtime rooms."""

    __slots__ = ("_t",)

    def __init__(self, transport: Any) -> None:  # the sdk's Sync- or AsyncTransport
        self._t = transport

    def emit(self, event: str, data: Any = None, room: str = "general") -> Any:
        """Broadcasts ``event`` with ``data`` to ``room``; what was delivered (``id``, ``topic``)."""
        return self._t.call("realtime.emit", {"event": event, "data": data, "room": room})


class _SdkBase:
    _transport_class: Any = Transport

    def __init__(self, inv: "NativeInvocation") -> None:
        is_async = self._transport_class is AsyncTransport
        try:
            client = inv.client()
        except native().NativeError as e:
            raise _from_native(e) from None
        t = self._transport_class(client, None, None)
        ns: Any = _api
        self._inv = inv
        self._async = is_async
        self.project_id: str = inv.project_id
        self.db = ns.Db(t)
        self.cache = ns.Cache(t)
        self.storage = ns.Storage(t)
        self.queue = ns.Queue(t)
        self.secrets = ns.Secrets(t)
        self.services = ns.Services(t)
        self.ai = HookAi(t)
        self.socket = HookSocket(t)
        self._t = t

    def __repr__(self) -> str:
        return f"<{type(self).__name__} project={self.project_id}>"


class AsyncSdk(_SdkBase):
    """The scoped sdk of an ``async def`` handler: ``await sdk.db.query(sql, params)``."""

    _transport_class = AsyncTransport

    db: _api.AsyncDb
    cache: _api.AsyncCache
    storage: _api.AsyncStorage
    queue: _api.AsyncQueue
    secrets: _api.AsyncSecrets
    services: _api.AsyncServices

    async def fetch(self, url: str, options: Optional[Mapping[str, Any]] = None, *, method: Optional[str] = None,
                    headers: Optional[Mapping[str, str]] = None, body: Any = None, json: Any = None,
                    timeout: Optional[float] = None) -> FetchResponse:
        """Outbound HTTP (``User-Agent: aerostack-hooks/<version>``, 30 s default timeout).
        ``options`` is JavaScript's ``init`` (``method``, ``headers``, ``body``) or use the keywords;
        ``json=`` sends a JSON body."""
        opts = _fetch_options(options, method, headers, body, json, timeout)
        result: FetchResponse = await self._t.call("fetch", {"url": url, **opts}, _fetch_response)
        return result


class SyncSdk(_SdkBase):
    """The scoped sdk of a plain ``def`` handler: ``sdk.db.query(sql, params)`` (blocking)."""

    _transport_class = SyncTransport

    db: _api.SyncDb
    cache: _api.SyncCache
    storage: _api.SyncStorage
    queue: _api.SyncQueue
    secrets: _api.SyncSecrets
    services: _api.SyncServices

    def fetch(self, url: str, options: Optional[Mapping[str, Any]] = None, *, method: Optional[str] = None,
              headers: Optional[Mapping[str, str]] = None, body: Any = None, json: Any = None,
              timeout: Optional[float] = None) -> FetchResponse:
        """Outbound HTTP (``User-Agent: aerostack-hooks/<version>``, 30 s default timeout).
        ``options`` is JavaScript's ``init`` (``method``, ``headers``, ``body``) or use the keywords;
        ``json=`` sends a JSON body."""
        opts = _fetch_options(options, method, headers, body, json, timeout)
        result: FetchResponse = self._t.call("fetch", {"url": url, **opts}, _fetch_response)
        return result
