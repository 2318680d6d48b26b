"""Retry configuration (seed 002's ``RetryConfig`` / ``BackoffStrategy``).

Both map onto the engine's one retry policy (``RetryPolicy``), used by every Aerostack SDK:
retried are 408/425/429/500/502/503/504 and, when ``retry_connection_errors``, connection
failures and timeouts; the wait before retry *n* is random in ``[0, min(max_interval,
initial_interval * exponent**n)]`` (full jitter), raised to ``Retry-After``; no retry starts
once ``max_elapsed_time`` would be exceeded. Non-idempotent calls are retried safely because the
engine sends one ``Idempotency-Key`` per logical call.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple, Union

__all__ = ["BackoffStrategy", "RetryConfig", "RetryPolicy", "retry_policy"]


class _Value:
    """Equality and repr by fields (what ``@dataclass`` would give, without importing
    ``dataclasses``, which pulls in ``inspect`` and costs ~12 ms of ``import aerostack``)."""

    __slots__ = ()
    _fields: Tuple[str, ...] = ()

    def _values(self) -> Tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self._fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Value) and type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({args})"


def seconds_ms(name: str, seconds: float) -> int:
    """A duration given in seconds (the Python SDK's unit) as the engine's milliseconds (at least
    1); anything but a positive number is a ``ValueError`` naming ``name``."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise ValueError(f"{name} must be a positive number of seconds, e.g. {name}=10, got {seconds!r}")
    return max(1, int(round(seconds * 1000)))


class BackoffStrategy(_Value):
    """Exponential backoff; intervals in **milliseconds** (as in seed 002)."""

    __slots__ = ("initial_interval", "max_interval", "exponent", "max_elapsed_time")
    _fields = __slots__

    def __init__(self, initial_interval: int = 500, max_interval: int = 30_000, exponent: float = 1.5,
                 max_elapsed_time: int = 120_000) -> None:
        self.initial_interval = initial_interval
        self.max_interval = max_interval
        self.exponent = exponent
        self.max_elapsed_time = max_elapsed_time


class RetryConfig(_Value):
    """``RetryConfig("backoff", BackoffStrategy(...), retry_connection_errors)``, or
    ``RetryConfig("none")`` for no retries. ``max_attempts`` caps the total attempts
    (the engine's default is 4)."""

    __slots__ = ("strategy", "backoff", "retry_connection_errors", "max_attempts")
    _fields = __slots__

    def __init__(self, strategy: str = "backoff", backoff: Optional[BackoffStrategy] = None,
                 retry_connection_errors: bool = True, max_attempts: Optional[int] = None) -> None:
        self.strategy = strategy
        self.backoff = backoff
        self.retry_connection_errors = retry_connection_errors
        self.max_attempts = max_attempts


#: The engine's policy as a mapping: max_attempts, initial_interval_ms, max_interval_ms,
#: exponent, max_elapsed_time_ms, retry_connection_errors (any subset).
RetryPolicy = Mapping[str, Any]


def retry_policy(retry: Union[RetryConfig, RetryPolicy, bool, None]) -> Optional[Dict[str, Any]]:
    """The engine policy for ``retry``: a :class:`RetryConfig`, a mapping of engine fields,
    ``False`` (no retries), or ``None`` (the default). The engine decodes both shapes and names
    a wrong field or strategy (bindings: the same ``RetryConfig`` JSON in every language)."""
    if retry is None or retry is True:
        return None
    if retry is False:
        return {"max_attempts": 1}
    if isinstance(retry, RetryConfig):
        out: Dict[str, Any] = {"strategy": retry.strategy, "retry_connection_errors": bool(retry.retry_connection_errors)}
        b = retry.backoff
        if b is not None:
            out["backoff"] = {"initial_interval": int(b.initial_interval), "max_interval": int(b.max_interval),
                              "exponent": float(b.exponent), "max_elapsed_time": int(b.max_elapsed_time)}
        if retry.max_attempts is not None:
            out["max_attempts"] = int(retry.max_attempts)
        return out
    if isinstance(retry, Mapping):
        return dict(retry)
    raise TypeError(f"retry must be a RetryConfig, a mapping of retry fields, False or None, got {type(retry).__name__}")
