"""The platform binary under test, and plain HTTP against it (standard library only).

Every probe starts its own `aerostack-server` on a free loopback port (`--port 0`) and learns the
URL, project and key from `--ready-file`: no probe can disturb another's numbers.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]


def server_binary() -> Path:
    """`$AEROSTACK_SERVER`, else the workspace's debug build (`make build` makes it)."""
    env = os.environ.get("AEROSTACK_SERVER")
    path = Path(env) if env else ROOT / "target" / "debug" / "aerostack-server"
    if not path.is_file():
        raise SystemExit(
            f"{path}: no platform binary. Build it with `make build` (or `cargo build -p "
            "aerostack-server`), or name one with AEROSTACK_SERVER=/path/to/aerostack-server"
        )
    return path


@dataclass
class Platform:
    """One running `aerostack-server` process."""

    proc: subprocess.Popen
    info: Dict[str, Any]
    workdir: Path
    log_path: Path
    extra_projects: List[Dict[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.info["url"]

    @property
    def key(self) -> str:
        return self.info["api_key"]

    @property
    def project_id(self) -> str:
        return self.info["project_id"]

    @property
    def host_port(self) -> Tuple[str, int]:
        u = urlsplit(self.url)
        return u.hostname or "127.0.0.1", u.port or 80

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL: no shutdown, no flush; what a crash or the OOM killer does."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (graceful shutdown, removes an ephemeral dir), SIGKILL after 15 s."""
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def create_project(self, name: str) -> Dict[str, str]:
        """A second project through the CLI on the running server's data directory."""
        out = subprocess.run(
            [str(server_binary()), "--data-dir", self.info["data_dir"], "projects", "create", name],
            capture_output=True, text=True, timeout=30,
        )
        text = out.stdout + out.stderr
        pid = re.search(r"created project (proj_[0-9a-f]+)", text)
        key = re.search(r"API key: (\S+)", text)
        if out.returncode != 0 or not pid or not key:
            raise RuntimeError(f"projects create {name} failed: {text.strip()}")
        proj = {"project_id": pid.group(1), "api_key": key.group(1)}
        self.extra_projects.append(proj)
        return proj


def start(workdir: Path, *, data_dir: Optional[Path] = None, rate_limits: str = "off",
          tag: str = "platform", timeout: float = 30.0) -> Platform:
    """Start the binary (ephemeral unless `data_dir`) and wait for its ready file."""
    workdir.mkdir(parents=True, exist_ok=True)
    ready = workdir / f"{tag}.ready.json"
    ready.unlink(missing_ok=True)
    log_path = workdir / f"{tag}.log"
    cmd = [str(server_binary())]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    cmd += ["serve", "--host", "127.0.0.1", "--port", "0", "--ready-file", str(ready),
            "--rate-limits", rate_limits]
    if data_dir is None:
        cmd.append("--ephemeral")
    log = open(log_path, "ab")
    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, cwd=str(workdir))
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"aerostack-server exited with {proc.returncode} before ready:\n"
                               + log_path.read_text(errors="replace")[-2000:])
        if ready.exists():
            try:
                info = json.loads(ready.read_text())
                return Platform(proc, info, workdir, log_path)
            except ValueError:
                pass  # written by rename, but be tolerant
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"aerostack-server not ready within {timeout:.0f} s:\n"
                       + log_path.read_text(errors="replace")[-2000:])


def temp_workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"aerostack-rel-{prefix}-"))


class Http:
    """One kept-alive HTTP/1.1 connection (reconnects after an error). Not thread-safe: one per
    thread."""

    def __init__(self, p: Platform, timeout: float = 10.0) -> None:
        self.host, self.port = p.host_port
        self.timeout = timeout
        self.conn: Optional[http.client.HTTPConnection] = None
        self.stale_retries = 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: Any = None,
                headers: Optional[Dict[str, str]] = None,
                timeout: Optional[float] = None) -> Tuple[int, Any]:
        """(status, parsed JSON or text). Raises OSError/HTTPException when no answer came.

        A kept-alive connection the platform closed after its previous answer (it does so,
        without `Connection: close`, after refusing a request whose body it did not read) is
        reopened once, as every HTTP client pool does; a fresh connection is never retried."""
        reused = self.conn is not None
        try:
            return self._request(method, path, body, headers, timeout)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not reused:
                raise
            self.stale_retries += 1
            return self._request(method, path, body, headers, timeout)

    def _request(self, method: str, path: str, body: Any,
                 headers: Optional[Dict[str, str]], timeout: Optional[float]) -> Tuple[int, Any]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port,
                                                   timeout=timeout or self.timeout)
        elif timeout is not None and self.conn.sock is not None:
            self.conn.sock.settimeout(timeout)
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        try:
            self.conn.request(method, path, body=data, headers=h)
            resp = self.conn.getresponse()
            raw = resp.read()
        except BaseException:
            self.close()
            raise
        if timeout is not None and self.conn.sock is not None:
            self.conn.sock.settimeout(self.timeout)
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw.decode(errors="replace")


def keyed(key: str) -> Dict[str, str]:
    return {"X-Aerostack-Key": key}


def bearer(token: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_matches(status: int, body: Any, want_status: int, want_code: str,
                  want_text: str = "") -> Optional[str]:
    """None when the answer is the expected error, else what was wrong (for the notes)."""
    code = body.get("code") if isinstance(body, dict) else None
    # `/v1` bodies carry the spec's code family in `code` and the precise one in `details.code`
    details = body.get("details") if isinstance(body, dict) else None
    precise = details.get("code") if isinstance(details, dict) else None
    msg = body.get("message", "") if isinstance(body, dict) else str(body)
    if (status != want_status or want_code not in (code, precise)
            or (want_text and want_text not in msg)):
        return (f"expected {want_status} {want_code}"
                + (f" mentioning {want_text!r}" if want_text else "")
                + f", got {status} {code}: {str(msg)[:160]}")
    return None
