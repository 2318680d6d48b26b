"""Exceptions raised by the Aerostack SDK.

One hierarchy serves both faces of the package:

* ``AerostackClient`` (seed 001): catch :class:`AerostackError` or one family class
  (:class:`AuthError`, :class:`ValidationError`, :class:`NotFoundError`, :class:`ConflictError`,
  :class:`RateLimitError`, :class:`ServerError`, :class:`NetworkError`,
  :class:`AerostackTimeoutError`, :class:`CancelledError`, :class:`ConfigError`,
  :class:`DecodeError`). Every error carries ``.code .status .message .request_id .retryable
  .retry_after .details .body``.
* ``SDK`` (seed 002): ``except errors.SDKBaseError as e`` with ``e.message``, ``e.status_code``,
  ``e.headers``, ``e.body``, ``e.raw_response``, and ``isinstance(e, errors.ErrorResponse)`` with
  ``e.data.code / e.data.details / e.data.message``.

:class:`AerostackError` derives from :class:`SDKBaseError`, and :class:`ErrorResponse` is the same
class as :class:`AerostackError`, so one raised exception satisfies the ``except`` clauses
documented for both faces. Which family an error code belongs to is decided once, in the engine's
shared table (``bindings/common/src/errors.rs``), for every language.
"""

from __future__ import annotations

import builtins
from typing import Any, Dict, Mapping, Optional, Tuple, Type

__all__ = [
    "SDKBaseError",
    "AerostackError",
    "ErrorResponse",
    "ErrorData",
    "AuthError",
    "ValidationError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "ServerError",
    "NoResponseError",
    "NetworkError",
    "AerostackTimeoutError",
    "CancelledError",
    "ConfigError",
    "DecodeError",
    "ResponseValidationError",
    "error_class_for_family",
]


