#!/usr/bin/env python3
"""The Python runner of the conformance suite (see tests/conformance/README.md).

Starts ONE in-process local platform (``aerostack.local.LocalPlatform``) with the options of
``tests/conformance/platform.json``, serves the fixture Logic Modules and queue workers with
``aerostack.hooks``, and runs every case of ``tests/conformance/cases/*.json`` through the public
Python SDK: each case on the async face (``AerostackClient``) and again on the blocking face
(``SyncAerostackClient``, in its own project so side effects do not meet). A case passes when it
passes on every face it applies to.

    .venv/bin/python tests/conformance/python/run.py --out results/python.json [--only PATTERN] [--face async|sync|both]

Writes ``{"language": "python", "results": {case_id: {"status": "pass"|"fail", "detail": ...}}}``
to ``--out``, prints one line per case and last ``N passed, N failed``; exits 1 when a case failed.
This file is a test harness, not SDK code: the table ``PY_OPS`` maps the suite's operation names
onto the SDK's idiomatic methods, and says how to read each answer back as the operation's
canonical JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import functools
import inspect
import json
import re
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

SUITE = Path(__file__).resolve().parent.parent  # tests/conformance
DEFAULT_CASE_TIMEOUT_MS = 30_000
POLL = 0.05


# --------------------------------------------------------------------------------------------
# Loading cases
# --------------------------------------------------------------------------------------------

def load_cases(cases_dir: Path) -> List[Dict[str, Any]]:
    cases: List[Dict[str, Any]] = []
    seen: Dict[str, str] = {}
    for f in sorted(cases_dir.glob("*.json")):
        doc = json.loads(f.read_text())
        for c in doc["cases"]:
            cid = c.get("id")
            if not isinstance(cid, str) or not cid:
                raise SystemExit(f"{f}: a case without an id: {c}")
            if cid in seen:
                raise SystemExit(f"{f}: duplicate case id {cid!r} (also in {seen[cid]})")
            if ("call" in c) == ("scenario" in c):
                raise SystemExit(f"{f}: case {cid!r} must have exactly one of `call` and `scenario`")
            seen[cid] = f.name
            c["_file"] = f.name
            cases.append(c)
    return cases


# --------------------------------------------------------------------------------------------
# Templates: "${name}" / "${name.path}" (see README, "Templates")
# --------------------------------------------------------------------------------------------

_TEMPLATE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


class CaseFailure(Exception):
    """The case failed for a reason the runner states (not an exception of the SDK under test)."""


def lookup(vars: Dict[str, Any], ref: str) -> Any:
    name, *path = ref.split(".")
    if name not in vars:
        raise CaseFailure(f"unknown template variable ${{{ref}}} (known: {', '.join(sorted(vars))})")
    return get_path(vars[name], path, ref)


def get_path(value: Any, path: List[str], what: str) -> Any:
    for seg in path:
        if isinstance(value, list) and seg.isdigit() and int(seg) < len(value):
            value = value[int(seg)]
        elif isinstance(value, dict) and seg in value:
            value = value[seg]
        else:
            raise KeyError(f"{what}: no {seg!r} in {short(value)}")
    return value


def resolve(value: Any, vars: Dict[str, Any], later: Tuple[str, ...] = ()) -> Any:
    """`value` with its templates replaced; templates of the names in `later` (and not in
    `vars`) are left for a later pass (the `${i}` of a paginate seed)."""
    if isinstance(value, str):
        def deferred(ref: str) -> bool:
            name = ref.split(".")[0]
            return name in later and name not in vars

        m = _TEMPLATE.fullmatch(value)
        if m and deferred(m.group(1)):
            return value
        if m:
            try:
                return lookup(vars, m.group(1))
            except KeyError as e:
                raise CaseFailure(f"template {value}: {e}") from None
        def sub(mm: "re.Match[str]") -> str:
            if deferred(mm.group(1)):
                return mm.group(0)
            try:
                v = lookup(vars, mm.group(1))
            except KeyError as e:
                raise CaseFailure(f"template {mm.group(0)}: {e}") from None
            return v if isinstance(v, str) else json.dumps(v)
        return _TEMPLATE.sub(sub, value)
    if isinstance(value, list):
        return [resolve(v, vars, later) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, vars, later) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------------------------
# Shapes (see README, "Result shapes")
# --------------------------------------------------------------------------------------------

def short(v: Any, n: int = 160) -> str:
    try:
        s = json.dumps(v, default=repr)
    except Exception:
        s = repr(v)
    return s if len(s) <= n else s[: n - 3] + "..."


def type_ok(v: Any, t: str) -> bool:
    for alt in t.split("|"):
        alt = alt.strip()
        if alt == "any":
            return True
        if alt == "null" and v is None:
            return True
        if alt == "boolean" and isinstance(v, bool):
            return True
        if alt == "integer" and isinstance(v, int) and not isinstance(v, bool):
            return True
        if alt == "number" and isinstance(v, (int, float)) and not isinstance(v, bool):
            return True
        if alt == "string" and isinstance(v, str):
            return True
        if alt == "object" and isinstance(v, dict):
            return True
        if alt == "array" and isinstance(v, list):
            return True
    return False


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, 12 equals 12.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def json_subset(expected: Any, actual: Any) -> bool:
    """Every key of an expected object is in the actual one with a matching value (recursively);
    anything else compares with json_equal."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and json_subset(v, actual[k]) for k, v in expected.items())
    return json_equal(expected, actual)


