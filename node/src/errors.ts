/**
 * Errors of the Aerostack SDK. Every failure is an {@link AerostackError} carrying `code`,
 * `status`, `requestId`, `retryable`, `retryAfterMs`, `details` and `body`; its class is the one of
 * its `family`, decided once for every language by the surface's table
 * (bindings/common/src/errors.rs). The official `@aerostack/sdk` names are the same classes:
 * `ClientError` is `AerostackError` (with `isAuthError()`, `isNetworkError()`,
 * `isValidationError()`, `statusCode`, `toJSON()`), `AuthenticationError` is `AuthError`, so
 * `instanceof` works with either spelling.
 */

/** The surface's error object, as the addon hands it over. */
export interface ErrorDto {
  code: string;
  family: string;
  status: number | null;
  message: string;
  request_id: string | null;
  retryable: boolean;
  retry_after_ms: number | null;
  details: unknown;
  body: string | null;
}

export type ErrorFamily =
  | "auth"
  | "validation"
  | "not_found"
  | "conflict"
  | "rate_limit"
  | "server"
  | "network"
  | "timeout"
  | "cancelled"
  | "config"
  | "decode";

export class AerostackError extends Error {
  /** Stable code, e.g. `AUTH_INVALID_CREDENTIALS`, `VALIDATION_ERROR`, `TIMEOUT`. */
  readonly code: string;
  /** The family (`auth`, `validation`, ...): which subclass this is. */
  readonly family: ErrorFamily;
  /** HTTP status when the platform answered, else `null`. */
  readonly status: number | null;
  /** The call's `X-Request-ID`, to find it in the platform's logs. */
  readonly requestId: string | null;
  /** Whether repeating the call may succeed. */
  readonly retryable: boolean;
  /** How long the platform asked to wait (`Retry-After`), in milliseconds. */
  readonly retryAfterMs: number | null;
  /** Structured details, e.g. `{ field: "email" }` for a validation error. */
  readonly details: Record<string, unknown> | null;
  /** The raw answer body, when there was one. */
  readonly body: string | null;

  constructor(dto: Partial<ErrorDto> & { message: string }, options?: { cause?: unknown }) {
    super(dto.message, options);
    this.name = new.target.name;
    this.code = dto.code ?? "UNKNOWN_ERROR";
    this.family = (dto.family as ErrorFamily) ?? "server";
    this.status = dto.status ?? null;
    this.requestId = dto.request_id ?? null;
    this.retryable = dto.retryable ?? false;
    this.retryAfterMs = dto.retry_after_ms ?? null;
    this.details = (dto.details as Record<string, unknown> | null | undefined) ?? null;
    this.body = dto.body ?? null;
  }

  /** The official SDK's name for `status` (0 when the platform did not answer). */
  get statusCode(): number {
    return this.status ?? 0;
  }

  /** The field a validation error names (`details.field`). */
  get field(): string | undefined {
    const f = this.details?.field;
    return typeof f === "string" ? f : undefined;
  }

  isAuthError(): boolean {
    return this.family === "auth";
  }

  isNetworkError(): boolean {
    return this.family === "network" || this.family === "timeout";
  }

  isValidationError(): boolean {
    return this.family === "validation";
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      family: this.family,
      message: this.message,
      status: this.status,
      requestId: this.requestId,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      details: this.details,
    };
  }
}

/** Bad API key or credentials, expired or invalid tokens (401, 403). */
export class AuthError extends AerostackError {}
/** The request was refused as invalid; `field` names the argument (400, 413, 422). */
export class ValidationError extends AerostackError {}
/** The thing asked for does not exist (404). */
export class NotFoundError extends AerostackError {}
/** A conflict, such as an existing user or a reused idempotency key (409). */
export class ConflictError extends AerostackError {}
/** Too many requests; `retryAfterMs` says when to come back (429). */
export class RateLimitError extends AerostackError {}
/** The platform or an upstream failed (5xx), or a service is not configured. */
export class ServerError extends AerostackError {}
/** The request never got an answer: connection refused or reset, DNS. */
export class NetworkError extends AerostackError {}
/** The call ran out of time (`timeoutMs`). */
export class TimeoutError extends AerostackError {}
/** The call was cancelled (its `AbortSignal` aborted). */
export class CancelledError extends AerostackError {}
/** The client is configured wrongly (missing key, bad URL, unknown option). */
export class ConfigError extends AerostackError {}
/** The answer could not be decoded. */
export class DecodeError extends AerostackError {}

/** The official `@aerostack/sdk` names: the same classes. */
export { AerostackError as ClientError, AuthError as AuthenticationError };

const FAMILIES: Record<string, new (dto: ErrorDto, options?: { cause?: unknown }) => AerostackError> = {
  auth: AuthError,
  validation: ValidationError,
  not_found: NotFoundError,
  conflict: ConflictError,
  rate_limit: RateLimitError,
  server: ServerError,
  network: NetworkError,
  timeout: TimeoutError,
  cancelled: CancelledError,
  config: ConfigError,
  decode: DecodeError,
};

/** The class of a family name. */
export function errorClassForFamily(family: string): new (dto: ErrorDto) => AerostackError {
  return FAMILIES[family] ?? AerostackError;
}

/** The error of a surface error object. */
export function errorFromDto(dto: ErrorDto, cause?: unknown): AerostackError {
  const cls = FAMILIES[dto.family] ?? AerostackError;
  return new cls(dto, cause === undefined ? undefined : { cause });
}

/** A validation error raised by this package before anything reaches the engine. */
export function validationError(field: string, message: string): ValidationError {
  return new ValidationError({
    code: "VALIDATION_ERROR",
    family: "validation",
    status: null,
    message,
    request_id: null,
    retryable: false,
    retry_after_ms: null,
    details: { field },
    body: null,
  });
}

/** The error of an aborted call. */
export function cancelledError(reason?: unknown): CancelledError {
  return new CancelledError(
    {
      code: "CANCELLED",
      family: "cancelled",
      status: null,
      message: "the call was cancelled (its AbortSignal aborted)",
      request_id: null,
      retryable: false,
      retry_after_ms: null,
      details: null,
      body: null,
    },
    reason === undefined ? undefined : { cause: reason },
  );
}
