"""Rewrites the part of a Markdown file between two marker lines (the conformance matrix, the
reliability table): the one helper the scripts that keep README sections current share."""

from __future__ import annotations

from pathlib import Path


def rewrite_section(path: Path, start: str, end: str, body: str) -> None:
    text = path.read_text()
    if start not in text or end not in text:
        raise SystemExit(f"{path}: no {start} ... {end} section to rewrite")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{body}\n{end}{tail}")
