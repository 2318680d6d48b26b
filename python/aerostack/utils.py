"""Retry configuration (seed 002's ``RetryConfig`` / ``BackoffStrategy``).

Both map onto the engine's one retry policy (``RetryPolicy``), used by every Aerostack SDK:
retried are 408/425/429/500/502/503/504 and, when ``retry_connection_errors``, connection
failures and timeouts; the wait before retry *n* is random in ``[0, min(max_interval,
initial_interval * exponent**n)]`` (full jitter), raised to ``Retry-After``; no retry starts
once ``max_elapsed_time`` would be exceeded. Non-idempotent calls are retried safely because the
engine sends one ``Idempotency-Key`` per logical call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Union

__all__ = ["BackoffStrategy", "RetryConfig", "RetryPolicy", "retry_policy"]


@dataclass
class BackoffStrategy:
    """Exponential backoff; intervals in **milliseconds** (as in seed 002)."""

    initial_interval: int = 500
    max_interval: int = 30_000
    exponent: float = 1.5
    max_elapsed_time: int = 120_000


@dataclass
class RetryConfig:
    """``RetryConfig("backoff", BackoffStrategy(...), retry_connection_errors)``, or
    ``RetryConfig("none")`` for no retries. ``max_attempts`` caps the total attempts
    (the engine's default is 4)."""

    strategy: str = "backoff"
    backoff: Optional[BackoffStrategy] = None
    retry_connection_errors: bool = True
    max_attempts: Optional[int] = None


#: The engine's policy as a mapping: max_attempts, initial_interval_ms, max_interval_ms,
#: exponent, max_elapsed_time_ms, retry_connection_errors (any subset).
RetryPolicy = Mapping[str, Any]


def retry_policy(retry: Union[RetryConfig, RetryPolicy, bool, None]) -> Optional[Dict[str, Any]]:
    """The engine policy for ``retry``: a :class:`RetryConfig`, a mapping of engine fields,
    ``False`` (no retries), or ``None`` (the default)."""
    if retry is None or retry is True:
        return None
    if retry is False:
        return {"max_attempts": 1}
    if isinstance(retry, RetryConfig):
        strategy = (retry.strategy or "backoff").lower()
        if strategy == "none":
            return {"max_attempts": 1}
        if strategy != "backoff":
            raise ValueError(f'RetryConfig.strategy must be "backoff" or "none", got {retry.strategy!r}')
        out: Dict[str, Any] = {"retry_connection_errors": bool(retry.retry_connection_errors)}
        b = retry.backoff
        if b is not None:
            out.update(
                initial_interval_ms=int(b.initial_interval),
                max_interval_ms=int(b.max_interval),
                exponent=float(b.exponent),
                max_elapsed_time_ms=int(b.max_elapsed_time),
            )
        if retry.max_attempts is not None:
            out["max_attempts"] = int(retry.max_attempts)
        return out
    if isinstance(retry, Mapping):
        known = {
            "max_attempts",
            "initial_interval_ms",
            "max_interval_ms",
            "exponent",
            "max_elapsed_time_ms",
            "retry_connection_errors",
        }
        unknown = set(retry) - known
        if unknown:
            raise ValueError(f"unknown retry fields {sorted(unknown)}; use {sorted(known)} or a RetryConfig")
        return dict(retry)
    raise TypeError(f"retry must be a RetryConfig, a mapping of retry fields, False or None, got {type(retry).__name__}")