def check_shape(v: Any, shape: Any, at: str = "result") -> List[str]:
    if isinstance(shape, str):
        return [] if type_ok(v, shape) else [f"{at}: expected {shape}, got {short(v)}"]
    if not isinstance(shape, dict):
        return [f"{at}: the case's shape {short(shape)} is not a type name or an object"]
    problems: List[str] = []
    t = shape.get("type")
    if t is not None and not type_ok(v, t):
        return [f"{at}: expected {t}, got {short(v)}"]
    if "equals" in shape and not json_equal(v, shape["equals"]):
        problems.append(f"{at}: expected {short(shape['equals'])}, got {short(v)}")
    missing = set()
    for k, sub in (shape.get("keys") or {}).items():
        if not isinstance(v, dict):
            problems.append(f"{at}: expected an object with key {k!r}, got {short(v)}")
            break
        if k not in v:
            missing.add(k)
            problems.append(f"{at}: missing key {k!r} (keys: {', '.join(map(str, v.keys())) or 'none'})")
        else:
            problems += check_shape(v[k], sub, f"{at}.{k}")
    if "len" in shape and (not isinstance(v, (list, str)) or len(v) != shape["len"]):
        problems.append(f"{at}: expected length {shape['len']}, got {len(v) if isinstance(v, (list, str)) else short(v)}")
    if "min_len" in shape and (not isinstance(v, (list, str)) or len(v) < shape["min_len"]):
        problems.append(f"{at}: expected at least {shape['min_len']} item(s), got {short(v)}")
    if "items" in shape:
        if not isinstance(v, list):
            problems.append(f"{at}: expected an array, got {short(v)}")
        else:
            for i, item in enumerate(v):
                problems += check_shape(item, shape["items"], f"{at}.{i}")
    if "contains" in shape:
        c = shape["contains"]
        if isinstance(v, str):
            if not isinstance(c, str) or c not in v:
                problems.append(f"{at}: expected to contain {short(c)}, got {short(v)}")
        elif isinstance(v, list):
            if not any(json_equal(c, x) for x in v):
                problems.append(f"{at}: expected an element {short(c)}, got {short(v)}")
        else:
            problems.append(f"{at}: `contains` needs a string or an array, got {short(v)}")
    if "unique_by" in shape:
        key = shape["unique_by"]
        if not isinstance(v, list) or not all(isinstance(x, dict) and key in x for x in v):
            problems.append(f"{at}: expected objects with {key!r}, got {short(v)}")
        else:
            ids = [json.dumps(x[key], sort_keys=True) for x in v]
            dups = sorted({i for i in ids if ids.count(i) > 1})
            if dups:
                problems.append(f"{at}: {key} seen more than once: {', '.join(dups)}")
    for path, want in (shape.get("values") or {}).items():
        if path.split(".")[0] in missing:
            continue  # already reported
        try:
            got = get_path(v, path.split("."), f"{at}.{path}")
        except KeyError as e:
            problems.append(str(e))
            continue
        if not json_equal(got, want):
            problems.append(f"{at}.{path}: expected {short(want)}, got {short(got)}")
    return problems


# --------------------------------------------------------------------------------------------
# The Python SDK: operation name -> idiomatic method, answer -> canonical JSON
# --------------------------------------------------------------------------------------------

def plain(v: Any) -> Any:
    """The SDK's answer as plain JSON values (Records are dicts; tuples/sets become lists)."""
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [plain(x) for x in v]
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    if isinstance(v, datetime):
        # The SDK's times are aware UTC datetimes; the cases compare them as the engine's text.
        if v.utcoffset() != timedelta(0):
            raise CaseFailure(f"the SDK answered a time that is not in UTC: {v!r}")
        return v.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}Z"
    raise CaseFailure(f"the SDK answered a {type(v).__name__}, which is not JSON: {v!r}")


def canon_query(v: Any) -> Any:
    # db.query answers a list of rows that also has .results/.count/.meta (QueryResult)
    return {"results": plain(list(v)), "count": v.count, "meta": plain(v.meta)}


def canon_download(v: Any) -> Any:
    if not isinstance(v, (bytes, bytearray)):
        raise CaseFailure(f"storage.get answered {type(v).__name__}, not bytes")
    try:
        text: Optional[str] = bytes(v).decode("utf-8")
    except UnicodeDecodeError:
        text = None
    out: Dict[str, Any] = {"size": len(v), "text": text}
    if getattr(v, "content_type", None) is not None:
        out["content_type"] = v.content_type  # storage.get answers bytes carrying .content_type
    return out


class Op:
    """How the Python SDK spells one operation."""

    def __init__(self, path: Optional[str] = None, *, rename: Optional[Dict[str, str]] = None,
                 canon: Callable[[Any], Any] = plain, stream: bool = False, note: str = "") -> None:
        self.path = path
        self.rename = rename or {}
        self.canon = canon
        self.stream = stream
        self.note = note


# Only the operations whose Python spelling or answer differs from the suite's; any other
# operation `a.b.c` is `client.a.b.c(**args)` answering its canonical JSON as is.
PY_OPS: Dict[str, Op] = {
    "db.query": Op(canon=canon_query),
    "ai.embed": Op(canon=lambda v: {"embedding": plain(v)}),
    "queue.send": Op(rename={"type": "name"}),
    "storage.get": Op(canon=canon_download),
    "ai.chat_stream": Op(stream=True),
    "cache.list_all": Op(stream=True),
    "storage.list_all": Op(stream=True),
    "queue.jobs_all": Op(stream=True),
    "db.collection.list_all": Op(stream=True),
    "gateway.chat_stream": Op(stream=True),
}
STREAM_OPS = {"ai.chat_stream", "gateway.chat_stream", "cache.list_all", "storage.list_all", "queue.jobs_all",
              "db.collection.list_all"}


