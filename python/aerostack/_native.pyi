"""Type stubs of the Rust extension ``aerostack._native`` (bindings/python).

Type conversion only: operations are named as in ``operations()`` and take JSON arguments (the
engine's snake_case names); answers are JSON text. The Python package builds its API on top.
"""

import asyncio
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, Union

__version__: str

class NativeError(Exception):
    """Every engine failure. ``args`` = (message, code, status, request_id, retryable,
    retry_after seconds, details JSON, body, family)."""

    args: Tuple[str, str, Optional[int], Optional[str], bool, Optional[float], Optional[str], Optional[str], str]

class NativePort:
    """The completion queue of one asyncio loop: watch ``fileno()`` with ``loop.add_reader`` and
    call ``drain()`` from it; finished calls resolve their futures there."""

    def __init__(self) -> None: ...
    def fileno(self) -> int: ...
    def drain(self) -> None: ...

class NativeCall:
    """A call in flight on a port."""

    def abort(self) -> None:
        """Drops the engine's future (and its request)."""

class NativeStream:
    """A streamed operation; items are JSON text, ``None`` at the end."""

    def next(self) -> Optional[str]: ...
    def next_async(self, port: NativePort, fut: "asyncio.Future[Optional[str]]") -> NativeCall: ...
    def close(self) -> None: ...

class NativeGatewaySocket:
    """A gateway chat socket: sends return the id of their frame; events are JSON text."""

    @property
    def url(self) -> str: ...
    @property
    def api_slug(self) -> str: ...
    @property
    def state(self) -> str:
        """open, closing or closed."""
    def send_chat(self, args_json: str) -> int: ...
    def send_chat_async(self, port: NativePort, fut: "asyncio.Future[int]", args_json: str) -> NativeCall: ...
    def chat(self, args_json: str) -> str:
        """A chat, collected: ``{content, tokens_used, usage}`` as JSON."""
    def chat_async(self, port: NativePort, fut: "asyncio.Future[str]", args_json: str) -> NativeCall: ...
    def chat_step(self, request: int, timeout_ms: Optional[int] = None) -> str:
        """The next step of chat ``request``: ``{type: token, content}`` or, at its end, ``{type: done, ...}``."""
    def chat_step_async(self, port: NativePort, fut: "asyncio.Future[str]", request: int,
                        timeout_ms: Optional[int] = None) -> NativeCall: ...
    def ping(self) -> int: ...
    def ping_async(self, port: NativePort, fut: "asyncio.Future[int]") -> NativeCall: ...
    def send(self, frame_json: str) -> int: ...
    def send_async(self, port: NativePort, fut: "asyncio.Future[int]", frame_json: str) -> NativeCall: ...
    def next_event(self, timeout_ms: Optional[int] = None) -> Optional[str]:
        """The next event's JSON; None on timeout and after the ``closed`` event."""
    def next_event_async(self, port: NativePort, fut: "asyncio.Future[Optional[str]]",
                         timeout_ms: Optional[int] = None) -> NativeCall: ...
    def close(self, code: Optional[int] = None, reason: Optional[str] = None) -> None: ...
    def close_async(self, port: NativePort, fut: "asyncio.Future[None]", code: Optional[int] = None,
                    reason: Optional[str] = None) -> NativeCall: ...

# progress(sent, total): bytes sent so far and the upload's size. Every source Python offers
# (bytes, a path, a binary file) has a known size, so `total` is always an int.
Progress = Callable[[int, int], Any]

class NativeHostedCall:
    """An operation whose HTTP requests the host performs: ``next()`` gives
    ``(id, method, url, headers, body)`` to send, or the JSON answer (``str``) when done."""

    def next(self) -> Union[str, Tuple[int, str, str, List[Tuple[str, str]], bytes]]: ...
    def next_async(self, port: NativePort, fut: "asyncio.Future[Any]") -> NativeCall: ...
    def respond(self, id: int, status: int, headers: List[Tuple[str, str]], body: bytes) -> None: ...
    def fail(self, id: int, message: str) -> None: ...

