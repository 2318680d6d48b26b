"""Result containers: plain ``dict``/``list`` subclasses with attribute access."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional


_MASK = "'***'"
_SECRET_PARTS = ("token", "password", "secret", "api_key", "apikey")


def _secret(key: Any) -> bool:
    """Whether a field holds a credential: ``access_token``, ``refreshToken``, ``api_key``, ..."""
    k = str(key).lower()
    return any(p in k for p in _SECRET_PARTS)


def _masked(v: Any) -> str:
    """``repr(v)`` with credential fields masked, in nested objects and lists too."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {_MASK if _secret(k) and isinstance(x, str) and x else _masked(x)}"
                               for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_masked(x) for x in v) + "]"
    return repr(v)


class Record(Dict[str, Any]):
    """A JSON object as a ``dict`` whose keys are also attributes.

    ``result.access_token`` and ``result["access_token"]`` are the same thing; a missing key is
    ``AttributeError`` as an attribute and ``KeyError`` as an item. Nested objects are Records.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"this result has no field {name!r}; its fields are: {', '.join(map(str, self.keys())) or '(none)'}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self) -> Iterable[str]:
        return list(super().__dir__()) + [k for k in self.keys() if isinstance(k, str)]

    def __repr__(self) -> str:
        # Tokens, keys and passwords never reach a log line through a repr (print(result)).
        return f"Record({_masked(self)})"


class QueryResult(List[Record]):
    """The rows of ``db.query``: a ``list`` of row Records, plus ``.results``, ``.count``, ``.meta``.

    ``result[0]``, ``len(result)``, ``for row in result`` and ``return result`` (e.g. from a
    FastAPI handler) treat it as the list of rows.
    """

    __slots__ = ("count", "meta")

    count: int  # type: ignore[assignment]  # the row count shadows list.count, as the API documents
    meta: Optional[Record]

    def __init__(self, rows: Iterable[Record] = (), count: Optional[int] = None, meta: Optional[Record] = None) -> None:
        super().__init__(rows)
        self.count = len(self) if count is None else count
        self.meta = meta

    @property
    def results(self) -> List[Record]:
        """The rows (this list itself)."""
        return self

    def first(self) -> Optional[Record]:
        """The first row, or ``None``."""
        return self[0] if self else None

    def __repr__(self) -> str:
        return f"QueryResult({list.__repr__(self)}, count={self.count})"


# One decoder and one encoder, made on first use: `json` (with `re`) is a third of a cold
# `import aerostack`, and `json.dumps(..., separators=..., default=...)` would build a new encoder
# on every call.
_decode: Any = None
_encode: Any = None
_times_at: Any = None  # _times.at, imported on first use (import aerostack stays fast)


def loads(text: str, kind: Optional[str] = None) -> Any:
    """JSON text to Python, objects as :class:`Record`; with ``kind`` (the result type: an
    operation name, ``realtime.event``, ...) its times as ``datetime`` (see ``_times``)."""
    global _decode
    if _decode is None:
        import json

        _decode = json.JSONDecoder(object_hook=Record).decode
    value = _decode(text)
    if kind is not None:
        global _times_at
        if _times_at is None:
            from ._times import at

            _times_at = at
        value = _times_at(kind, value)
    return value


def dumps(value: Any) -> str:
    """Python to compact JSON text (bytes are refused with a clear message)."""
    global _encode
    if _encode is None:
        import json

        _encode = json.JSONEncoder(separators=(",", ":"), default=_default).encode
    return _encode(value)  # type: ignore[no-any-return]


def _default(o: Any) -> Any:
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if isinstance(o, (bytes, bytearray, memoryview)):
        raise TypeError("bytes cannot be sent as JSON; upload them with storage.upload or encode them (base64) first")
    raise TypeError(f"{type(o).__name__} is not JSON serializable; pass dicts, lists, str, int, float, bool or None")


class StoredObject(bytes):
    """An object's content (``bytes``) that also carries its ``content_type``."""

    content_type: Optional[str]

    def __new__(cls, data: bytes, content_type: Optional[str] = None) -> "StoredObject":
        obj = super().__new__(cls, data)
        obj.content_type = content_type
        return obj

    def __repr__(self) -> str:
        return f"<StoredObject {len(self)} bytes, {self.content_type or 'no content type'}>"
