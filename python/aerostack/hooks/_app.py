"""The hook registry and its serving loop (see :mod:`aerostack.hooks`)."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Type, TypeVar, Union, overload

from .. import _records
from .._transport import _on_port, client_config, native
from ..errors import _from_native
from ..utils import seconds_ms
from ._sdk import AsyncSdk, SyncSdk

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("aerostack.hooks")

# How long one pull waits before the loop looks at its stop flag again (milliseconds).
_PULL_WAIT_MS = 200
# On stop the engine drains (no new work; what arrived is finished and answered) and closes the
# connection after this grace period whatever still runs (milliseconds).
_STOP_GRACE_MS = 30_000


def job_type_from_function_name(name: str) -> str:
    """The queue job type a function named ``name`` serves: ``send_welcome_email`` and
    ``sendWelcomeEmail`` serve ``send-welcome-email`` (the same mapping in every SDK)."""
    return str(native().job_type_from_function_name(name))


def _is_async(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))


class _Handler:
    __slots__ = ("fn", "is_async", "spec")

    def __init__(self, fn: Callable[..., Any], spec: Dict[str, Any]) -> None:
        self.fn = fn
        self.is_async = _is_async(fn)
        self.spec = spec


def _timeout_ms(timeout: Optional[float]) -> Optional[int]:
    return None if timeout is None else seconds_ms("timeout", timeout)


class Hooks:
    """A set of Logic Modules and queue workers, served by :meth:`run` / :meth:`serve`.

    ::

        hooks = Hooks()

        @hooks.module("search-products", methods=["POST", "GET"], public=True)
        async def search(sdk, event):
            rows = await sdk.db.query("SELECT ...", [event.data.get("q")])
            return {"results": rows, "count": len(rows)}

        @hooks.job                      # serves jobs of type "send-welcome-email"
        def send_welcome_email(sdk, job): ...

        hooks.run()                     # blocks; Ctrl-C / SIGTERM drain gracefully
    """

    def __init__(self, *, concurrency: int = 4, label: Optional[str] = None) -> None:
        self.concurrency = concurrency
        self.label = label
        self._modules: Dict[str, _Handler] = {}
        self._jobs: Dict[str, _Handler] = {}

    # -- registration ------------------------------------------------------------------------

    def module(self, slug: str, *, name: Optional[str] = None, methods: Optional[Sequence[str]] = None,
               public: bool = False, allow_get: bool = False, trigger: str = "api",
               timeout: Optional[float] = None) -> Callable[[F], F]:
        """Registers a Logic Module at ``slug``: a custom API (``POST /custom/{slug}`` and
        ``services.invoke``), or with ``trigger`` a platform event such as
        ``auth.register.after``. ``methods`` defaults to ``["POST"]``; ``allow_get`` adds GET;
        ``public`` lets callers without an API key in; ``timeout`` in seconds (platform default 30)."""
        ms = [m.upper() for m in (methods or ["POST"])]
        if allow_get and "GET" not in ms:
            ms.append("GET")
        spec: Dict[str, Any] = {"slug": slug, "methods": ms, "public": bool(public), "trigger": trigger}
        if name is not None:
            spec["name"] = name
        t = _timeout_ms(timeout)
        if t is not None:
            spec["timeout_ms"] = t

        def register(fn: F) -> F:
            self._modules[slug] = _Handler(fn, spec)
            return fn

        return register

    def on_event(self, event: str, slug: Optional[str] = None, *, timeout: Optional[float] = None) -> Callable[[F], F]:
        """Registers a handler of the platform event ``event`` (e.g. ``auth.register.after``);
        ``slug`` defaults to the function's name."""

        def register(fn: F) -> F:
            s = slug or job_type_from_function_name(fn.__name__)
            return self.module(s, trigger=event, timeout=timeout)(fn)

        return register

    @overload
    def job(self, name: F) -> F: ...

    @overload
    def job(self, name: Optional[str] = None, *, timeout: Optional[float] = None) -> Callable[[F], F]: ...

    def job(self, name: Union[str, F, None] = None, *, timeout: Optional[float] = None) -> Any:
        """Registers a queue worker for jobs of type ``name``; without a name (``@hooks.job``),
        the function's name decides: ``send_welcome_email`` serves ``send-welcome-email``."""

        def register(fn: F, job_type: Optional[str] = None) -> F:
            jt = job_type or job_type_from_function_name(fn.__name__)
            spec: Dict[str, Any] = {"type": jt}
            t = _timeout_ms(timeout)
            if t is not None:
                spec["timeout_ms"] = t
            self._jobs[jt] = _Handler(fn, spec)
            return fn

        if callable(name):
            return register(name)
        return lambda fn: register(fn, name)

    def registrations(self, concurrency: Optional[int] = None) -> Dict[str, Any]:
        """What this registry serves, as the worker protocol's ``register`` frame fields."""
        reg: Dict[str, Any] = {
            "modules": [h.spec for h in self._modules.values()],
            "jobs": [h.spec for h in self._jobs.values()],
            "concurrency": int(concurrency if concurrency is not None else self.concurrency),
        }
        if self.label:
            reg["label"] = self.label
        return reg

    def _handler(self, kind: str, name: str) -> Optional[_Handler]:
        return self._jobs.get(name) if kind == "job" else self._modules.get(name)

    # -- serving -----------------------------------------------------------------------------

    async def serve(self, *, api_key: Optional[str] = None, base_url: Optional[str] = None,
                    project_id: Optional[str] = None, server_index: Optional[int] = None,
                    concurrency: Optional[int] = None, max_threads: Optional[int] = None,
                    stop: Optional[asyncio.Event] = None, handle_signals: bool = True,
                    ready: Optional[Callable[[Any], None]] = None) -> None:
        """Connects (``api_key``/``base_url`` fall back to ``AEROSTACK_API_KEY`` /
        ``AEROSTACK_API_URL``), registers, and serves until ``stop`` is set (or SIGINT/SIGTERM
        when ``handle_signals`` and on the main thread); then drains: no new work, what arrived is
        finished and answered. ``async def`` handlers run on this loop, plain ``def`` handlers in
        a thread pool of ``max_threads`` (default 16)."""
        if not self._modules and not self._jobs:
            raise ValueError("nothing to serve: register a handler with @hooks.module(...) or @hooks.job first")
        cfg = client_config(api_key=api_key, project_id=project_id, base_url=base_url, server_index=server_index)
        reg = self.registrations(concurrency)
        nat = native()
        try:
            worker = await _on_port(lambda port, fut: nat.NativeWorker.connect_async(
                port, fut, _records.dumps(cfg), _records.dumps(reg)))
        except nat.NativeError as e:
            raise _from_native(e) from None
        loop = asyncio.get_running_loop()
        stop = stop or asyncio.Event()
        installed: List[signal.Signals] = []
        if handle_signals and threading.current_thread() is threading.main_thread():
            current = asyncio.current_task()

            def on_signal() -> None:
                if stop.is_set() and current is not None:
                    current.cancel()  # a second Ctrl-C: stop now
                stop.set()

            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(sig, on_signal)
                    installed.append(sig)
                except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover - Windows
                    pass
        pool = ThreadPoolExecutor(max_workers=max_threads or 16, thread_name_prefix="aerostack-hook")
        tasks: Set["asyncio.Task[None]"] = set()
        drain: Optional["asyncio.Future[Any]"] = None
        log.info("serving %d module(s), %d job type(s) for project %s",
                 len(self._modules), len(self._jobs), worker.project_id)
        if ready is not None:
            ready(worker)
        try:
            while True:
                if stop.is_set() and drain is None:
                    # The engine drains: the platform sends no new work, and what arrived is
                    # still pulled here and answered before the connection closes.
                    log.info("stopping: finishing %d invocation(s) in flight", len(tasks))
                    drain = asyncio.ensure_future(
                        _on_port(lambda port, fut: worker.stop_async(port, fut, _STOP_GRACE_MS)))
                inv = await _on_port(lambda port, fut: worker.next_invocation_async(port, fut, _PULL_WAIT_MS))
                if inv is not None:
                    task = loop.create_task(self._dispatch(worker, inv, pool))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                elif worker.is_closed():
                    break
            if tasks:
                # The worker is closed: only handlers past their deadline can still run (the drain
                # waited for the rest); their answers can no longer be delivered.
                await asyncio.wait(set(tasks), timeout=1.0)
                for t in tasks:
                    t.cancel()
            if drain is not None:
                await drain
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
            pool.shutdown(wait=False)
            if drain is None or not drain.done():
                # Cancelled or failed: close the connection now (unanswered jobs are redelivered).
                for t in tasks:
                    t.cancel()
            log.info("stopped")

    async def _dispatch(self, worker: Any, inv: Any, pool: ThreadPoolExecutor) -> None:
        h = self._handler(inv.kind, inv.name)
        if h is None:
            _answer(worker.fail, inv.id, f"this worker has no handler for {inv.kind} {inv.name!r}")
            return
        try:
            event = _records.loads(inv.event_json, "worker.invocation")
            if h.is_async:
                result = await h.fn(AsyncSdk(inv), event)
            else:
                ctx = contextvars.copy_context()
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(pool, ctx.run, h.fn, SyncSdk(inv), event)
                if inspect.isawaitable(result):
                    result = await result
            payload = _records.dumps(result)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            # One line per failed attempt (a job that fails on purpose is retried: no traceback
            # flood); the traceback at debug.
            log.warning("%s %s failed: %s: %s", inv.kind, inv.name, type(e).__name__, " ".join(str(e).split()))
            log.debug("%s %s traceback", inv.kind, inv.name, exc_info=True)
            _answer(worker.fail, inv.id, str(e) or type(e).__name__)
        else:
            _answer(worker.complete, inv.id, payload)

    def run(self, **options: Any) -> None:
        """Serves until Ctrl-C or SIGTERM, then drains (blocking). Same options as :meth:`serve`."""
        try:
            asyncio.run(self.serve(**options))
        except (KeyboardInterrupt, asyncio.CancelledError):  # pragma: no cover - a second Ctrl-C
            log.warning("stopped without draining")

    def start(self, *, timeout: float = 30.0, **options: Any) -> "BackgroundWorker":
        """Serves on a background thread (its own event loop); returns once registered.
        ``worker.stop()`` drains and joins. Same options as :meth:`serve`."""
        bg = BackgroundWorker(self, options)
        bg._start(timeout)
        return bg


