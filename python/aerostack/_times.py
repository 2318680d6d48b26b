"""Times as ``datetime``: one conversion, at the paths the binding surface lists.

The engine writes every time it reports as RFC 3339 UTC text with milliseconds; the surface
(``bindings/common/src/times.rs``) lists, per result type (an operation name, or
``realtime.event`` / ``realtime.presence_event`` / ``realtime.publish`` / ``realtime.presence``),
the paths where those times are. This module turns exactly those into timezone-aware
``datetime`` objects (UTC). User data (rows, payloads, tracked state) is never touched, whatever
its keys are called.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Union


_Steps = List[str]
_paths: Optional[Dict[str, List[_Steps]]] = None


def _steps(path: str) -> _Steps:
    """``history[].started_at`` -> ``["history", "[]", "started_at"]``."""
    out: _Steps = []
    for part in path.split("."):
        if part.endswith("[]"):
            if part[:-2]:
                out.append(part[:-2])
            out.append("[]")
        else:
            out.append(part)
    return out


def _table() -> Dict[str, List[_Steps]]:
    global _paths
    if _paths is None:
        from ._transport import native

        _paths = {kind: [_steps(p) for p in paths] for kind, paths in native().time_fields()}
    return _paths


def parse(text: str) -> datetime:
    """RFC 3339 text (as the engine writes it) to an aware UTC ``datetime``."""
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # fromisoformat takes "Z" only from Python 3.11
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def at(kind: str, value: Any) -> Any:
    """Converts, in place, the times of a result of type ``kind``; returns ``value``."""
    paths = _table().get(kind)
    if paths:
        for steps in paths:
            _convert(value, steps, 0)
    return value


def _convert(node: Any, steps: _Steps, i: int) -> None:
    step = steps[i]
    if step == "[]":
        if isinstance(node, list):
            for j, item in enumerate(node):
                if i + 1 == len(steps):
                    if isinstance(item, str):
                        node[j] = parse(item)
                else:
                    _convert(item, steps, i + 1)
        return
    if not isinstance(node, dict) or step not in node:
        return
    if i + 1 == len(steps):
        v = node[step]
        if isinstance(v, str):
            node[step] = parse(v)
    else:
        _convert(node[step], steps, i + 1)


def unix_ms(name: str, when: Union[datetime, int, None]) -> Optional[int]:
    """A point in time given as a ``datetime`` (a naive one is taken as UTC) or unix
    milliseconds, as the engine's unix milliseconds."""
    if when is None:
        return None
    if isinstance(when, datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return int(round(when.timestamp() * 1000))
    if isinstance(when, int) and not isinstance(when, bool):
        return when
    raise TypeError(f"{name} must be a datetime (e.g. last.created_at) or unix milliseconds, got {type(when).__name__}")