def body_bytes(spec: Any) -> bytes:
    """A bytes spec of the suite: {"text": "..."} or {"pattern": "...", "size": N}."""
    if isinstance(spec, dict) and isinstance(spec.get("text"), str):
        return spec["text"].encode("utf-8")
    if isinstance(spec, dict) and isinstance(spec.get("pattern"), str) and isinstance(spec.get("size"), int):
        p = spec["pattern"].encode("utf-8")
        n = spec["size"]
        return (p * (n // len(p) + 1))[:n]
    raise CaseFailure(f"not a bytes spec: {short(spec)}")


def sdk_method(client: Any, path: str) -> Callable[..., Any]:
    obj = client
    for part in path.split("."):
        nxt = getattr(obj, part, None)
        if nxt is None:
            raise CaseFailure(f"the Python SDK has no {path} (no attribute {part!r} on {type(obj).__name__})")
        obj = nxt
    if not callable(obj):
        raise CaseFailure(f"the Python SDK's {path} is not callable")
    return obj  # type: ignore[no-any-return]


def op_thunk(client: Any, op: str, args: Dict[str, Any], tmp: Path,
             progress: Optional[Callable[[int, Optional[int]], None]] = None) -> Callable[[], Any]:
    """A function that starts the operation on `client` (an async or a blocking client) and
    returns what the SDK returns (a value, an awaitable, or an iterator for streams)."""
    if op == "storage.upload":
        a = dict(args)
        data = body_bytes(a.pop("body", None)) if "body" in a else None
        source = a.pop("source", "bytes")
        kw: Dict[str, Any] = {"path": a.pop("key", None), "content_type": a.pop("content_type", None)}
        if a:
            raise CaseFailure(f"storage.upload: arguments the runner does not know: {', '.join(a)}")
        if progress is not None:
            kw["progress"] = progress
        if source == "path":
            if data is None:
                raise CaseFailure("storage.upload from a path needs a body")
            f = tmp / f"upload-{uuid.uuid4().hex}.bin"
            f.write_bytes(data)
            kw["file"] = str(f)
        elif data is not None:
            kw["file_bytes"] = data
        fn = sdk_method(client, "storage.upload")
        return lambda: fn(**kw)
    spec = PY_OPS.get(op, Op())
    path = spec.path or op
    if op.startswith("db.collection."):
        # A collection is a handle: client.db.collection(name).<method>(...).
        args = dict(args)
        client = client.db.collection(args.pop("collection", None))
        path = op.rsplit(".", 1)[1]
    fn = sdk_method(client, path)
    kw = {spec.rename.get(k, k): v for k, v in args.items()}
    # An argument the case leaves out is passed as None, Python's "no value" (leaving out a
    # required positional would be a TypeError before the SDK runs, testing nothing).
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        sig = None
    if sig is not None:
        accepts_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
        for name, p in sig.parameters.items():
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY) \
                    and p.default is inspect.Parameter.empty and name not in kw:
                kw[name] = None
        unknown = [k for k in kw if k not in sig.parameters]
        if unknown and not accepts_kwargs:
            raise CaseFailure(f"the Python SDK's {spec.path or op} takes no argument {', '.join(unknown)} "
                              f"(its parameters: {', '.join(sig.parameters)})")
    return lambda: fn(**kw)


def canon_result(op: str, v: Any) -> Any:
    if op == "storage.upload":
        return plain(v)
    return PY_OPS.get(op, Op()).canon(v)


def op_note(op: str) -> str:
    return PY_OPS.get(op, Op()).note


def error_dto(e: BaseException) -> Optional[Dict[str, Any]]:
    """The canonical error of an SDK exception, or None when it is not one of the SDK's errors."""
    from aerostack import errors

    if isinstance(e, errors.AerostackError):
        return {
            "code": e.code, "family": e.family, "status": e.status, "message": e.message,
            "request_id": e.request_id, "retryable": e.retryable, "retry_after": e.retry_after,
            "details": e.details,
        }
    return None


# --------------------------------------------------------------------------------------------
# Fixtures: the platform, the fixture handlers, the loopback helpers
# --------------------------------------------------------------------------------------------

def make_hooks(spec: Dict[str, Any]) -> Any:
    """The fixture Logic Modules and queue workers of platform.json, as an aerostack.hooks app."""
    from aerostack.hooks import Hooks

    app = Hooks(concurrency=8, label="conformance-python")

    def module_handler(m: Dict[str, Any]) -> Callable[..., Any]:
        b = m["behaviour"]
        if b == "echo":
            async def echo(sdk: Any, event: Any) -> Any:
                return {"echo": event.get("data"), "method": event.get("method")}
            return echo
        if b == "sleep":
            async def sleep(sdk: Any, event: Any) -> Any:
                ms = int((event.get("data") or {}).get("ms") or 0)
                await asyncio.sleep(min(ms, 10_000) / 1000)
                return {"slept_ms": ms}
            return sleep
        if b == "fail":
            async def fail(sdk: Any, event: Any) -> Any:
                raise RuntimeError(m["message"])
            return fail
        if b == "sdk_db":
            async def sdk_db(sdk: Any, event: Any) -> Any:
                rows = await sdk.db.query("SELECT ? AS value", [(event.get("data") or {}).get("value")])
                return {"value": rows[0]["value"], "project_id": sdk.project_id}
            return sdk_db
        raise SystemExit(f"platform.json: unknown module behaviour {b!r}")

    def job_handler(j: Dict[str, Any]) -> Callable[..., Any]:
        b = j["behaviour"]
        if b == "double":
            async def double(sdk: Any, job: Any) -> Any:
                return {"doubled": job["data"]["n"] * 2}
            return double
        if b == "fail":
            async def fail(sdk: Any, job: Any) -> Any:
                raise RuntimeError(j["message"])
            return fail
        raise SystemExit(f"platform.json: unknown job behaviour {b!r}")

    for m in spec.get("modules", []):
        app.module(m["slug"], methods=m.get("methods"), public=bool(m.get("public")))(module_handler(m))
    for j in spec.get("jobs", []):
        app.job(j["type"])(job_handler(j))
    return app


class NotJsonServer:
    """A loopback HTTP server answering every request 200 with an HTML body (${not_json_url})."""

    def __init__(self) -> None:
        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _answer(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                if n:
                    self.rfile.read(n)
                body = b"<html>not json</html>"
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    return f"http://127.0.0.1:{port}/v1"


class Env:
    """What every case shares: the platform, one project per face, the workers."""

    def __init__(self, platform: Any, spec: Dict[str, Any], tmp: Path) -> None:
        self.platform = platform
        self.spec = spec
        self.tmp = tmp
        self.not_json = NotJsonServer()
        self.closed_url = closed_port_url()
        self.projects: Dict[str, Dict[str, str]] = {}
        self.workers: Dict[str, Any] = {}
        self.worker_errors: Dict[str, str] = {}
        self.fresh = 0

    def project(self, face: str) -> Dict[str, str]:
        p = self.projects.get(face)
        if p is None:
            if face == "async":
                p = {"id": self.platform.project_id, "api_key": self.platform.api_key}
            else:
                info = self.platform.create_project(f"conformance-{face}")
                p = {"id": info["id"], "api_key": info["api_key"]}
            self.projects[face] = p
        return p

    def fresh_project(self, label: str) -> Dict[str, str]:
        self.fresh += 1
        info = self.platform.create_project(f"conformance-fresh-{self.fresh}-{label}"[:60])
        return {"id": info["id"], "api_key": info["api_key"]}

    def start_worker(self, face: str) -> None:
        if face in self.workers or face in self.worker_errors:
            return
        try:
            app = make_hooks(self.spec)
            self.workers[face] = app.start(api_key=self.project(face)["api_key"], base_url=self.platform.api_url,
                                           timeout=20.0)
        except Exception as e:  # noqa: BLE001 - reported by every case that needs the worker
            self.worker_errors[face] = f"{type(e).__name__}: {e}"

    def close(self) -> None:
        for w in self.workers.values():
            try:
                w.stop(timeout=5.0)
            except Exception:
                pass
        self.not_json.close()


# --------------------------------------------------------------------------------------------
# Faces: the async client and the blocking client behind one awaitable interface
# --------------------------------------------------------------------------------------------

class Face:
    def __init__(self, name: str, env: Env) -> None:
        self.name = name
        self.env = env

    def client_class(self) -> Any:
        from aerostack import AerostackClient, SyncAerostackClient

        return AerostackClient if self.name == "async" else SyncAerostackClient

    def client(self, project: Dict[str, str], overrides: Optional[Dict[str, Any]] = None) -> Any:
        o = dict(overrides or {})
        kw: Dict[str, Any] = {"project_id": project["id"], "api_key": project["api_key"],
                              "base_url": self.env.platform.api_url}
        if "api_key" in o:
            kw["api_key"] = o.pop("api_key")
        if "base_url" in o:
            kw["base_url"] = o.pop("base_url")
        if "retry" in o:
            r = o.pop("retry")
            if r is not False:
                raise CaseFailure(f"client.retry: the runner knows only false, got {short(r)}")
            kw["retry"] = False
        if "timeout_ms" in o:
            kw["timeout"] = o.pop("timeout_ms") / 1000
        o.pop("project", None)
        if o:
            raise CaseFailure(f"client options the runner does not know: {', '.join(o)}")
        return self.client_class()(**kw)

    async def do(self, fn: Callable[[], Any]) -> Any:
        """Runs an SDK call and gives its materialized answer: awaited (async face), or run on a
        thread of its own (blocking face, so the event loop and the case timeout keep going).
        Streams are read to the end."""
        if self.name == "async":
            r = fn()
            if inspect.isawaitable(r):
                r = await r
            if hasattr(r, "__aiter__"):
                r = [x async for x in r]
            return r
        loop = asyncio.get_running_loop()
        fut: "asyncio.Future[Any]" = loop.create_future()

        def settle(ok: bool, v: Any) -> None:
            if not fut.done():
                (fut.set_result if ok else fut.set_exception)(v)

        def work() -> None:
            try:
                r = fn()
                if hasattr(r, "__next__") and not isinstance(r, (list, dict)):
                    r = list(r)
                loop.call_soon_threadsafe(settle, True, r)
            except BaseException as e:  # noqa: BLE001 - handed to the awaiting coroutine
                loop.call_soon_threadsafe(settle, False, e)

        threading.Thread(target=work, name="conformance-sync-call", daemon=True).start()
        return await fut


# --------------------------------------------------------------------------------------------
# Running one case on one face
# --------------------------------------------------------------------------------------------

class Run:
    def __init__(self, case: Dict[str, Any], face: Face, run_id: str) -> None:
        self.case = case
        self.face = face
        self.env = face.env
        self.project = face.env.project(face.name)
        client_opts = case.get("client") or {}
        if client_opts.get("project") == "fresh":
            self.project = face.env.fresh_project(f"{case['id']}-{face.name}")
        elif client_opts.get("project") not in (None, "default"):
            raise CaseFailure(f"client.project: the runner knows only \"fresh\" and \"default\", got {client_opts['project']!r}")
        self.vars: Dict[str, Any] = {
            "run": f"{run_id}{face.name[0]}",
            "api_url": face.env.platform.api_url,
            "project_id": self.project["id"],
            "closed_port_url": face.env.closed_url,
            "not_json_url": face.env.not_json.url,
        }
        self._plain_client: Any = None

    def plain_client(self) -> Any:
        """The case's project with the default options: for setup steps and scenarios."""
        if self._plain_client is None:
            self._plain_client = self.face.client(self.project)
        return self._plain_client

    async def call(self, client: Any, op: str, args: Dict[str, Any], progress: Any = None) -> Any:
        thunk = op_thunk(client, op, args, self.env.tmp, progress)
        return canon_result(op, await self.face.do(thunk))

    async def setup(self, steps: List[Dict[str, Any]]) -> None:
        for i, step in enumerate(steps):
            op = step["call"]
            args = resolve(step.get("args") or {}, self.vars)
            try:
                v = await self.call(self.plain_client(), op, args)
            except CaseFailure:
                raise
            except Exception as e:
                raise CaseFailure(f"setup step {i + 1} ({op}) failed: {describe(e)}") from None
            if step.get("save"):
                self.vars[step["save"]] = v

    async def run(self) -> str:
        c = self.case
        if "worker" in (c.get("requires") or []):
            self.env.start_worker(self.face.name)
            err = self.env.worker_errors.get(self.face.name)
            if err:
                raise CaseFailure(f"the fixture worker did not start: {err}")
        await self.setup(c.get("setup") or [])
        if "scenario" in c:
            impl = SCENARIOS.get(c["scenario"])
            if impl is None:
                raise CaseFailure(f"the Python runner has no scenario {c['scenario']!r}")
            params = resolve(c.get("params") or {}, self.vars, later=("i",))
            return await impl(self, params, resolve(c.get("expect") or {}, self.vars))
        return await self.run_call()

    async def run_call(self) -> str:
        c = self.case
        op = c["call"]
        args = resolve(c.get("args") or {}, self.vars)
        expect = c.get("expect") or {}
        if sum(k in expect for k in ("result", "error", "cancelled")) != 1:
            raise CaseFailure("expect must have exactly one of result, error, cancelled")
        options = resolve(c.get("options") or {}, self.vars)
        note = op_note(op)
        started = time.monotonic()
        try:
            client = self.face.client(self.project, resolve(c.get("client") or {}, self.vars))
            if options:
                kw: Dict[str, Any] = {}
                if "timeout_ms" in options:
                    kw["timeout"] = options["timeout_ms"] / 1000
                if "retry" in options:
                    if options["retry"] is not False:
                        raise CaseFailure("options.retry: the runner knows only false")
                    kw["retry"] = False
                if "idempotency_key" in options:
                    kw["idempotency_key"] = options["idempotency_key"]
                unknown = set(options) - {"timeout_ms", "retry", "idempotency_key"}
                if unknown:
                    raise CaseFailure(f"call options the runner does not know: {', '.join(sorted(unknown))}")
                client = client.with_options(**kw)
            if "cancelled" in expect:
                return await self.run_cancel(client, op, args, c.get("cancel_after_ms", 0), expect["cancelled"])
            result = await self.call(client, op, args)
        except CaseFailure:
            raise
        except Exception as e:  # noqa: BLE001 - compared with the expectation (asyncio.CancelledError, the case timeout, passes through)
            elapsed = (time.monotonic() - started) * 1000
            dto = error_dto(e)
            if "error" not in expect:
                raise CaseFailure(f"expected a result, the call raised {describe(e)}" + (f" ({note})" if note else "")) from None
            if dto is None:
                raise CaseFailure(f"expected an SDK error, got {describe(e)}") from None
            problems = check_error(dto, resolve(expect["error"], self.vars), elapsed)
            if problems:
                raise CaseFailure("; ".join(problems)) from None
            return f"{dto['code']} ({dto['family']})"
        if "error" in expect:
            raise CaseFailure(f"expected error {short(expect['error'])}, the call answered {short(result)}")
        problems = check_shape(result, resolve(expect["result"], self.vars))
        if problems:
            raise CaseFailure("; ".join(problems) + (f" ({note})" if note else ""))
        return "ok"

    async def run_cancel(self, client: Any, op: str, args: Dict[str, Any], after_ms: int,
                         want: Dict[str, Any]) -> str:
        if self.face.name != "async":
            return "n/a"  # see README: a blocking call is cancelled by the host's own interrupt
        task = asyncio.ensure_future(self.call(client, op, args))
        await asyncio.sleep(after_ms / 1000)
        if task.done():
            raise CaseFailure(f"the call ended before it was cancelled: {describe_task(task)}")
        t0 = time.monotonic()
        task.cancel()
        within = want.get("within_ms", 1000) / 1000
        done, _ = await asyncio.wait({task}, timeout=within)
        elapsed = (time.monotonic() - t0) * 1000
        if not done:
            raise CaseFailure(f"the cancelled call was still running after {within * 1000:.0f} ms")
        how = ""
        if task.cancelled():
            how = "asyncio.CancelledError"
        else:
            e = task.exception()
            dto = error_dto(e) if e is not None else None
            if dto is not None and dto["family"] == "cancelled":
                how = f"{dto['code']} (cancelled)"
            else:
                raise CaseFailure(f"the cancelled call ended with {describe_task(task)}, not as cancelled")
        # the client keeps working after a cancelled call
        try:
            await self.face.do(lambda: client.db.query("SELECT 1 AS one"))
        except Exception as e:
            raise CaseFailure(f"cancelled as {how}, but the next call on the same client failed: {describe(e)}") from None
        return f"{how} {elapsed:.0f} ms after cancel"


def check_error(dto: Dict[str, Any], want: Dict[str, Any], elapsed_ms: float) -> List[str]:
    p: List[str] = []
    got = f"{dto['code']}/{dto['family']} status={dto['status']} {short(dto['message'], 120)!s}"
    for k in ("code", "family"):
        if k in want and dto[k] != want[k]:
            p.append(f"expected {k} {want[k]}, got {got}")
    if "status" in want and dto["status"] != want["status"]:
        p.append(f"expected status {want['status']}, got {dto['status']} ({got})")
    if "retryable" in want and dto["retryable"] is not want["retryable"]:
        p.append(f"expected retryable={want['retryable']}, got {dto['retryable']}")
    if want.get("retry_after") is True and not (isinstance(dto["retry_after"], (int, float)) and dto["retry_after"] > 0):
        p.append(f"expected retry_after > 0, got {dto['retry_after']!r}")
    if want.get("request_id") is True and not dto["request_id"]:
        p.append("expected a request id")
    if "field" in want:
        field = (dto["details"] or {}).get("field") if isinstance(dto["details"], dict) else None
        if field != want["field"]:
            p.append(f"expected details.field {want['field']!r}, got {field!r} ({got}, details={short(dto['details'])})")
    if "message_contains" in want and want["message_contains"] not in (dto["message"] or ""):
        p.append(f"expected the message to contain {want['message_contains']!r}, got {dto['message']!r}")
    if "within_ms" in want and elapsed_ms > want["within_ms"]:
        p.append(f"expected the error within {want['within_ms']} ms, it took {elapsed_ms:.0f} ms")
    return p


def describe(e: BaseException) -> str:
    dto = error_dto(e)
    if dto is not None:
        extra = f" details={short(dto['details'])}" if dto["details"] else ""
        return f"{type(e).__name__} {dto['code']}/{dto['family']} status={dto['status']}: {dto['message']}{extra}"
    if isinstance(e, asyncio.CancelledError):
        return "asyncio.CancelledError"
    return f"{type(e).__name__}: {e}"


def describe_task(task: "asyncio.Future[Any]") -> str:
    if task.cancelled():
        return "asyncio.CancelledError"
    e = task.exception()
    return describe(e) if e is not None else f"result {short(task.result())}"


# --------------------------------------------------------------------------------------------
# Scenarios (see README, "Scenarios")
# --------------------------------------------------------------------------------------------

async def until(pred: Callable[[], Any], timeout: float, what: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise CaseFailure(f"timed out after {timeout:.0f} s waiting for {what()}")
        await asyncio.sleep(POLL)


def wait_budget(run: Run, reserve: float = 2.0) -> float:
    return max(1.0, run.case.get("timeout_ms", DEFAULT_CASE_TIMEOUT_MS) / 1000 - reserve)


async def scenario_realtime(run: Run, params: Dict[str, Any], expect: Dict[str, Any]) -> str:
    face = run.face
    watcher, actor = face.client(run.project), face.client(run.project)
    events: List[Dict[str, Any]] = []

    def record(ev: Any) -> None:
        d = plain(dict(ev))
        data = d.get("data")
        d["state"] = data.get("state") if isinstance(data, dict) else None
        events.append(d)

    try:
        await run.call(actor, "db.query", {"sql": params["create_sql"]})
        table = params["table"]
        pub = params["publish"]
        ch = watcher.realtime.channel(table, filter=params.get("filter"))
        for name in ("INSERT", "UPDATE", "presence:join", pub["event"]):
            await face.do(functools.partial(ch.on, name, record))
        await face.do(lambda: ch.subscribe())
        mine = actor.realtime.channel(table)
        await face.do(lambda: mine.subscribe())
        await face.do(lambda: mine.track(params["presence_state"]))
        ack = plain(await face.do(lambda: mine.publish(pub["event"], pub.get("data"), persist=bool(pub.get("persist")))))
        ins, upd = params["insert"], params["update"]
        await run.call(actor, "db.query", {"sql": ins["sql"], "params": ins.get("params") or []})
        await run.call(actor, "db.query", {"sql": upd["sql"], "params": upd.get("params") or []})

        wanted = {k: expect[k] for k in ("insert", "update", "presence", "publish") if k in expect}

        def missing() -> List[str]:
            return [k for k, w in wanted.items() if not any(json_subset(w, e) for e in events)]

        await until(lambda: not missing(), wait_budget(run, 5.0),
                    lambda: f"{', '.join(missing())}; received: {short(events, 600)}")
        detail = f"{len(events)} events"
        for absent in expect.get("absent", []):
            if any(json_subset(absent, e) for e in events):
                raise CaseFailure(f"received {short(absent)}, which the filter excludes: {short(events, 600)}")
        if "history_contains" in expect:
            history = plain(await face.do(lambda: ch.get_history(limit=50)))
            if not isinstance(history, list) or not any(json_subset(expect["history_contains"], m) for m in history):
                raise CaseFailure(f"history has no {short(expect['history_contains'])}: {short(history, 400)}")
            detail += f", history {len(history)}"
        if pub.get("persist") and not (isinstance(ack, dict) and ack.get("id")):
            raise CaseFailure(f"publish with persist answered no id: {short(ack)}")
        return detail
    finally:
        for cl in (watcher, actor):
            try:
                await face.do(cl.close)
            except Exception:
                pass


async def scenario_queue_job(run: Run, params: Dict[str, Any], expect: Dict[str, Any]) -> str:
    c = run.plain_client()
    sent = await run.call(c, "queue.send", {"type": params["type"], "data": params.get("data"),
                                            "max_retries": params.get("max_retries", 3)})
    job_id = sent["job_id"]
    job: Dict[str, Any] = {}

    async def finished() -> bool:
        nonlocal job
        job = await run.call(c, "queue.job", {"job_id": job_id}) or {}
        return job.get("status") in ("completed", "failed", "cancelled")

    deadline = time.monotonic() + wait_budget(run)
    while not await finished():
        if time.monotonic() > deadline:
            raise CaseFailure(f"job {job_id} did not finish in time: {short(job)}")
        await asyncio.sleep(0.1)
    p: List[str] = []
    for k in ("status", "attempts"):
        if k in expect and not json_equal(job.get(k), expect[k]):
            p.append(f"expected {k} {expect[k]!r}, got {job.get(k)!r}")
    if "result" in expect and not json_equal(job.get("result"), expect["result"]):
        p.append(f"expected result {short(expect['result'])}, got {short(job.get('result'))}")
    if "last_error_contains" in expect and expect["last_error_contains"] not in (job.get("last_error") or ""):
        p.append(f"expected last_error to contain {expect['last_error_contains']!r}, got {job.get('last_error')!r}")
    if p:
        raise CaseFailure("; ".join(p) + f" (job: {short(job, 300)})")
    return f"{job['status']} after {job.get('attempts')} attempt(s)"


async def scenario_storage_round_trip(run: Run, params: Dict[str, Any], expect: Dict[str, Any]) -> str:
    c = run.plain_client()
    data = body_bytes(params["body"])
    calls: List[Tuple[int, Optional[int]]] = []
    args = {"key": params["key"], "content_type": params.get("content_type"), "body": params["body"],
            "source": params.get("source", "bytes")}
    up = await run.call(c, "storage.upload", args, progress=lambda sent, total: calls.append((sent, total)))
    p: List[str] = []
    if "upload" in expect:
        p += check_shape(up, expect["upload"], "upload")
    want = expect.get("progress") or {}
    if len(calls) < want.get("min_calls", 1):
        p.append(f"progress called {len(calls)} time(s), expected at least {want.get('min_calls', 1)}")
    if calls and want.get("reaches_total"):
        sent, total = calls[-1]
        if sent != len(data) or total not in (len(data),):
            p.append(f"the last progress call was ({sent}, {total}), expected ({len(data)}, {len(data)})")
    if want.get("monotonic") and any(b[0] < a[0] for a, b in zip(calls, calls[1:])):
        p.append(f"progress went backwards: {calls[:20]}")
    down_want = expect.get("download") or {}
    got = await c_do(run, lambda: c.storage.get(params["key"]))
    if down_want.get("bytes_equal") and got != data:
        p.append(f"downloaded {len(got)} bytes that differ from the {len(data)} uploaded")
    if "content_type" in down_want:
        p.append(f"download.content_type: {op_note('storage.get')}")
    if p:
        raise CaseFailure("; ".join(p))
    return f"{len(data)} bytes, {len(calls)} progress call(s)"


async def c_do(run: Run, fn: Callable[[], Any]) -> Any:
    return await run.face.do(fn)


async def scenario_paginate(run: Run, params: Dict[str, Any], expect: Dict[str, Any]) -> str:
    c = run.plain_client()
    seed = params.get("seed")
    if seed:
        for i in range(1, int(seed.get("count", 1)) + 1):
            args = resolve(seed.get("args") or {}, {**run.vars, "i": i})
            try:
                await run.call(c, seed["call"], args)
            except CaseFailure:
                raise
            except Exception as e:
                raise CaseFailure(f"seeding {seed['call']} #{i} failed: {describe(e)}") from None
    lst = params["list"]
    items_key, item_id = params["items"], params["item_id"]
    seen: List[Any] = []
    cursor: Optional[str] = None
    cursors: List[str] = []
    pages = 0
    while True:
        args = dict(lst.get("args") or {})
        if cursor is not None:
            args["cursor"] = cursor
        page = await run.call(c, lst["call"], args)
        pages += 1
        items = page.get(items_key) if isinstance(page, dict) else None
        if not isinstance(items, list):
            raise CaseFailure(f"page {pages} has no array {items_key!r}: {short(page)}")
        seen += [it.get(item_id) if isinstance(it, dict) else it for it in items]
        nxt = page.get("cursor")
        if not nxt:
            break
        if nxt in cursors:
            raise CaseFailure(f"page {pages} repeated an earlier cursor {nxt!r}")
        cursors.append(nxt)
        cursor = nxt
        if pages >= 100:
            raise CaseFailure("more than 100 pages: the cursor never ended")
    p: List[str] = []
    if "count" in expect and len(seen) != expect["count"]:
        p.append(f"saw {len(seen)} item(s) over {pages} page(s), expected {expect['count']}: {short(seen)}")
    if expect.get("unique") and len(set(map(str, seen))) != len(seen):
        p.append(f"some items were seen more than once: {short(seen)}")
    if "min_pages" in expect and pages < expect["min_pages"]:
        p.append(f"{pages} page(s), expected at least {expect['min_pages']}")
    if p:
        raise CaseFailure("; ".join(p))
    return f"{len(seen)} items in {pages} pages"


async def scenario_gateway_socket(run: Run, params: Dict[str, Any], expect: Dict[str, Any]) -> str:
    c = run.plain_client()
    slug = params["api_slug"]
    p: List[str] = []

    async def connect(key: str) -> Any:
        # Not through face.do: an async socket is async-iterable (its events), which do would drain.
        if run.face.name == "async":
            return await c.gateway.connect_websocket(slug, consumer_key=key)
        return await c_do(run, lambda: c.gateway.connect_websocket(slug, consumer_key=key))

    try:
        bad = await connect(params["bad_key"])
    except Exception as e:
        dto = error_dto(e)
        if dto is None:
            raise
        p += ["refused key: " + x for x in check_error(dto, expect["refused"], 0)]
    else:
        await c_do(run, bad.close)
        p.append("a refused consumer key connected")
    s = await connect(params["consumer_key"])

    async def event(kind: str) -> Dict[str, Any]:
        deadline = time.monotonic() + wait_budget(run)
        while time.monotonic() < deadline:
            ev = await c_do(run, lambda: s.next_event(timeout=1.0))
            if ev is not None and ev.get("type") == kind:
                return dict(ev)
        raise CaseFailure(f"no {kind} event in time")

    ping = await c_do(run, s.ping)
    pong = await event("pong")
    if pong.get("request") != ping:
        p.append(f"the pong answers request {pong.get('request')!r}, the ping was {ping!r}")
    sent = await c_do(run, lambda: s.send(params["frame"]))
    err = await event("error")
    if err.get("request") != sent or err.get("family") != expect["unknown_frame"]["family"]:
        p.append(f"the unknown frame (request {sent}) got {short(err)}")
    try:
        got = await c_do(run, lambda: s.chat(params["messages"]))
        p.append(f"the chat answered {short(got)}, expected an error")
    except Exception as e:
        dto = error_dto(e)
        if dto is None:
            raise
        p += ["chat: " + x for x in check_error(dto, expect["chat_error"], 0)]
    ping = await c_do(run, s.ping)
    if (await event("pong")).get("request") != ping:
        p.append("the second pong does not answer the second ping")
    await c_do(run, s.close)
    closed = await event("closed")
    if closed.get("code") != expect["close_code"]:
        p.append(f"closed with {short(closed)}, expected code {expect['close_code']}")
    if p:
        raise CaseFailure("; ".join(p))
    return "refused key, ping/pong, error frame, chat error, close"


SCENARIOS: Dict[str, Callable[[Run, Dict[str, Any], Dict[str, Any]], Any]] = {
    "realtime.round_trip": scenario_realtime,
    "gateway.socket": scenario_gateway_socket,
    "queue.run_job": scenario_queue_job,
    "storage.round_trip": scenario_storage_round_trip,
    "paginate": scenario_paginate,
}


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

async def run_case(case: Dict[str, Any], faces: List[Face], run_id: str) -> Tuple[bool, str]:
    timeout = case.get("timeout_ms", DEFAULT_CASE_TIMEOUT_MS) / 1000
    parts: List[Tuple[str, str]] = []  # (face, outcome)
    ok = True
    for face in faces:
        try:
            r = Run(case, face, run_id)
            outcome = await asyncio.wait_for(r.run(), timeout)
        except asyncio.TimeoutError:
            ok = False
            outcome = f"FAILED: the case did not finish within {timeout:g} s"
        except CaseFailure as e:
            ok = False
            outcome = f"FAILED: {e}"
        except Exception as e:  # noqa: BLE001 - a runner bug or an unexpected SDK exception
            ok = False
            tb = traceback.extract_tb(e.__traceback__)[-1]
            outcome = f"FAILED: {describe(e)} (at {Path(tb.filename).name}:{tb.lineno})"
        parts.append((face.name, outcome))
    # one line per distinct outcome: "async, sync: FAILED: ..." rather than the same text twice
    merged: Dict[str, List[str]] = {}
    for name, outcome in parts:
        merged.setdefault(outcome, []).append(name)
    return ok, "; ".join(f"{', '.join(names)}: {outcome}" for outcome, names in merged.items())


async def amain(args: argparse.Namespace) -> Dict[str, Dict[str, str]]:
    cases = load_cases(Path(args.cases))
    if args.only:
        pats = args.only.split(",")
        cases = [c for c in cases if any(fnmatch.fnmatch(c["id"], p) or p in c["id"] for p in pats)]
    spec = json.loads((Path(args.cases).parent / "platform.json").read_text())
    results: Dict[str, Dict[str, str]] = {}

    try:
        from aerostack.local import LocalPlatform

        opts = dict(spec.get("platform") or {})
        rl = opts.pop("rate_limits", None)
        platform = LocalPlatform(rate_limits={k: (v[0], v[1]) for k, v in (rl or {}).items()}, **opts)
    except Exception as e:  # noqa: BLE001 - every case fails with the reason
        reason = f"the local platform did not start: {type(e).__name__}: {e}"
        for c in cases:
            results[c["id"]] = {"status": "fail", "detail": reason}
            print(f"FAIL {c['id']}: {reason}", flush=True)
        return results

    run_id = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="conformance-py-") as tmp, platform:
        env = Env(platform, spec, Path(tmp))
        faces = [Face(f, env) for f in (["async", "sync"] if args.face == "both" else [args.face])]
        try:
            for c in cases:
                t0 = time.monotonic()
                ok, detail = await run_case(c, faces, run_id)
                ms = (time.monotonic() - t0) * 1000
                results[c["id"]] = {"status": "pass" if ok else "fail", "detail": detail}
                print(f"{'PASS' if ok else 'FAIL'} {c['id']} ({ms:.0f} ms){'' if ok else ': ' + detail}", flush=True)
        finally:
            env.close()
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="where to write the JSON result file")
    ap.add_argument("--cases", default=str(SUITE / "cases"),
                    help="the directory of case files (platform.json is read from its parent)")
    ap.add_argument("--only", help="comma-separated case id patterns (glob or substring)")
    ap.add_argument("--face", choices=("async", "sync", "both"), default="both",
                    help="which client face(s) to run every case on (default both)")
    ap.add_argument("--verbose", action="store_true",
                    help="keep the SDK's warnings (the fixture handlers that fail on purpose log one each)")
    args = ap.parse_args()
    if not args.verbose:
        import logging

        logging.getLogger("aerostack").setLevel(logging.ERROR)
    results = asyncio.run(amain(args))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"language": "python", "results": results}, indent=2) + "\n")
    passed = sum(1 for r in results.values() if r["status"] == "pass")
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
