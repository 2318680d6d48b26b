"""The Python half of `make bench`: this SDK vs raw httpx vs the official `aerostack==0.1.2`.

Run with the repo's .venv (which has this SDK); the official package and httpx live in
.venv-bench (bench/python/requirements-official.txt), because the official package is also
named `aerostack`. Starts the local platform in-process and the Rust static responder
(`aerostack-bench --serve-static 0`), then runs every measurement in its own fresh process and
prints a markdown table; `--out FILE` writes it, `--readme README.md` replaces the section between
<!-- bench-python:start --> and <!-- bench-python:end -->.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as pyplatform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WORKER = str(HERE / "worker.py")
START, END = "<!-- bench-python:start -->", "<!-- bench-python:end -->"

# (label, concurrency, seconds): 0 = a blocking client calling one after another.
MODES = [("sequential (async)", 1, 1.0), ("sequential (blocking)", 0, 1.0), ("100 in flight", 100, 1.0), ("1,000 in flight", 1000, 1.0)]
OPS = [("db", "db_query"), ("cache", "cache_get")]
IMPLS = ["ours", "httpx", "official"]


def py_for(impl: str, ours_py: str, bench_py: str) -> str:
    return ours_py if impl == "ours" else bench_py


def run_json(cmd: list[str], timeout: float = 60) -> dict:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        return {"failed": f"exit {p.returncode}: {p.stderr.strip()[-600:]}"}
    return json.loads(lines[-1])


IMPORTS = {
    # `import aerostack` alone; then the import a program does to get its client class; then that
    # plus constructing a client (no call made).
    "ours": ["import aerostack", "from aerostack import AerostackClient",
             "from aerostack import AerostackClient; AerostackClient(project_id='p', api_key='k', base_url='http://127.0.0.1:9/v1')"],
    "official": ["import aerostack", "from aerostack import SDK",
                 "from aerostack import SDK; SDK(server_url='http://127.0.0.1:9/v1', api_key_auth='k')"],
}


def import_ms(py: str, stmt: str, n: int = 7) -> float:
    """Median wall time of `stmt` in n fresh processes, timed inside the process."""
    code = f"import time; t = time.perf_counter(); {stmt}; print((time.perf_counter() - t) * 1000)"
    subprocess.run([py, "-c", stmt], capture_output=True, check=True, cwd="/")  # warm the page cache
    times = []
    for _ in range(n):
        out = subprocess.run([py, "-c", code], capture_output=True, text=True, check=True, cwd="/").stdout
        times.append(float(out.strip()))
    return statistics.median(times)


def fmt_rate(r: dict) -> str:
    if "failed" in r:
        return "failed"
    s = f"{r['rate']:.0f}"
    if r.get("errors"):
        s += f" ({r['errors']} errors)"
    return s


def ratio(a: dict, b: dict) -> str:
    if "failed" in a or "failed" in b or not b.get("rate"):
        return "n/a"
    return f"{a['rate'] / b['rate']:.1f}×"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--readme")
    ap.add_argument("--bench-bin", default=str(ROOT / "target/release/aerostack-bench"))
    ap.add_argument("--bench-python", default=str(ROOT / ".venv-bench/bin/python"))
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every run's duration")
    args = ap.parse_args()
    ours_py = sys.executable
    bench_py = args.bench_python

    from aerostack.local import LocalPlatform

    static = subprocess.Popen([args.bench_bin, "--serve-static", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert static.stdout is not None
        static_url = static.stdout.readline().strip() + "/v1"
        with LocalPlatform() as p:
            url, key, project = p.api_url, p.api_key, p.project_id
            c = p.sync_client()
            c.db.query("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT)")
            for i in range(1, 101):
                c.db.query("INSERT OR REPLACE INTO items (id, name) VALUES (?, ?)", [i, f"item {i}"])
            c.cache.set("bench:key", {"hello": "world", "n": 42})

            results: dict[tuple[str, str, str, str], dict] = {}
            for target, api in [("platform", url), ("static hyper", static_url)]:
                for mode, conc, secs in MODES:
                    for op, _ in OPS:
                        for impl in IMPLS:
                            r = run_json([py_for(impl, ours_py, bench_py), WORKER, "rate", impl, op, str(conc),
                                          str(secs * args.scale), api, key, project])
                            results[(target, mode, op, impl)] = r
                            print(f"bench-python: {target:12} {mode:22} {op:5} {impl:8} {fmt_rate(r)}"
                                  + (f"  {r['failed']}" if "failed" in r else "")
                                  + (f"  first error: {r['first_error']}" if r.get("first_error") else ""),
                                  file=sys.stderr, flush=True)
            rss = {impl: run_json([py_for(impl, ours_py, bench_py), WORKER, "rss", impl, url, key, project])
                   for impl in IMPLS}
        imp = {impl: [import_ms(py, stmt) for stmt in IMPORTS[impl]] for impl, py in (("ours", ours_py), ("official", bench_py))}
    finally:
        static.kill()
        static.wait()

    lines = [f"This SDK vs raw httpx vs the official `aerostack==0.1.2` (calls/s, async unless marked; "
             f"targets: ≥ 10× official sequentially, ≥ 20× at 100 in flight, ≥ 3× raw httpx sequentially), "
             f"{os.cpu_count()} cores, {pyplatform.machine()}, Python {pyplatform.python_version()}:", "",
             "| server | mode | call | this SDK | raw httpx | official 0.1.2 | ours / httpx | ours / official |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for target in ["platform", "static hyper"]:
        for mode, _, _ in MODES:
            for op, name in OPS:
                o, h, f = (results[(target, mode, op, i)] for i in IMPLS)
                lines.append(f"| {target} | {mode} | {name} | {fmt_rate(o)} | {fmt_rate(h)} | {fmt_rate(f)} "
                             f"| {ratio(o, h)} | {ratio(o, f)} |")
    failures = sorted({f"{i}: {r['failed']}" for (_, _, _, i), r in results.items() if "failed" in r})
    errs = sorted({f"{i}: {r['first_error']}" for (_, _, _, i), r in results.items() if r.get("first_error")})
    lines += ["", "| | this SDK | official 0.1.2 | ratio |", "|---|---:|---:|---:|",
              f"| `import aerostack` (median of 7 fresh processes; target ≤ 30 ms) | {imp['ours'][0]:.1f} ms "
              f"| {imp['official'][0]:.1f} ms | {imp['official'][0] / imp['ours'][0]:.1f}× faster |",
              f"| `from aerostack import AerostackClient` (official: `SDK`) | {imp['ours'][1]:.1f} ms "
              f"| {imp['official'][1]:.1f} ms | {imp['official'][1] / imp['ours'][1]:.1f}× faster |",
              f"| that import + constructing a client | {imp['ours'][2]:.1f} ms "
              f"| {imp['official'][2]:.1f} ms | {imp['official'][2] / imp['ours'][2]:.1f}× faster |"]
    r_o, r_f, r_h = (rss[i].get("rss_kib", 0) / 1024 for i in ("ours", "official", "httpx"))
    lines.append(f"| RSS of a process holding a client after one call (raw httpx: {r_h:.1f} MiB) "
                 f"| {r_o:.1f} MiB | {r_f:.1f} MiB | {r_f / r_o:.1f}× smaller |" if r_o else "| RSS | n/a | n/a | |")
    if failures or errs:
        lines += ["", "Failures and errors: " + "; ".join(failures + errs)]
    md = "\n".join(lines) + "\n"
    print(md)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(md)
        print(f"bench-python: wrote {args.out}", file=sys.stderr)
    if args.readme:
        text = Path(args.readme).read_text()
        a, b = text.find(START), text.find(END)
        if a < 0 or b < a:
            raise SystemExit(f"{args.readme} has no {START} ... {END} section")
        Path(args.readme).write_text(text[: a + len(START)] + "\n" + md + text[b:])
        print(f"bench-python: updated {args.readme}", file=sys.stderr)


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"bench-python: {time.perf_counter() - t:.0f} s", file=sys.stderr)
