"""Generates ``python/API.md``, the API reference: every public class and method of the package
with its signature and the first paragraph of its docstring (which states the result's shape).

Read from the sources with ``ast`` (nothing is imported): the service namespaces from the stub
``aerostack/_api.pyi`` (the precise async types; the blocking twin has the same signatures without
``async``), the rest from the modules below. Run ``python tools/gen_reference.py`` after changing
a public signature or docstring; ``--check`` fails when API.md is stale (the test suite runs it).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "aerostack"
OUT = ROOT / "API.md"

Func = Union[ast.FunctionDef, ast.AsyncFunctionDef]

# (heading, source file, classes in order, intro)
SECTIONS: Sequence[Tuple[str, str, Sequence[str], str]] = [
    ("Clients", "_client.py", ["_ClientBase", "AerostackClient", "SyncAerostackClient"],
     "`AerostackClient` is async (`await client.db.query(...)`); `SyncAerostackClient` has the same "
     "namespaces and methods, blocking."),
    ("Service namespaces", "_api.pyi",
     ["AsyncRoot", "AsyncAuth", "AsyncDb", "AsyncCollection", "AsyncCache", "AsyncStorage", "AsyncAi", "AsyncAiSearch", "AsyncGateway", "AsyncQueue",
      "AsyncSecrets", "AsyncServices", "AsyncLocal"],
     "`client.auth`, `client.db`, ... on `AerostackClient`. On `SyncAerostackClient` each method has "
     "the same signature without `async` (classes `SyncAuth`, `SyncDb`, ...), and streams are plain "
     "iterators instead of async ones."),
    ("The gateway's WebSocket", "_gateway_socket.py", ["AsyncGatewaySocket", "SyncGatewaySocket"],
     "`await client.gateway.connect_websocket(api_slug, consumer_key=...)` gives an `AsyncGatewaySocket` "
     "(`SyncGatewaySocket` on `SyncAerostackClient`): `chat`, `send_chat`, `ping`, `send`, `next_event`, "
     "iteration until the `closed` event, `close`."),
    ("Realtime", "_realtime.py", ["Realtime", "Channel", "EventStream", "Socket", "Pending"],
     "`client.realtime` and `client.socket`. Calls marked *started at once* return a `Pending` on "
     "the async client (await it, or not) and the result on the sync client."),
    ("Logic Modules and queue workers", "hooks/_app.py", ["Hooks", "BackgroundWorker"],
     "`from aerostack import hooks` (the default registry's functions are module-level: "
     "`hooks.module`, `hooks.job`, `hooks.on_event`, `hooks.run`, `hooks.serve`, `hooks.start`)."),
    ("The scoped sdk of a handler", "hooks/_sdk.py", ["AsyncSdk", "SyncSdk", "HookSocket", "HookAi", "FetchResponse"],
     "The `sdk` argument of a handler: `AsyncSdk` for `async def` handlers, `SyncSdk` for plain `def` "
     "ones; `sdk.db`, `sdk.cache`, `sdk.storage`, `sdk.queue`, `sdk.secrets`, `sdk.services` are the "
     "client namespaces above, bound to the invocation's project."),
    ("Local platform", "local/__init__.py", ["LocalPlatform"], "`from aerostack.local import LocalPlatform`."),
    ("Operation-style SDK (seed 002)", "_sdk.py", ["SDK", "Ai", "Authentication", "Cache", "Database", "Queue",
                                                   "Services", "Storage"],
     "`from aerostack import SDK`. Every operation `op(request=None, retries=None, *, timeout_ms=None)` "
     "also exists as `op_async`; `request` uses the REST API's field names and the result is the "
     "platform's JSON answer."),
    ("Results and retries", "_records.py", ["Record", "QueryResult", "StoredObject"], ""),
    ("", "utils.py", ["RetryConfig", "BackoffStrategy"], ""),
]


def _first_paragraph(doc: Optional[str]) -> str:
    if not doc:
        return ""
    lines: List[str] = []
    for line in doc.strip().splitlines():
        if not line.strip():
            break
        lines.append(line.strip())
    return " ".join(lines)


def _signature(f: Func) -> str:
    a = f.args
    if a.args and a.args[0].arg in ("self", "cls"):  # bound: not part of what a caller writes
        a = ast.arguments(posonlyargs=a.posonlyargs, args=a.args[1:], vararg=a.vararg, kwonlyargs=a.kwonlyargs,
                          kw_defaults=a.kw_defaults, kwarg=a.kwarg, defaults=a.defaults)
    args = ast.unparse(a)
    ret = f" -> {ast.unparse(f.returns)}" if f.returns is not None else ""
    prefix = "async def" if isinstance(f, ast.AsyncFunctionDef) else "def"
    return f"{prefix} {f.name}({args}){ret}"


def _is_property(f: Func) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" for d in f.decorator_list)


def _ops(cls: ast.ClassDef) -> Iterable[Tuple[str, str]]:
    """``name, name_async = _ops("doc")`` assignments of the seed-002 groups."""
    for node in cls.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "_ops"
                and isinstance(node.targets[0], ast.Tuple)):
            names = [e.id for e in node.targets[0].elts if isinstance(e, ast.Name)]
            doc = node.value.args[0].value if node.value.args and isinstance(node.value.args[0], ast.Constant) else ""
            yield names[0], str(doc)


# Shared base classes, shown under the names users write.
DISPLAY = {"_ClientBase": "AerostackClient / SyncAerostackClient (both)"}


def _class(cls: ast.ClassDef) -> List[str]:
    shown = DISPLAY.get(cls.name, cls.name)
    out = [f"### `{shown}`", ""]
    doc = _first_paragraph(ast.get_docstring(cls))
    if doc:
        out += [doc, ""]
    rows: List[str] = []
    for node in cls.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        public = not node.name.startswith("_") or node.name in ("__init__", "__aiter__", "__iter__")
        if not public:
            continue
        sig = _signature(node)
        if node.name == "__init__":
            sig = f"{shown.split(' ')[0]}({sig[len('def __init__('):].split(') ->')[0]})"
        elif _is_property(node):
            ret = f": {ast.unparse(node.returns)}" if node.returns is not None else ""
            sig = f"property {node.name}{ret}"
        rows.append(f"- `{sig}`" + (f"  \n  {_first_paragraph(ast.get_docstring(node))}"
                                     if ast.get_docstring(node) else ""))
    for name, doc in _ops(cls):
        rows.append(f"- `{name}(request=None, retries=None, *, timeout_ms=None)` / `{name}_async(...)`  \n  {doc}.")
    return out + rows + [""]


def render() -> str:
    out = [
        "# Aerostack Python SDK: API reference",
        "",
        "Generated by `python/tools/gen_reference.py` from the package's sources and stubs; do not edit.",
        "Every signature below is checked against the code by the test suite. See README.md for a tour.",
        "",
    ]
    for heading, source, classes, intro in SECTIONS:
        tree = ast.parse((PKG / source).read_text())
        found = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
        if heading:
            out += [f"## {heading}", ""]
        if intro:
            out += [intro, ""]
        for name in classes:
            if name not in found:
                raise SystemExit(f"gen_reference: class {name} not found in {source}")
            out += _class(found[name])
    return "\n".join(out).rstrip() + "\n"


def main(argv: List[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print("python/API.md is stale: run python python/tools/gen_reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