class NativeClient:
    """One engine client (one connection pool). ``config_json``: the engine's ClientConfig.

    Blocking methods release the GIL; ``*_async`` methods start the call and resolve the asyncio
    future ``fut`` through ``port`` (returning a handle whose ``abort()`` cancels it)."""

    def __init__(self, options_json: str) -> None: ...
    def with_options(self, call_options_json: str) -> "NativeClient": ...
    def spawn(self, op: str, args_json: str) -> "NativeTask":
        """``call`` started at once: await it (``wait_async``), wait for it, or ignore it."""
    def call(self, op: str, args_json: str) -> str:
        """Runs an operation; the JSON answer."""
    def call_async(self, port: NativePort, fut: "asyncio.Future[str]", op: str, args_json: str) -> NativeCall: ...
    def upload(self, args_json: str, data: Optional[bytes] = None, progress: Optional[Progress] = None) -> str:
        """``storage.upload`` from ``data``, or from the file at ``args.path`` when ``data`` is None."""
    def upload_async(self, port: NativePort, fut: "asyncio.Future[str]", args_json: str,
                     data: Optional[bytes] = None, progress: Optional[Progress] = None) -> NativeCall: ...
    def download(self, args_json: str) -> Tuple[bytes, Optional[str]]:
        """``storage.get``: (content, content type)."""
    def download_async(self, port: NativePort, fut: "asyncio.Future[Tuple[bytes, Optional[str]]]",
                       args_json: str) -> NativeCall: ...
    def hosted(self, op: str, args_json: str) -> NativeHostedCall:
        """Starts an operation whose HTTP requests the host performs with its own client."""
    def hosted_upload(self, args_json: str, data: Optional[bytes] = None) -> NativeHostedCall:
        """``upload`` with its HTTP requests performed by the host."""
    def stream(self, op: str, args_json: str) -> NativeStream:
        """Opens a streamed operation (``ai.chat_stream``)."""
    def stream_async(self, port: NativePort, fut: "asyncio.Future[NativeStream]", op: str, args_json: str) -> NativeCall: ...
    def gateway_socket(self, api_slug: str, consumer_key: Optional[str] = None) -> NativeGatewaySocket:
        """Opens a gateway API's chat socket (a refused key raises here)."""
    def gateway_socket_async(self, port: NativePort, fut: "asyncio.Future[NativeGatewaySocket]", api_slug: str,
                             consumer_key: Optional[str] = None) -> NativeCall: ...

class LocalPlatform:
    """The local platform in-process, on its own threads. ``options_json``: host, port (0 = free),
    data_dir, ephemeral, project_dir, print_banner, require_email_verification, ai_base_url,
    ai_api_key, ai_model, max_upload_bytes, rate_limits ({name: [count, window_ms]}), from_env."""

    url: str
    api_url: str
    project_id: str
    project_slug: str
    api_key: str
    data_dir: str
    running: bool
    def __init__(self, options_json: str = "{}") -> None: ...
    def create_project(self, name: str) -> Dict[str, Any]: ...
    def shutdown(self) -> None: ...

def engine_version() -> str: ...
def operations() -> List[str]: ...
def rate_limits_from_flags(specs: List[str], no_rate_limits: bool) -> str:
    """``--rate-limit`` specs and ``--no-rate-limits`` as ``{name: [count, window_ms]}`` JSON."""
def rate_limit_help() -> str:
    """The help text of the rate-limit flags."""
def engine_option_names() -> List[Tuple[str, Optional[str]]]: ...
def rest_operations() -> List[str]:
    """The REST operations of the operation-style ``SDK``, as ``group.name``."""
def time_fields() -> List[Tuple[str, List[str]]]:
    """Where the times are in each result type: ``(result type, paths)``."""

# Workers (bindings/python/src/worker.rs): the Python loop pulls invocations and answers them.

