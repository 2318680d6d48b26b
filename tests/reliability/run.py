#!/usr/bin/env python3
"""The reliability suite: a bounded fault matrix against the platform binary.

    python3 tests/reliability/run.py [--quick] [--readme README.md] [--only NAME,...]

Probes (each starts its own `aerostack-server` on a free loopback port; every loop is bounded in
count, every probe in time):
  kill9     kill -9 under mixed write load; every acknowledged write looked up after restart
  slow      slow-header and idle sockets; honest clients keep getting answers
  queries   oversized and hostile SQL, a 33 MiB body; health and another project keep answering
  realtime  hostile realtime clients with the project key: every per-connection limit
  enduser   a self-registered end user's token against every limit and rule

Prints a table (probe, tries, failures, acknowledged writes lost) and exits 1 when any probe
failed or lost an acknowledged write. `--quick` (what `make test` runs) is a small version that
takes seconds; the full one (`make reliability`) takes a few minutes and, with ``--readme``,
rewrites the section between ``<!-- reliability:start -->`` and ``<!-- reliability:end -->``.
Binary: $AEROSTACK_SERVER, else target/debug/aerostack-server. Python standard library only.
"""

from __future__ import annotations

import argparse
import platform
import signal
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import end_user  # noqa: E402
import kill9  # noqa: E402
import queries  # noqa: E402
import realtime  # noqa: E402
import slow_clients  # noqa: E402
from platform_proc import server_binary  # noqa: E402
from readme_section import rewrite_section  # noqa: E402
from result import Result  # noqa: E402

START, END = "<!-- reliability:start -->", "<!-- reliability:end -->"

# name, run, time bound quick / full (seconds): a probe over its bound is a failure
PROBES: List[Tuple[str, Callable[[bool], Result], int, int]] = [
    ("kill9", kill9.run, 90, 420),
    ("slow", slow_clients.run, 60, 180),
    ("queries", queries.run, 90, 300),
    ("realtime", realtime.run, 60, 240),
    ("enduser", end_user.run, 60, 240),
]


class ProbeTimeout(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001
    raise ProbeTimeout()


def render(results: List[Result], elapsed: Dict[str, float]) -> str:
    lines = ["| probe | tries | failures | acknowledged writes lost | time |",
             "|---|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.probe} | {r.tries} | {r.failures} | {r.lost} | "
                     f"{elapsed.get(r.probe, 0):.0f} s |")
    lines.append("")
    for r in results:
        for n in r.notes:
            lines.append(f"- {r.probe}: {' '.join(n.split())[:400]}")
    return "\n".join(lines)


def rewrite_readme(path: Path, body: str) -> None:
    rewrite_section(path, START, END, body)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the small bounded version (seconds)")
    ap.add_argument("--readme", help="rewrite the reliability section of this Markdown file")
    ap.add_argument("--only", help="comma-separated probe names: " + ", ".join(p[0] for p in PROBES))
    args = ap.parse_args()
    server_binary()  # fail early, saying how to build it
    only = set(args.only.split(",")) if args.only else None
    if only and not only <= {p[0] for p in PROBES}:
        raise SystemExit(f"--only: unknown probe in {args.only}; known: "
                         + ", ".join(p[0] for p in PROBES))
    signal.signal(signal.SIGALRM, _alarm)
    results: List[Result] = []
    elapsed: Dict[str, float] = {}
    t_all = time.monotonic()
    for name, fn, bound_quick, bound_full in PROBES:
        if only and name not in only:
            continue
        bound = bound_quick if args.quick else bound_full
        print(f"== {name} ({'quick' if args.quick else 'full'}, bound {bound} s)", flush=True)
        t0 = time.monotonic()
        signal.alarm(bound)
        try:
            r = fn(args.quick)
        except ProbeTimeout:
            r = Result(name)
            r.fail(f"did not finish within {bound} s")
        except Exception as e:  # a probe that cannot run is a failure, never a pass
            r = Result(name)
            r.fail(f"{type(e).__name__}: {e}")
        finally:
            signal.alarm(0)
        elapsed[r.probe] = time.monotonic() - t0
        results.append(r)
        print(f"   {r.tries} tries, {r.failures} failures, {r.lost} acknowledged writes lost "
              f"({elapsed[r.probe]:.1f} s)", flush=True)
    table = render(results, elapsed)
    print()
    print(table)
    failures = sum(r.failures for r in results)
    lost = sum(r.lost for r in results)
    if args.readme:
        if args.quick or only:
            print(f"(--quick or --only given: {args.readme} left as it is)")
        else:
            stamp = (f"Latest `make reliability`, {time.strftime('%Y-%m-%d')}, "
                     f"{platform.system()} {platform.machine()}, debug build, "
                     f"{time.monotonic() - t_all:.0f} s:")
            rewrite_readme(Path(args.readme), f"{stamp}\n\n{table}")
            print(f"(wrote the table into {args.readme})")
    print(f"{len(results)} probes, {failures} failures, {lost} acknowledged writes lost")
    return 1 if failures or lost or not results else 0


if __name__ == "__main__":
    sys.exit(main())
