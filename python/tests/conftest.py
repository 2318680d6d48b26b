"""Fixtures: one in-process local platform for the session (never a mock of our server)."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from aerostack import AerostackClient, SyncAerostackClient
from aerostack._sdk import SDK
from aerostack.local import LocalPlatform

# The suite registers and logs in far more often than the hosted limits allow per minute;
# the rate-limit tests use their own platforms with the limits they name.
def _all_limits_off() -> Dict[str, Tuple[int, float]]:
    """Every rate limit off (count 0), named by the platform itself (`--no-rate-limits`)."""
    from aerostack import _native

    off = json.loads(_native.rate_limits_from_flags([], True))
    return {name: (int(count), window_ms / 1000) for name, (count, window_ms) in off.items()}


RELAXED = _all_limits_off()


@pytest.fixture(scope="session")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(rate_limits=RELAXED, from_env=False) as p:
        yield p


class SyncAsAsync:
    """Presents a SyncAerostackClient with the async client's shape (every method returns an
    awaitable of the value the blocking call already produced), so the async tests also run every
    method of the blocking face."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name == "with_options":
            return lambda **kw: SyncAsAsync(value(**kw))
        if callable(value):
            def call(*args: Any, **kwargs: Any) -> Any:
                result = value(*args, **kwargs)
                if hasattr(result, "_t"):  # a namespace handle (db.collection(name)): not a call
                    return SyncAsAsync(result)

                async def done() -> Any:
                    return result

                return done()

            return call
        if hasattr(value, "_t"):  # a namespace
            return SyncAsAsync(value)
        return value


@pytest.fixture(params=["async", "sync"])
def client(request: pytest.FixtureRequest, platform: LocalPlatform) -> Any:
    """The async client, and (second run) the blocking client behind the same interface."""
    kw = dict(project_id=platform.project_id, api_key=platform.api_key, base_url=platform.api_url)
    if request.param == "async":
        return AerostackClient(**kw)
    return SyncAsAsync(SyncAerostackClient(**kw))


@pytest.fixture
def sync_client(platform: LocalPlatform) -> SyncAerostackClient:
    return SyncAerostackClient(project_id=platform.project_id, api_key=platform.api_key, base_url=platform.api_url)


@pytest.fixture
def sdk(platform: LocalPlatform) -> Iterator[SDK]:
    with SDK(api_key_auth=platform.api_key, server_url=platform.api_url) as s:
        yield s


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:10]


class TinyServer:
    """A loopback TCP server for behaviours our platform never shows on purpose (a peer that
    never answers, answers late, or fails first): ``handler(conn, index)`` per connection."""

    def __init__(self, handler: Callable[[socket.socket, int], None]) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.handler = handler
        self.connections: List[socket.socket] = []
        self.closed = threading.Event()
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        i = 0
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)
            threading.Thread(target=self._serve, args=(conn, i), daemon=True).start()
            i += 1

    def _serve(self, conn: socket.socket, i: int) -> None:
        try:
            self.handler(conn, i)
        except OSError:
            pass

    def close(self) -> None:
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass
        for c in self.connections:
            try:
                c.close()
            except OSError:
                pass


def read_request(conn: socket.socket) -> Optional[bytes]:
    """Reads one HTTP request (headers + Content-Length body); None on EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head


def respond(conn: socket.socket, status: int, body: bytes, extra: str = "") -> None:
    reason = {200: "OK", 503: "Service Unavailable", 429: "Too Many Requests"}.get(status, "X")
    conn.sendall(
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n{extra}\r\n".encode()
        + body
    )


@pytest.fixture
def tiny_server() -> Iterator[Callable[[Callable[[socket.socket, int], None]], TinyServer]]:
    servers: List[TinyServer] = []

    def make(handler: Callable[[socket.socket, int], None]) -> TinyServer:
        s = TinyServer(handler)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def any_of(v: Any, *names: str) -> Any:
    for n in names:
        if isinstance(v, dict) and n in v:
            return v[n]
    raise KeyError(names)


class _FakeOpenAI:
    """A minimal OpenAI-compatible upstream (a third party we cannot run here): answers
    ``POST /v1/chat/completions`` with a fixed completion that echoes the last message."""

    def __init__(self) -> None:
        import json
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("content-length") or 0)
                req = json.loads(self.rfile.read(n) or b"{}")
                msgs = req.get("messages") or [{}]
                last = msgs[-1].get("content", "") if isinstance(msgs[-1], dict) else ""
                text = f"- point one\n- point two\n- point three ({last[:20]})"
                if req.get("stream"):
                    # OpenAI-style SSE: one frame per word, a finish frame, a usage frame, [DONE].
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    model = req.get("model") or "test-model"
                    words = text.split(" ")
                    for i, w in enumerate(words):
                        delta = w if i == 0 else " " + w
                        frame = {"model": model, "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(frame)}\n\n".encode())
                        self.wfile.flush()
                    fin = {"model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                    usage = {"model": model, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": len(words), "total_tokens": 3 + len(words)}}
                    for frame in (fin, usage):
                        self.wfile.write(f"data: {json.dumps(frame)}\n\n".encode())
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                    self.close_connection = True
                    return
                body = json.dumps({
                    "id": "chatcmpl-test", "object": "chat.completion", "created": 0,
                    "model": req.get("model") or "test-model",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12},
                }).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def ai_platform() -> Iterator[LocalPlatform]:
    """A platform whose AI chat goes to the fake upstream above."""
    upstream = _FakeOpenAI()
    try:
        with LocalPlatform(rate_limits=RELAXED, from_env=False, ai_base_url=upstream.url, ai_model="test-model") as p:
            yield p
    finally:
        upstream.close()
