#!/usr/bin/env python3
"""Runs every language runner of the conformance suite and prints the matrix (case x language).

    python3 tests/conformance/matrix.py [--readme README.md] [--only PATTERN] [--results-dir DIR]

Each runner (``RUNNERS`` below; a new language is one line) is started from the repository root
with ``--out <results-dir>/<language>.json`` and writes ``{"language", "results": {case_id:
{"status", "detail"}}}`` (see tests/conformance/README.md). A runner whose files do not exist yet
is listed as "no runner yet" and left out of the matrix; a runner that exists but crashes, or
leaves a case out, fails those cases. With ``--readme`` the section between
``<!-- conformance:start -->`` and ``<!-- conformance:end -->`` of that file is rewritten.

The last line printed is ``N passed, N failed`` over every (case, language) pair; the exit status
is 1 when anything failed.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from readme_section import rewrite_section  # noqa: E402
SUITE = ROOT / "tests" / "conformance"
START, END = "<!-- conformance:start -->", "<!-- conformance:end -->"
RUNNER_TIMEOUT_S = 30 * 60


class Runner(NamedTuple):
    language: str
    argv: List[str]        # run from the repository root; "{out}" is the result file
    needs: List[str]       # paths (from the root) that must exist for the runner to run


RUNNERS: List[Runner] = [
    Runner("python", [".venv/bin/python", "tests/conformance/python/run.py", "--out", "{out}"],
           [".venv/bin/python", "tests/conformance/python/run.py"]),
    # Not written yet: each runs as soon as its file exists (adjust the command with the runner).
    Runner("node", ["node", "tests/conformance/node/run.mjs", "--out", "{out}"], ["tests/conformance/node/run.mjs"]),
    Runner("go", ["go", "run", "./tests/conformance/go", "--out", "{out}"], ["tests/conformance/go/main.go"]),
    Runner("php", ["php", "tests/conformance/php/run.php", "--out", "{out}"], ["tests/conformance/php/run.php"]),
]


def case_ids() -> List[str]:
    ids: List[str] = []
    for f in sorted((SUITE / "cases").glob("*.json")):
        ids += [c["id"] for c in json.loads(f.read_text())["cases"]]
    return ids


def run_runner(r: Runner, out: Path, only: Optional[str]) -> Dict[str, Dict[str, str]]:
    """Runs one runner, streaming its output; its results (empty when it wrote none)."""
    argv = [a.replace("{out}", str(out)) for a in r.argv]
    if only:
        argv += ["--only", only]
    if out.exists():
        out.unlink()
    print(f"== {r.language}: {' '.join(argv)}", flush=True)
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        print(f"[{r.language}] could not start: {e}", flush=True)
        return {}
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            print(f"[{r.language}] {line.rstrip()}", flush=True)
            if time.monotonic() - t0 > RUNNER_TIMEOUT_S:
                proc.kill()
                print(f"[{r.language}] killed after {RUNNER_TIMEOUT_S} s", flush=True)
                break
        rc = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    print(f"== {r.language}: exit {rc} after {time.monotonic() - t0:.1f} s", flush=True)
    try:
        doc = json.loads(out.read_text())
    except (OSError, ValueError) as e:
        print(f"[{r.language}] no result file ({e})", flush=True)
        return {}
    if doc.get("language") != r.language:
        print(f"[{r.language}] the result file says language {doc.get('language')!r}", flush=True)
    return dict(doc.get("results") or {})


def cell(res: Optional[Dict[str, str]]) -> str:
    if res is None:
        return "**missing**"
    return "pass" if res.get("status") == "pass" else "**FAIL**"


def render(ids: List[str], langs: List[str], results: Dict[str, Dict[str, Dict[str, str]]],
           absent: List[str]) -> str:
    lines = ["| case | " + " | ".join(langs) + " |", "|---|" + "---|" * len(langs)]
    for cid in ids:
        lines.append(f"| `{cid}` | " + " | ".join(cell(results[l].get(cid)) for l in langs) + " |")
    passed = sum(1 for l in langs for cid in ids if (results[l].get(cid) or {}).get("status") == "pass")
    total = len(ids) * len(langs)
    lines.append("")
    summary = ", ".join(
        f"{l} {sum(1 for cid in ids if (results[l].get(cid) or {}).get('status') == 'pass')}/{len(ids)}" for l in langs)
    lines.append(f"{len(ids)} cases × {len(langs)} language(s), {passed}/{total} passing"
                 + (f" ({summary})." if summary else ": no runner ran."))
    if absent:
        lines.append(f"No runner yet: {', '.join(absent)}.")
    fails = [(cid, l, results[l].get(cid)) for cid in ids for l in langs
             if (results[l].get(cid) or {}).get("status") != "pass"]
    if fails:
        lines += ["", "Failing:", ""]
        for cid, l, res in fails:
            detail = (res or {}).get("detail") or "the runner reported no result for this case"
            detail = " ".join(detail.split())
            if len(detail) > 400:
                detail = detail[:397] + "..."
            lines.append(f"- `{cid}` ({l}): {detail}")
    return "\n".join(lines)


def rewrite_readme(path: Path, body: str) -> None:
    rewrite_section(path, START, END, body)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readme", help="rewrite the conformance section of this Markdown file")
    ap.add_argument("--only", help="passed to every runner: comma-separated case id patterns")
    ap.add_argument("--results-dir", default=str(ROOT / "target" / "conformance"),
                    help="where runners write their result files (default target/conformance)")
    args = ap.parse_args()

    ids = case_ids()
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: Dict[str, Dict[str, Dict[str, str]]] = {}
    absent: List[str] = []
    for r in RUNNERS:
        if not all((ROOT / p).exists() for p in r.needs):
            absent.append(r.language)
            print(f"== {r.language}: no runner yet ({', '.join(p for p in r.needs if not (ROOT / p).exists())} missing)")
            continue
        results[r.language] = run_runner(r, out_dir / f"{r.language}.json", args.only)
    if args.only:
        import fnmatch

        pats = args.only.split(",")
        ids = [c for c in ids if any(fnmatch.fnmatch(c, p) or p in c for p in pats)]
    langs = list(results)
    table = render(ids, langs, results, absent)
    print()
    print(table)
    if args.readme:
        if args.only:
            print(f"(--only given: {args.readme} left as it is)")
        else:
            stamp = (f"Latest `make conformance`, {time.strftime('%Y-%m-%d')}, "
                     f"{platform.system()} {platform.machine()}:")
            rewrite_readme(Path(args.readme), f"{stamp}\n\n{table}")
            print(f"(wrote the matrix into {args.readme})")
    passed = sum(1 for l in langs for cid in ids if (results[l].get(cid) or {}).get("status") == "pass")
    failed = len(ids) * len(langs) - passed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not langs else 0


if __name__ == "__main__":
    sys.exit(main())
