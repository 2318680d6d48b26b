"""Realtime (seed 001): channels with listeners, publish, presence, history, and ``socket.emit``.

One :class:`Realtime` per client: one WebSocket (the engine's ``RealtimeClient``) multiplexing
every channel. The engine never calls Python: events wait in its queue and this module pulls
them and runs the listeners —

* :class:`~aerostack.AerostackClient`: an asyncio task on the event loop that first used the
  realtime client (``subscribe()``, ``on()`` or ``events()`` from a coroutine). Plain and
  ``async def`` callbacks both work; coroutines are scheduled as tasks on that loop.
* :class:`~aerostack.SyncAerostackClient`: a daemon thread named ``aerostack-realtime`` that pulls
  with the GIL released and **runs the callbacks on that thread** (an ``async def`` callback is
  run to completion there on a private event loop).

Both faces also offer explicit iteration: ``for event in channel.events()`` (sync) and
``async for event in channel.events()`` (async).

On the async client ``publish()``, ``subscribe()``, ``track()``, ``emit()``, ... start at once and
return an awaitable: awaiting it gives the result (the publish ack), not awaiting it is fine too
(no "never awaited" warning; errors then go unseen). On the sync client they block and return the
result.
"""

from __future__ import annotations

import asyncio
import atexit
import inspect
import logging
import queue as _queue
import threading
import time
import weakref
from datetime import datetime
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Generator,
    Generic,
    Iterator,
    List,
    Optional,
    Set,
    Tuple,
    TypeVar,
    Union,
)

from . import _times
from ._records import Record, dumps, loads
from ._transport import Transport, _on_port, native
from .errors import _from_native
from .utils import seconds_ms

__all__ = ["Realtime", "Channel", "EventStream", "Socket", "Pending"]

T = TypeVar("T")
Callback = Callable[[Record], Any]
def _without_event(f: Callable[[], Any]) -> Callback:
    """A listener that takes no event, as one that does."""
    return lambda _ev: f()


# The `reason` of the error event that ends the connection after `max_reconnect_attempts`
# (the engine's realtime::GAVE_UP).
_GAVE_UP = "max_reconnect_attempts"

logger = logging.getLogger("aerostack.realtime")


def _record(v: Any) -> Record:
    return v if isinstance(v, Record) else Record(v or {})


def _records(v: Any) -> List[Record]:
    return [_record(x) for x in (v or [])]


def _none(v: Any) -> None:
    return None


def _timed(kind: str, shape: Callable[[Any], T]) -> Callable[[Any], T]:
    """``shape`` after the times of a ``kind`` result became ``datetime`` (see ``_times``)."""
    return lambda v: shape(_times.at(kind, v))


def _event(raw: str) -> Record:
    """A pulled event with its times as ``datetime`` (a presence event's data too)."""
    ev = _times.at("realtime.event", loads(raw))
    if ev.get("kind") == "presence":
        _times.at("realtime.presence_event", ev)
    return ev  # type: ignore[no-any-return]


# Options given in seconds here and in milliseconds to the engine.
_SECONDS = frozenset({"heartbeat_interval", "pong_timeout", "connect_timeout", "ack_timeout",
                      "backoff_initial", "backoff_max"})
# "No limit" for engine waits that take one: ten years.
_FOREVER_MS = 10 * 365 * 24 * 3600 * 1000