class NativeWorker:
    """A connected worker. ``registration_json``: ``{modules, jobs, concurrency, label, ...}``."""

    project_id: Optional[str]
    @staticmethod
    def connect(options_json: str, registration_json: str) -> "NativeWorker": ...
    @staticmethod
    def connect_async(port: NativePort, fut: "asyncio.Future[NativeWorker]", options_json: str,
                      registration_json: str) -> NativeCall: ...
    def next_invocation(self, timeout_ms: Optional[int] = None) -> Optional["NativeInvocation"]:
        """None after ``timeout_ms`` or once the worker stopped (see ``is_closed``)."""
    def next_invocation_async(self, port: NativePort, fut: "asyncio.Future[Optional[NativeInvocation]]",
                              timeout_ms: Optional[int] = None) -> NativeCall: ...
    def complete(self, id: str, result_json: str) -> None: ...
    def fail(self, id: str, message: str) -> None: ...
    def drain(self) -> None: ...
    def stop(self, grace_ms: int) -> None: ...
    def stop_async(self, port: NativePort, fut: "asyncio.Future[None]", grace_ms: int) -> NativeCall: ...
    def is_closed(self) -> bool: ...

class NativeInvocation:
    """One call to user code: ``kind`` is custom, service, event or job."""

    id: str
    kind: str
    name: str
    project_id: str
    event_json: str
    deadline_ms: int
    def to_json(self) -> str: ...
    def is_cancelled(self) -> bool: ...
    def client(self) -> NativeClient:
        """The scoped client (scope token, the worker's pool); its ops include ``fetch``."""

def job_type_from_function_name(name: str) -> str: ...

# Realtime (bindings/python/src/realtime.rs) and NativeTask (completion.rs)

class NativeTask:
    """An engine call started at once; its outcome is handed out once."""

    def done(self) -> bool: ...
    def wait(self, timeout_ms: Optional[int] = None) -> str:
        """The JSON answer; raises NativeError (TIMEOUT after ``timeout_ms``; the call goes on)."""
    def wait_async(self, port: NativePort, fut: "asyncio.Future[str]") -> None: ...
    def cancel(self) -> None: ...

class NativeRealtime:
    """One realtime connection of a client. ``options_json``: heartbeat_interval_ms,
    pong_timeout_ms, connect_timeout_ms, ack_timeout_ms, backoff_initial_ms, backoff_max_ms,
    backoff_factor, max_reconnect_attempts, event_capacity, outbox_capacity, dedup_capacity,
    catch_up, token, user_id."""

    url: str
    status: str
    dropped_events: int
    def __init__(self, client: NativeClient, options_json: str = "{}") -> None: ...
    def connect(self) -> NativeTask: ...
    def disconnect(self) -> NativeTask: ...
    def channel(self, topic: str, filter_json: str) -> "NativeChannel": ...
    def set_token(self, token: str) -> None: ...
    def send_chat(self, room_id: str, text: str, metadata_json: str) -> None: ...
    def next_event(self, timeout_ms: Optional[int] = None) -> Optional[str]:
        """The next event as JSON (GIL released); None on timeout or once closed."""
    def next_event_async(self, port: NativePort, fut: "asyncio.Future[Optional[str]]",
                         timeout_ms: Optional[int] = None) -> NativeCall: ...
    def try_next_event(self) -> Optional[str]: ...

class NativeChannel:
    """One topic of a NativeRealtime; events carry the ids ``on`` returned in ``listeners``."""

    topic: str
    is_subscribed: bool
    def wait_subscribed(self, timeout_ms: int) -> NativeTask:
        """Resolves once the platform confirmed the subscription; its error if it refused."""
    def on(self, event: str) -> int: ...
    def off(self, id: int) -> bool: ...
    def publish(self, event: str, data_json: str, options_json: str = "{}") -> NativeTask:
        """``options_json``: ``{persist, timeout_ms}``; resolves to the ack."""
    def track(self, state_json: str) -> None: ...
    def untrack(self) -> None: ...
    def presence(self) -> str: ...
    def tracked(self) -> Optional[str]: ...
    def history(self, limit: Optional[int] = None, before: Optional[int] = None) -> NativeTask: ...
    def unsubscribe(self) -> None: ...
