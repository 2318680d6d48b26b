"""The AI gateway's chat socket: ``client.gateway.connect_websocket(api_slug)`` (the official
``gateway.connectWebSocket``), one WebSocket to ``{wsHost}/api/gateway/{apiSlug}/ws``
authenticated with the consumer key.

The engine does the work (frames, matching each answer to the frame it answers, a chat's whole
text on its ``done``); these classes pull its events on the caller's thread or event loop. An
event is a :class:`~aerostack.Record` with a ``type``: ``token`` (``content``, ``request``),
``done`` (``content``, ``tokens_used``, ``usage``, ``request``), ``error`` (``code``,
``message``, ``family``, ``request``, and ``error``: the exception a call would raise), ``pong``
(``request``), ``closed`` (``code``, ``reason``; the last one) or ``unknown`` (``frame``).
``request`` is the id that ``send_chat``/``ping``/``send`` returned for the frame it answers.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable, Iterator, Mapping, Optional, Sequence, Union

from ._records import Record, dumps, loads
from ._transport import _on_port, native
from .errors import _from_native, error_class_for_family
from .utils import seconds_ms

__all__ = ["AsyncGatewaySocket", "SyncGatewaySocket", "GatewaySocket"]

OnToken = Callable[[str], Any]


def _chat_args(messages: Sequence[Mapping[str, Any]], model: Optional[str], temperature: Optional[float],
               max_tokens: Optional[int], top_p: Optional[float], timeout: Optional[float] = None) -> str:
    args = {"messages": [dict(m) for m in messages], "model": model, "temperature": temperature,
            "max_tokens": max_tokens, "top_p": top_p}
    if timeout is not None:
        args["timeout_ms"] = seconds_ms("timeout", timeout)
    return dumps(args)


def _event(raw: Optional[str]) -> Optional[Record]:
    if raw is None:
        return None
    ev: Record = loads(raw)
    if ev.get("type") == "error":
        family = str(ev.get("family") or "server")
        ev["error"] = error_class_for_family(family)(str(ev.get("message") or ""), str(ev.get("code")), family=family)
    return ev


def _frame(frame: Any) -> str:
    try:
        return dumps(frame)
    except (TypeError, ValueError) as e:
        raise TypeError(f"send(frame): the frame is not JSON: {e}") from None


def _step(raw: str, on_token: OnToken) -> Optional[Record]:
    """The answer once the engine's chat step ``raw`` ends the chat; else hands its text to ``on_token``."""
    step: Record = loads(raw)
    if step.pop("type") == "done":
        return step
    on_token(str(step.get("content") or ""))
    return None


class _Base:
    __slots__ = ("_n", "_ended")

    def __init__(self, native_socket: Any) -> None:
        self._n = native_socket
        self._ended = False

    @property
    def url(self) -> str:
        """``ws(s)://host/api/gateway/{apiSlug}/ws``."""
        return str(self._n.url)

    @property
    def api_slug(self) -> str:
        return str(self._n.api_slug)

    @property
    def state(self) -> str:
        """``open``, ``closing`` or ``closed``."""
        return str(self._n.state)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url} {self.state}>"