class SDKBaseError(Exception):
    """Base of every error the SDK raises (seed 002's name).

    ``headers`` holds what the engine kept of the response headers (``x-request-id``,
    ``retry-after``); ``raw_response`` is always ``None`` (there is no httpx response object).
    """

    message: str
    status_code: int
    headers: Dict[str, str]
    body: str
    raw_response: Any

    def __init__(
        self,
        message: str,
        status_code: int = 0,
        headers: Optional[Mapping[str, str]] = None,
        body: str = "",
        raw_response: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.headers = dict(headers or {})
        self.body = body
        self.raw_response = raw_response

    def __str__(self) -> str:
        return self.message


class ErrorData:
    """Seed 002's structured error data: ``code``, ``message``, ``details``."""

    __slots__ = ("code", "message", "details")

    def __init__(self, code: str, message: str, details: Optional[Dict[str, Any]]) -> None:
        self.code = code
        self.message = message
        self.details = details

    def __repr__(self) -> str:
        return f"ErrorData(code={self.code!r}, message={self.message!r}, details={self.details!r})"


class AerostackError(SDKBaseError):
    """An Aerostack error: the platform answered with an error, or the call failed client-side.

    Attributes:
        code: stable error code, e.g. ``AUTH_INVALID_CREDENTIALS``, ``TIMEOUT``.
        status: HTTP status when the platform answered, else ``None``.
        message: human-readable message (the platform's, when it sent one).
        request_id: the call's ``X-Request-ID``, to find it in the platform's logs.
        retryable: whether repeating the call may succeed.
        retry_after: seconds the platform asked to wait (``Retry-After``), or ``None``.
        details: structured details, e.g. ``{"field": "email"}``.
        body: the raw response body ("" when there was none).
        family: the family name (``auth``, ``validation``, ...).
    """

    family_name = "server"

    code: str
    status: Optional[int]
    request_id: Optional[str]
    retryable: bool
    retry_after: Optional[float]
    details: Optional[Dict[str, Any]]
    family: str

    def __init__(
        self,
        message: str,
        code: str = "INTERNAL_ERROR",
        status: Optional[int] = None,
        request_id: Optional[str] = None,
        retryable: bool = False,
        retry_after: Optional[float] = None,
        details: Optional[Dict[str, Any]] = None,
        body: Optional[str] = None,
        family: Optional[str] = None,
    ) -> None:
        headers: Dict[str, str] = {}
        if request_id:
            headers["x-request-id"] = request_id
        if retry_after is not None:
            headers["retry-after"] = str(int(retry_after)) if retry_after == int(retry_after) else str(retry_after)
        super().__init__(message, status or 0, headers, body or "", None)
        self.code = code
        self.status = status
        self.request_id = request_id
        self.retryable = retryable
        self.retry_after = retry_after
        self.details = details
        self.family = family or self.family_name

    @property
    def data(self) -> ErrorData:
        """Seed 002's ``e.data.code / .details / .message``."""
        return ErrorData(self.code, self.message, self.details)

    def __str__(self) -> str:
        where = f" ({self.status})" if self.status else ""
        rid = f" [request_id={self.request_id}]" if self.request_id else ""
        return f"{self.code}{where}: {self.message}{rid}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )

    def __reduce__(self) -> Tuple[Any, ...]:
        return (
            type(self),
            (
                self.message,
                self.code,
                self.status,
                self.request_id,
                self.retryable,
                self.retry_after,
                self.details,
                self.body,
                self.family,
            ),
        )


#: Seed 002's class for errors with a structured body. Every :class:`AerostackError` has ``.data``.
ErrorResponse = AerostackError


class AuthError(AerostackError):
    """Bad API key or credentials, expired or invalid tokens (401, 403)."""

    family_name = "auth"


class ValidationError(AerostackError, ValueError):
    """The request was refused as invalid; ``details["field"]`` names the field (400, 413, 422)."""

    family_name = "validation"


class NotFoundError(AerostackError, LookupError):
    """The thing asked for does not exist (404)."""

    family_name = "not_found"


class ConflictError(AerostackError):
    """A conflict such as an existing user or a reused idempotency key (409)."""

    family_name = "conflict"


class RateLimitError(AerostackError):
    """Too many requests; ``retry_after`` says when to come back (429)."""

    family_name = "rate_limit"


class ServerError(AerostackError):
    """The platform or an upstream failed (5xx), or a service is not configured/running."""

    family_name = "server"


class NoResponseError(AerostackError):
    """The call got no response (seed 002's name): network failures and timeouts."""

    family_name = "network"


class NetworkError(NoResponseError, ConnectionError):
    """Connection refused, reset, DNS failure."""

    family_name = "network"


class AerostackTimeoutError(NoResponseError, builtins.TimeoutError):
    """The call ran out of time (also a builtin ``TimeoutError``)."""

    family_name = "timeout"


#: Alias; :class:`AerostackTimeoutError` also subclasses the builtin ``TimeoutError``.
TimeoutError = AerostackTimeoutError


class CancelledError(AerostackError):
    """The call was cancelled by the engine's cancellation registry.

    Cancelling an awaiting asyncio task raises ``asyncio.CancelledError`` as usual.
    """

    family_name = "cancelled"


class ConfigError(AerostackError, ValueError):
    """The client was configured wrongly (missing key, bad URL), or used across ``fork()``."""

    family_name = "config"


class DecodeError(AerostackError):
    """The answer could not be decoded into the expected shape."""

    family_name = "decode"

    @property
    def cause(self) -> Optional[BaseException]:
        """Seed 002's ``ResponseValidationError.cause``."""
        return self.__cause__


#: Seed 002's name for a response that does not match the expected type.
ResponseValidationError = DecodeError

_FAMILIES: Dict[str, Type[AerostackError]] = {
    "auth": AuthError,
    "validation": ValidationError,
    "not_found": NotFoundError,
    "conflict": ConflictError,
    "rate_limit": RateLimitError,
    "server": ServerError,
    "network": NetworkError,
    "timeout": AerostackTimeoutError,
    "cancelled": CancelledError,
    "config": ConfigError,
    "decode": DecodeError,
}


def error_class_for_family(family: str) -> Type[AerostackError]:
    """The exception class of a family name (``auth``, ``validation``, ...)."""
    return _FAMILIES.get(family, AerostackError)


def _from_native(e: BaseException) -> AerostackError:
    """Turns ``aerostack._native.NativeError`` (fields in ``args``) into its family class."""
    a = tuple(e.args) + (None,) * 9
    message, code, status, request_id, retryable, retry_after, details, body, family = a[:9]
    parsed: Optional[Dict[str, Any]] = None
    if details:
        try:
            import json  # only here: keeps `import aerostack` light

            value = json.loads(details)
            parsed = value if isinstance(value, dict) else {"value": value}
        except ValueError:
            parsed = {"raw": details}
    cls = error_class_for_family(str(family or "server"))
    return cls(
        str(message or ""),
        str(code or "INTERNAL_ERROR"),
        status,
        request_id,
        bool(retryable),
        retry_after,
        parsed,
        body,
        family,
    )