class Pending(Generic[T]):
    """An engine call that is already running. ``await`` it for the result, call
    :meth:`result` to block for it, or ignore it (the call completes anyway)."""

    __slots__ = ("_task", "_convert", "_outcome")

    def __init__(self, task: Any, convert: Callable[[Any], T]) -> None:
        self._task = task
        self._convert = convert
        self._outcome: Optional[Tuple[bool, Any]] = None  # (ok, value or exception), once known

    def __await__(self) -> Generator[Any, None, T]:
        return self._wait_async().__await__()

    def _settle(self, ok: bool, value: Any) -> T:
        self._outcome = (ok, value)
        if not ok:
            raise value
        result: T = value
        return result

    async def _wait_async(self) -> T:
        if self._outcome is None:
            try:
                # Cancelling the await leaves the call running (abort=False).
                raw = await _on_port(lambda port, fut: self._task.wait_async(port, fut), abort=False)
            except native().NativeError as e:
                return self._settle(False, _from_native(e))
            return self._settle(True, self._convert(loads(raw)))
        return self._settle(*self._outcome)

    def result(self, timeout: Optional[float] = None) -> T:
        """Blocks (GIL released) for the result, at most ``timeout`` seconds."""
        if self._outcome is None:
            try:
                raw = self._task.wait(None if timeout is None else seconds_ms("timeout", timeout))
            except native().NativeError as e:
                err = _from_native(e)
                if err.code == "TIMEOUT" and not self._task.done():
                    raise err from None  # the wait timed out, the call goes on: not settled
                return self._settle(False, err)
            return self._settle(True, self._convert(loads(raw)))
        return self._settle(*self._outcome)

    def done(self) -> bool:
        """Whether the call finished."""
        return bool(self._task.done())

    def cancel(self) -> None:
        """Drops the engine call."""
        self._task.cancel()


class Ready(Generic[T]):
    """A result that is already there, awaitable for symmetry with :class:`Pending`."""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value = value

    def __await__(self) -> Generator[Any, None, T]:
        return self._value
        yield  # pragma: no cover - makes this a generator

    def result(self, timeout: Optional[float] = None) -> T:
        return self._value

    def done(self) -> bool:
        return True


_live: "weakref.WeakSet[Realtime]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:  # pragma: no cover - interpreter exit
    for rt in list(_live):
        rt._stop_dispatch(join=True)