class SyncGatewaySocket(_Base):
    """A gateway chat socket of :class:`~aerostack.SyncAerostackClient`: blocking calls (the GIL
    is released while the engine waits); ``for event in socket`` pulls events until ``closed``."""

    __slots__ = ()

    def chat(self, messages: Sequence[Mapping[str, Any]], model: Optional[str] = None,
             temperature: Optional[float] = None, max_tokens: Optional[int] = None, top_p: Optional[float] = None,
             on_token: Optional[OnToken] = None, timeout: Optional[float] = None) -> Record:
        """A chat over the socket: ``{content, tokens_used, usage}`` once the answer is complete
        (``on_token(text)`` sees each piece first), or the platform's error for it (the socket
        stays usable). ``timeout``: the longest wait between two events (default: the client's).
        Events of other frames that arrive meanwhile are consumed."""
        try:
            if on_token is None:
                reply: Record = loads(self._n.chat(_chat_args(messages, model, temperature, max_tokens, top_p, timeout)))
                return reply
            request = self._n.send_chat(_chat_args(messages, model, temperature, max_tokens, top_p))
            wait = None if timeout is None else seconds_ms("timeout", timeout)
            while True:
                answer = _step(self._n.chat_step(request, wait), on_token)
                if answer is not None:
                    return answer
        except native().NativeError as e:
            raise _from_native(e) from None

    def send_chat(self, messages: Sequence[Mapping[str, Any]], model: Optional[str] = None,
                  temperature: Optional[float] = None, max_tokens: Optional[int] = None,
                  top_p: Optional[float] = None) -> int:
        """Starts a chat; its id (its ``token`` and ``done`` events carry it as ``request``)."""
        try:
            return int(self._n.send_chat(_chat_args(messages, model, temperature, max_tokens, top_p)))
        except native().NativeError as e:
            raise _from_native(e) from None

    def ping(self) -> int:
        """Sends a ping; its id (the ``pong`` event carries it)."""
        try:
            return int(self._n.ping())
        except native().NativeError as e:
            raise _from_native(e) from None

    def send(self, frame: Any) -> int:
        """Sends ``frame`` (a JSON object) as it is; its id."""
        try:
            return int(self._n.send(_frame(frame)))
        except native().NativeError as e:
            raise _from_native(e) from None

    def next_event(self, timeout: Optional[float] = None) -> Optional[Record]:
        """The next event, waiting at most ``timeout`` seconds (None: until one comes); None on
        timeout and after the ``closed`` event."""
        wait = None if timeout is None else seconds_ms("timeout", timeout)
        try:
            return _event(self._n.next_event(wait))
        except native().NativeError as e:
            raise _from_native(e) from None

    def close(self, code: Optional[int] = None, reason: Optional[str] = None) -> None:
        """Closes the socket (``code`` 1000 or 3000-4999) and waits for the platform's answer."""
        try:
            self._n.close(code, reason)
        except native().NativeError as e:
            raise _from_native(e) from None

    def __iter__(self) -> Iterator[Record]:
        while not self._ended:
            ev = self.next_event()
            if ev is None or ev.get("type") == "closed":
                self._ended = True
            if ev is not None:
                yield ev

    def __enter__(self) -> "SyncGatewaySocket":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncGatewaySocket(_Base):
    """A gateway chat socket of :class:`~aerostack.AerostackClient`: awaitable calls (cancelling
    the awaiting task drops the wait, never an event); ``async for event in socket`` pulls
    events until ``closed``."""

    __slots__ = ()

    async def chat(self, messages: Sequence[Mapping[str, Any]], model: Optional[str] = None,
                   temperature: Optional[float] = None, max_tokens: Optional[int] = None,
                   top_p: Optional[float] = None, on_token: Optional[OnToken] = None,
                   timeout: Optional[float] = None) -> Record:
        """A chat over the socket: ``{content, tokens_used, usage}`` once the answer is complete
        (``on_token(text)`` sees each piece first), or the platform's error for it (the socket
        stays usable). ``timeout``: the longest wait between two events (default: the client's).
        Events of other frames that arrive meanwhile are consumed."""
        try:
            if on_token is None:
                args = _chat_args(messages, model, temperature, max_tokens, top_p, timeout)
                reply: Record = loads(await _on_port(lambda port, fut: self._n.chat_async(port, fut, args)))
                return reply
            args = _chat_args(messages, model, temperature, max_tokens, top_p)
            request = await _on_port(lambda port, fut: self._n.send_chat_async(port, fut, args))
            wait = None if timeout is None else seconds_ms("timeout", timeout)
            while True:
                raw = await _on_port(lambda port, fut: self._n.chat_step_async(port, fut, request, wait))
                answer = _step(raw, on_token)
                if answer is not None:
                    return answer
        except native().NativeError as e:
            raise _from_native(e) from None

    async def send_chat(self, messages: Sequence[Mapping[str, Any]], model: Optional[str] = None,
                        temperature: Optional[float] = None, max_tokens: Optional[int] = None,
                        top_p: Optional[float] = None) -> int:
        """Starts a chat; its id (its ``token`` and ``done`` events carry it as ``request``)."""
        args = _chat_args(messages, model, temperature, max_tokens, top_p)
        try:
            return int(await _on_port(lambda port, fut: self._n.send_chat_async(port, fut, args)))
        except native().NativeError as e:
            raise _from_native(e) from None

    async def ping(self) -> int:
        """Sends a ping; its id (the ``pong`` event carries it)."""
        try:
            return int(await _on_port(self._n.ping_async))
        except native().NativeError as e:
            raise _from_native(e) from None

    async def send(self, frame: Any) -> int:
        """Sends ``frame`` (a JSON object) as it is; its id."""
        text = _frame(frame)
        try:
            return int(await _on_port(lambda port, fut: self._n.send_async(port, fut, text)))
        except native().NativeError as e:
            raise _from_native(e) from None

    async def next_event(self, timeout: Optional[float] = None) -> Optional[Record]:
        """The next event, waiting at most ``timeout`` seconds (None: until one comes); None on
        timeout and after the ``closed`` event."""
        wait = None if timeout is None else seconds_ms("timeout", timeout)
        try:
            return _event(await _on_port(lambda port, fut: self._n.next_event_async(port, fut, wait)))
        except native().NativeError as e:
            raise _from_native(e) from None

    async def close(self, code: Optional[int] = None, reason: Optional[str] = None) -> None:
        """Closes the socket (``code`` 1000 or 3000-4999) and waits for the platform's answer."""
        try:
            await _on_port(lambda port, fut: self._n.close_async(port, fut, code, reason))
        except native().NativeError as e:
            raise _from_native(e) from None

    async def __aiter__(self) -> AsyncIterator[Record]:
        while not self._ended:
            ev = await self.next_event()
            if ev is None or ev.get("type") == "closed":
                self._ended = True
            if ev is not None:
                yield ev

    async def __aenter__(self) -> "AsyncGatewaySocket":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


#: Either face (the annotation of ``gateway.connect_websocket`` in ``_api.py``).
GatewaySocket = Union[AsyncGatewaySocket, SyncGatewaySocket]