def _answer(fn: Callable[[str, str], None], inv_id: str, value: str) -> None:
    try:
        fn(inv_id, value)
    except Exception as e:  # the connection dropped: the platform redelivers or already answered
        log.warning("could not answer invocation %s: %s", inv_id, e)


class BackgroundWorker:
    """A :class:`Hooks` registry served on a background thread (see :meth:`Hooks.start`)."""

    def __init__(self, hooks: Hooks, options: Dict[str, Any]) -> None:
        self._hooks = hooks
        self._options = dict(options)
        self._options["handle_signals"] = False
        self._ready = threading.Event()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stop: Optional[asyncio.Event] = None
        self.error: Optional[BaseException] = None
        self.project_id: Optional[str] = None
        self._thread = threading.Thread(target=self._main, name="aerostack-hooks", daemon=True)

    def _start(self, timeout: float) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise TimeoutError(f"the hooks worker did not register within {timeout} s")
        if self.error is not None:
            raise self.error

    def _main(self) -> None:
        try:
            asyncio.run(self._amain())
        except BaseException as e:
            self.error = e
            if not self._ready.is_set():
                self._ready.set()
            else:
                log.error("the hooks worker stopped: %s", e)

    async def _amain(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        def ready(worker: Any) -> None:
            self.project_id = worker.project_id
            self._ready.set()

        await self._hooks.serve(stop=self._stop, ready=ready, **self._options)

    @property
    def running(self) -> bool:
        """Whether the serving thread is alive."""
        return self._thread.is_alive()

    def stop(self, timeout: Optional[float] = 30.0) -> None:
        """Drains (what arrived is finished and answered) and joins the thread."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop already ended
                pass
        self._thread.join(timeout)

    def __enter__(self) -> "BackgroundWorker":
        return self

    def __exit__(self, et: Optional[Type[BaseException]], e: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.stop()