class Realtime:
    """The realtime connection of a client: ``client.realtime.channel("orders")``.

    The socket opens on the first channel (or :meth:`connect`) and reconnects by itself,
    re-subscribing every channel and delivering persisted messages missed meanwhile once.
    """

    def __init__(self, transport: Transport, sync: bool) -> None:
        self._t = transport
        self._sync = sync
        self._options: Dict[str, Any] = {}
        self._n: Any = None
        self._lock = threading.RLock()
        self._channels: Dict[str, "Channel"] = {}
        self._handlers: Dict[int, Callback] = {}
        self._streams: Dict[int, "EventStream"] = {}
        self._status_handlers: List[Callback] = []
        self._gave_up_handlers: List[Callable[[], Any]] = []
        self._task: Optional["asyncio.Task[None]"] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._pending: Set["asyncio.Future[Any]"] = set()
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self._thread_loop: Optional[asyncio.AbstractEventLoop] = None

    # -- setup -----------------------------------------------------------------------------------

    def configure(self, **options: Any) -> "Realtime":
        """Connection settings, before the first channel: ``heartbeat_interval``,
        ``pong_timeout``, ``connect_timeout``, ``ack_timeout``, ``backoff_initial``, ``backoff_max``
        (seconds), ``backoff_factor``, ``max_reconnect_attempts``, ``event_capacity``,
        ``outbox_capacity``, ``dedup_capacity``, ``catch_up`` (bool), ``token`` (end-user JWT),
        ``user_id``."""
        if self._n is not None:
            raise RuntimeError("client.realtime.configure() must come before the first channel() or connect()")
        self._options.update(options)
        return self

    def _native(self) -> Any:
        with self._lock:
            if self._n is None:
                options = {(f"{k}_ms" if k in _SECONDS else k): (seconds_ms(k, v) if k in _SECONDS else v)
                           for k, v in self._options.items()}
                try:
                    self._n = native().NativeRealtime(self._t.native, dumps(options))
                except native().NativeError as e:
                    raise _from_native(e) from None
                _live.add(self)
            return self._n

    def _task_result(self, task: Any, convert: Callable[[Any], T]) -> Any:
        p: Pending[T] = Pending(task, convert)
        return p.result() if self._sync else p

    # -- API -------------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """``idle``, ``connecting``, ``connected``, ``reconnecting`` or ``disconnected``."""
        return "idle" if self._n is None else str(self._n.status)

    @property
    def dropped_events(self) -> int:
        """Events dropped because the listeners did not keep up (the queue holds 10 000)."""
        return 0 if self._n is None else int(self._n.dropped_events)

    def channel(self, name: str, filter: Union[Record, str, None] = None) -> "Channel":
        """The channel of ``name``: a table (``"orders"``: its INSERT/UPDATE/DELETE events) or a
        room path (``"chat/general"``). The same object for the same name.

        ``filter`` (a table's row filter, the official ``channel(topic, filter)``): only the rows
        it matches arrive, e.g. ``{"status": "open", "priority": "gte.3"}`` (operators ``eq``,
        ``neq``, ``gt``, ``gte``, ``lt``, ``lte``, ``in.(1,2)``, ``is.null``) or
        ``"status=eq.open"``. It replaces the channel's filter (``{}`` removes it); the platform
        refuses an unknown column with an ``error`` event."""
        with self._lock:
            ch = self._channels.get(name)
            if ch is None or filter is not None:
                try:
                    handle = self._native().channel(name, dumps(filter))
                except native().NativeError as e:
                    raise _from_native(e) from None
                if ch is None:
                    ch = Channel(self, handle, name)
                    self._channels[name] = ch
            return ch

    def connect(self) -> Any:
        """Opens the socket and waits until connected (awaitable on the async client)."""
        self._ensure_dispatch()
        return self._task_result(self._native().connect(), _none)

    def disconnect(self) -> Any:
        """Closes the socket and stops reconnecting; channels are kept for a later :meth:`connect`."""
        if self._n is None:
            return None if self._sync else Ready(None)
        return self._task_result(self._n.disconnect(), _none)

    def close(self) -> None:
        """Stops the listeners and closes the socket (not awaitable; the socket closes in the
        background)."""
        self._stop_dispatch(join=False)
        if self._n is not None:
            self._n.disconnect()

    def set_token(self, token: str) -> None:
        """Acts as the end user of ``token`` (sent on the live socket and used on reconnects)."""
        self._native().set_token(token)

    def on_status(self, callback: Callback) -> Callback:
        """Calls ``callback(event)`` on every connection status change (``event.status``).
        Usable as a decorator."""
        self._status_handlers.append(callback)
        self._ensure_dispatch()
        return callback

    def on_status_change(self, callback: Callable[[str], Any]) -> Callable[[str], Any]:
        """The official client's name: ``callback(status)`` (``connecting``, ``connected``,
        ``reconnecting``, ``disconnected``) on every change. Usable as a decorator."""
        self.on_status(lambda ev: callback(str(ev.get("status") or "")))
        return callback

    def on_max_retries_exceeded(self, callback: Callable[[], Any]) -> Callable[[], Any]:
        """``callback()`` once the connection gives up after ``max_reconnect_attempts`` failed
        reconnects (a :meth:`configure` option). Usable as a decorator."""
        self._gave_up_handlers.append(callback)
        self._ensure_dispatch()
        return callback

    def send_chat(self, room_id: str, text: str, metadata: Optional[Record] = None) -> None:
        """The official ``send_chat``: ``text`` (and ``metadata``) as a persisted ``message``
        event of chat room ``room_id``, for the room's subscribers (:meth:`chat_room`)."""
        self._native().send_chat(room_id, text, dumps(metadata))

    def chat_room(self, room_id: str) -> "Channel":
        """The channel of chat room ``room_id`` (``chat/{room_id}``), where :meth:`send_chat`
        messages arrive as ``message`` events."""
        return self.channel(f"chat/{room_id}")

    # -- dispatch --------------------------------------------------------------------------------

    def _ensure_dispatch(self) -> None:
        n = self._native()
        if self._sync:
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._stop = threading.Event()
                    # The thread holds the Realtime weakly: once the client is gone it ends (within
                    # 0.2 s) and drops the native client, which closes the socket.
                    self._thread = threading.Thread(
                        target=Realtime._run_thread, args=(weakref.ref(self), n, self._stop),
                        name="aerostack-realtime", daemon=True,
                    )
                    self._thread.start()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: started by the next subscribe()/on()/events() in a coroutine
        task, old = self._task, self._loop
        if task is not None and not task.done() and old is loop:
            return
        if task is not None and not task.done() and old is not None and not old.is_closed():
            old.call_soon_threadsafe(task.cancel)
        self._loop = loop
        self._task = loop.create_task(self._run_async(n), name="aerostack-realtime")

    async def _run_async(self, n: Any) -> None:
        while True:
            raw = await _on_port(lambda port, fut: n.next_event_async(port, fut))
            if raw is None:
                return
            self._dispatch(_event(raw))

    @staticmethod
    def _run_thread(ref: "weakref.ReferenceType[Realtime]", n: Any, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                raw = n.next_event(200)
            except BaseException:  # noqa: BLE001 - interpreter shutdown, a fork: stop quietly
                break
            rt = ref()
            if rt is None:
                break
            if raw is not None:
                rt._dispatch(_event(raw))
            del rt
        rt = ref()
        if rt is not None and rt._thread_loop is not None:
            rt._thread_loop.close()
            rt._thread_loop = None

    def _stop_dispatch(self, join: bool) -> None:
        self._stop.set()
        t = self._thread
        if join and t is not None and t is not threading.current_thread():
            t.join(timeout=2)
        task, loop = self._task, self._loop
        self._task = None
        if task is not None and not task.done() and loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:
                pass

    def _dispatch(self, ev: Record) -> None:
        for lid in ev.get("listeners") or ():
            cb = self._handlers.get(lid)
            if cb is not None:
                self._invoke(cb, ev)
            stream = self._streams.get(lid)
            if stream is not None:
                stream._put(ev)
        if ev.get("kind") == "status":
            for cb in list(self._status_handlers):
                self._invoke(cb, ev)
        elif ev.get("kind") == "error" and (ev.get("data") or {}).get("reason") == _GAVE_UP:
            for gave_up in list(self._gave_up_handlers):
                self._invoke(_without_event(gave_up), ev)

    def _invoke(self, cb: Callback, ev: Record) -> None:
        try:
            r = cb(ev)
        except Exception:
            logger.exception("realtime listener %r failed on %s %s", cb, ev.get("event"), ev.get("topic"))
            return
        if not inspect.isawaitable(r):
            return
        if self._sync:
            if self._thread_loop is None:
                self._thread_loop = asyncio.new_event_loop()
            try:
                self._thread_loop.run_until_complete(r)
            except Exception:
                logger.exception("realtime listener %r failed on %s %s", cb, ev.get("event"), ev.get("topic"))
            return
        fut = asyncio.ensure_future(r)
        self._pending.add(fut)
        fut.add_done_callback(self._finished)

    def _finished(self, fut: "asyncio.Future[Any]") -> None:
        self._pending.discard(fut)
        if not fut.cancelled() and fut.exception() is not None:
            logger.error("realtime listener failed", exc_info=fut.exception())

    def __repr__(self) -> str:
        return f"<Realtime {self.status}, channels={list(self._channels)}>"


class Channel:
    """One topic: listeners (:meth:`on`), :meth:`publish`, presence (:meth:`track`), history."""

    def __init__(self, rt: Realtime, native_channel: Any, name: str) -> None:
        self._rt = rt
        self._n = native_channel
        self.name = name
        self._ids: Dict[Any, List[int]] = {}

    @property
    def topic(self) -> str:
        """The full topic (``table/orders/<projectId>``, ``chat/general/<projectId>``)."""
        return str(self._n.topic)

    @property
    def is_subscribed(self) -> bool:
        """Whether the platform confirmed the subscription on the current socket."""
        return bool(self._n.is_subscribed)

    def on(self, event: str, callback: Optional[Callback] = None) -> Any:
        """Calls ``callback(payload)`` for ``event``: a published name, ``INSERT`` / ``UPDATE`` /
        ``DELETE``, ``presence:join`` / ``presence:leave`` / ``presence:sync`` / ``presence:*``,
        ``*`` (all of those), ``subscribed`` or ``error``. ``payload`` is a Record:
        ``payload.data``, ``.event``, ``.topic``, ``.old`` (UPDATE/DELETE), ``.user_id``, ``.id``,
        ``.timestamp``, ``.persisted``, ``.replayed``.

        Use as a decorator (``@channel.on("INSERT")``) or call with the callback; returns it.
        """
        if callback is None:
            def decorate(fn: Callback) -> Callback:
                self.on(event, fn)
                return fn

            return decorate
        lid = int(self._n.on(event))
        self._rt._handlers[lid] = callback
        self._ids.setdefault(callback, []).append(lid)
        self._rt._ensure_dispatch()
        return callback

    def off(self, callback: Union[Callback, int, None] = None) -> None:
        """Removes the listener(s) of ``callback`` (or a listener id); all of them when None."""
        if callback is None:
            ids = [i for lst in self._ids.values() for i in lst]
            self._ids.clear()
        elif isinstance(callback, int):
            ids = [callback]
            for lst in self._ids.values():
                if callback in lst:
                    lst.remove(callback)
        else:
            ids = self._ids.pop(callback, [])
        for i in ids:
            self._n.off(i)
            self._rt._handlers.pop(i, None)

    def subscribe(self, timeout: Optional[float] = 10.0) -> Any:
        """Starts delivering events to the listeners. The subscription itself began with
        :meth:`Realtime.channel`; awaiting this (async client) or the call itself (sync client)
        waits until the platform confirmed it, at most ``timeout`` seconds."""
        self._rt._ensure_dispatch()
        # The engine waits for the platform's answer: a refused topic raises its error at once.
        task = self._n.wait_subscribed(_FOREVER_MS if timeout is None else seconds_ms("timeout", timeout))
        return self._rt._task_result(task, lambda _: self)

    def publish(self, event: str, data: Any = None, *, persist: bool = False,
                timeout: Optional[float] = None) -> Any:
        """Sends ``event`` with ``data`` to the other subscribers (``persist=True`` keeps it for
        :meth:`get_history` and catch-up). Queued at once, also while disconnected; the result
        is the platform's ack ``{id, timestamp, persisted}`` (awaitable on the async client)."""
        self._rt._ensure_dispatch()
        try:
            options = {"persist": persist, "timeout_ms": None if timeout is None else seconds_ms("timeout", timeout)}
            task = self._n.publish(event, dumps(data), dumps(options))
        except native().NativeError as e:
            raise _from_native(e) from None
        return self._rt._task_result(task, _timed("realtime.publish", _record))

    def track(self, state: Optional[Dict[str, Any]] = None) -> Any:
        """Be present here with ``state`` (a dict); others get ``presence:join``. Kept across
        reconnects. Done at once (awaitable on the async client for symmetry)."""
        try:
            self._n.track(dumps(state))
        except native().NativeError as e:
            raise _from_native(e) from None
        self._rt._ensure_dispatch()
        return None if self._rt._sync else Ready(None)

    def untrack(self) -> Any:
        """Stop being present (others get ``presence:leave``)."""
        try:
            self._n.untrack()
        except native().NativeError as e:
            raise _from_native(e) from None
        return None if self._rt._sync else Ready(None)

    def presence(self) -> List[Record]:
        """Everyone present (``{key, state, user_id, joined_at}``), oldest first. Local state: no
        call, never awaited."""
        return _records(loads(self._n.presence(), "realtime.presence"))

    def get_history(self, limit: Optional[int] = None, before: Union[datetime, int, None] = None) -> Any:
        """Persisted messages, newest first (``{id, room_id, user_id, event, data,
        created_at}``, ``created_at`` a ``datetime``); page back with ``before=last.created_at``
        (a ``datetime``, or unix milliseconds)."""
        self._rt._ensure_dispatch()
        task = self._n.history(limit, _times.unix_ms("before", before))
        return self._rt._task_result(task, _timed("realtime.history", _records))

    history = get_history

    def unsubscribe(self) -> Any:
        """Leaves the topic (no more events; presence untracked)."""
        self.off()
        try:
            self._n.unsubscribe()
        except native().NativeError as e:
            raise _from_native(e) from None
        with self._rt._lock:
            if self._rt._channels.get(self.name) is self:
                del self._rt._channels[self.name]
        return None if self._rt._sync else Ready(None)

    def events(self, event: str = "*", timeout: Optional[float] = None) -> "EventStream":
        """The events matching ``event`` (see :meth:`on`) as an iterator: ``for ev in
        channel.events()`` (sync client) or ``async for ev in channel.events()`` (async client).
        With ``timeout`` the iteration ends after that many seconds without an event. Close it
        (``with``/``break`` + :meth:`EventStream.close`) to stop collecting."""
        return EventStream(self, event, timeout)

    def __repr__(self) -> str:
        return f"<Channel {self.topic}>"


class EventStream:
    """Events of one channel filter, pulled by iteration (see :meth:`Channel.events`)."""

    def __init__(self, channel: Channel, event: str, timeout: Optional[float]) -> None:
        self._ch = channel
        self._timeout = timeout
        self._sync = channel._rt._sync
        self._q: Any = _queue.Queue() if self._sync else None
        self._early: List[Record] = []
        self._closed = False
        self._lid = int(channel._n.on(event))
        channel._rt._streams[self._lid] = self
        channel._rt._ensure_dispatch()

    def _put(self, ev: Record) -> None:
        if self._sync:
            self._q.put(ev)
        elif self._q is None:
            self._early.append(ev)
        else:
            self._q.put_nowait(ev)

    def close(self) -> None:
        """Stops collecting events."""
        if not self._closed:
            self._closed = True
            self._ch._n.off(self._lid)
            self._ch._rt._streams.pop(self._lid, None)

    def __iter__(self) -> Iterator[Record]:
        return self

    def __next__(self) -> Record:
        if not self._sync:
            raise TypeError("use `async for` with AerostackClient (plain `for` is for SyncAerostackClient)")
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while not self._closed:
            wait = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if wait <= 0:
                break
            try:
                ev: Record = self._q.get(timeout=wait)
                return ev
            except _queue.Empty:
                continue
        raise StopIteration

    def __aiter__(self) -> AsyncIterator[Record]:
        return self

    async def __anext__(self) -> Record:
        if self._sync:
            raise TypeError("use a plain `for` with SyncAerostackClient (`async for` is for AerostackClient)")
        if self._q is None:
            self._q = asyncio.Queue()
            for early in self._early:
                self._q.put_nowait(early)
            self._early.clear()
        self._ch._rt._ensure_dispatch()
        if self._closed:
            raise StopAsyncIteration
        try:
            ev: Record = await asyncio.wait_for(self._q.get(), self._timeout)
            return ev
        except asyncio.TimeoutError:
            raise StopAsyncIteration from None

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> "EventStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()


class Socket:
    """Server-side broadcast: ``client.socket.emit(event, data, room)`` (``POST /v1/realtime/emit``)."""

    def __init__(self, transport: Transport, sync: bool) -> None:
        self._t = transport
        self._sync = sync

    def emit(self, event: str, data: Any = None, room: str = "", *, persist: bool = False) -> Any:
        """Sends ``event`` with ``data`` to every subscriber of ``room`` (normalised like a
        channel name). Started at once; the result ``{id, topic, timestamp, delivered,
        persisted}`` is awaitable on the async client."""
        payload = self._t._args({"event": event, "data": data, "room": room, "persist": persist})
        try:
            task = self._t.native.spawn("realtime.emit", payload)
        except native().NativeError as e:
            raise _from_native(e) from None
        p: Pending[Record] = Pending(task, _timed("realtime.emit", _record))
        return p.result() if self._sync else p
