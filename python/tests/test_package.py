"""Package-level behaviour: import cost, versions, stubs, local platform, logging."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import aerostack
from aerostack import SyncAerostackClient
from aerostack.local import LocalPlatform

PKG = Path(aerostack.__file__).resolve().parent
PY_ROOT = Path(__file__).resolve().parent.parent


def test_import_is_lazy_and_fast() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import aerostack; dt = time.perf_counter() - t; "
        "print(dt, 'aerostack._native' in sys.modules, 'asyncio' in sys.modules)"
    )
    best = min(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()[0])
        for _ in range(3)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == "False", "import aerostack must not load the native module"
    assert best < 0.030, f"import aerostack took {best * 1000:.1f} ms"


def test_versions_and_user_agent() -> None:
    from aerostack import _native

    assert re.match(r"\d+\.\d+\.\d+", aerostack.__version__)
    assert aerostack.engine_version() == _native.engine_version()
    assert "db.query" in _native.operations()


def test_every_engine_operation_has_a_method() -> None:
    from aerostack import _native

    # realtime.emit is client.socket.emit; rest is the operation-style SDK's (_sdk.py)
    src = (PKG / "_api.py").read_text() + (PKG / "_realtime.py").read_text() + (PKG / "_sdk.py").read_text()
    missing = [op for op in _native.operations() if f'"{op}"' not in src and op not in ("auth.signup", "auth.signin", "realtime.history")]
    assert missing == [], f"operations without a method: {missing}"


def test_every_paged_operation_has_an_iterator() -> None:
    """A page call (one page and its cursor) always has a cursor-following `*_all` iterator."""
    from aerostack import SyncAerostackClient

    paged = {"cache.list": "cache.list_all", "storage.list": "storage.list_all", "queue.jobs": "queue.jobs_all",
             "db.collection.list": "db.collection.list_all"}
    c = SyncAerostackClient(project_id="p", api_key="k", base_url="http://127.0.0.1:9")
    handles = {"cache": c.cache, "storage": c.storage, "queue": c.queue, "db.collection": c.db.collection("posts")}
    for page_op, stream_op in paged.items():
        ns, name = stream_op.rsplit(".", 1)
        assert callable(getattr(handles[ns], name, None)), f"{page_op} has no {stream_op}"
    # every op that takes a cursor is in this map
    src = (PKG / "_api.py").read_text()
    with_cursor = set(re.findall(r'"([a-z_.]+)", \{[^}]*"cursor"', src))
    known = set(paged) | set(paged.values())
    assert with_cursor and with_cursor <= known, f"paged operations without an iterator: {with_cursor - known}"


def test_stub_is_current() -> None:
    gen = PY_ROOT / "tools" / "gen_stubs.py"
    assert gen.exists(), f"{gen} is part of the source tree these tests live in"
    r = subprocess.run([sys.executable, str(gen), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_api_reference_is_current_and_complete() -> None:
    """python/API.md shows the signature of every public method (generated; --check fails when stale)."""
    import ast

    gen = PY_ROOT / "tools" / "gen_reference.py"
    r = subprocess.run([sys.executable, str(gen), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ref = (PY_ROOT / "API.md").read_text()
    missing = []
    for source in ("_api.py", "_client.py", "_realtime.py", "local/__init__.py", "hooks/_app.py"):
        for cls in ast.parse((PKG / source).read_text()).body:
            if not isinstance(cls, ast.ClassDef) or cls.name.startswith("_") and cls.name != "_ClientBase":
                continue
            for f in cls.body:
                if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and not f.name.startswith("_") \
                        and f"def {f.name}(" not in ref and f"property {f.name}" not in ref:
                    missing.append(f"{source}: {cls.name}.{f.name}")
    assert missing == [], f"public methods missing from API.md: {missing}"


def test_local_platform_lifecycle(tmp_path: Path) -> None:
    with LocalPlatform(data_dir=tmp_path / "data", from_env=False) as p:
        assert p.running and p.url.startswith("http://127.0.0.1:") and p.api_url == p.url + "/v1"
        assert p.api_key.startswith("ac_secret_") and p.project_id.startswith("proj_")
        assert p.project_slug == "default" and Path(p.data_dir).is_dir()
        c = p.sync_client()
        c.cache.set("persisted", 42)
        port = p.port
    assert not p.running
    p.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not running"):
        _ = p.url
    # the data directory keeps the data across restarts, and the port was freed
    with LocalPlatform(data_dir=tmp_path / "data", port=port, from_env=False) as p2:
        assert p2.sync_client().cache.get("persisted") == 42


def test_python_m_aerostack_local(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aerostack.local", "--port", "0", "--ephemeral"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )
    try:
        lines = []
        api = key = None
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while time.monotonic() < deadline and not (api and key):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "API URL:" in line:
                api = line.split("API URL:")[1].strip()
            if "API key:" in line:
                key = line.split("API key:")[1].strip()
        assert api and key, "".join(lines)
        assert SyncAerostackClient(api_key=key, base_url=api).cache.set("k", 1) is None
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "Stopped" in out


def test_logging_goes_to_the_aerostack_logger(platform: LocalPlatform, caplog: pytest.LogCaptureFixture) -> None:
    c = platform.sync_client()
    with caplog.at_level(logging.DEBUG, logger="aerostack"):
        c.cache.get("log-me")
    assert any(r.name == "aerostack" and "cache.get ok" in r.getMessage() for r in caplog.records)


def test_sync_module_alias() -> None:
    from aerostack.sync import AerostackClient

    assert AerostackClient is aerostack.SyncAerostackClient
    assert os.path.exists(PKG / "py.typed") and os.path.exists(PKG / "_native.pyi")


@pytest.mark.parametrize("script,args", [("quickstart.py", ["--local"]), ("sdk_example.py", [])])
def test_examples_run(script: str, args: list, tmp_path: Path) -> None:
    path = PY_ROOT / "examples" / script
    assert path.exists(), f"{path} is part of the source tree these tests live in"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AEROSTACK_")}
    r = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_sdk_operation_is_the_engines() -> None:
    """The operation-style SDK names operations; their methods and paths are the engine's."""
    from aerostack import _native, _sdk

    known = set(_native.rest_operations())
    named = {op.operation for group in vars(_sdk).values() if isinstance(group, type) and issubclass(group, _sdk._Group)
             for op in vars(group).values() if isinstance(op, _sdk._Op)}
    assert named, "no operation found"
    assert named <= known, f"not in the engine's table: {sorted(named - known)}"
    assert known <= named, f"the engine has operations the SDK does not offer: {sorted(known - named)}"
