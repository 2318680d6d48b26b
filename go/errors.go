package aerostack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aerostack/aerostack-sdk/go/internal/ffi"
)

// Family is the kind of an error, the same in every Aerostack SDK.
type Family string

const (
	FamilyAuth       Family = "auth"       // bad API key or credentials, invalid tokens (401, 403)
	FamilyValidation Family = "validation" // a field is missing or wrong (400, 413, 422)
	FamilyNotFound   Family = "not_found"  // the thing asked for does not exist (404)
	FamilyConflict   Family = "conflict"   // it exists already, or an idempotency key was reused (409)
	FamilyRateLimit  Family = "rate_limit" // too many requests; RetryAfter says when to come back (429)
	FamilyServer     Family = "server"     // the server or an upstream failed (5xx)
	FamilyNetwork    Family = "network"    // no answer: connection refused, reset, DNS
	FamilyTimeout    Family = "timeout"    // the call ran out of time
	FamilyCancelled  Family = "cancelled"  // the caller cancelled the call (its context)
	FamilyConfig     Family = "config"     // the client is configured wrongly
	FamilyDecode     Family = "decode"     // the answer could not be decoded
)

// Error is every failure of a call. Compare its family with errors.Is(err, aerostack.ErrNotFound)
// (and the other sentinels), or take it with errors.As(err, &e) for its fields.
type Error struct {
	// Code is the stable error code (VALIDATION_ERROR, AUTH_INVALID_CREDENTIALS, TIMEOUT, ...).
	Code   string
	Family Family
	// Status is the HTTP status when the platform answered, else 0.
	Status    int
	Message   string
	RequestID string
	// Retryable says whether a retry may succeed.
	Retryable bool
	// RetryAfter is the platform's Retry-After (0 when none).
	RetryAfter time.Duration
	// Details are structured details ({"field": "sql"} for validation errors).
	Details map[string]any
	// Body is the raw answer body, when there was one.
	Body string
	// Op is the operation that failed (db.query, cache.get, ...).
	Op string

	cause    error
	sentinel bool
}

func (e *Error) Error() string {
	if e.sentinel {
		return "aerostack: " + string(e.Family) + " error"
	}
	s := "aerostack"
	if e.Op != "" {
		s += " " + e.Op
	}
	s += ": " + e.Code
	if e.Status != 0 {
		s += fmt.Sprintf(" (%d)", e.Status)
	}
	return s + ": " + e.Message
}

// Is matches the family sentinels (ErrNotFound, ...).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.sentinel && t.Family == e.Family
}

// Unwrap gives the context's error of a cancelled or timed-out call.
func (e *Error) Unwrap() error { return e.cause }

// Field is details["field"]: the argument or option a validation error is about.
func (e *Error) Field() string {
	f, _ := e.Details["field"].(string)
	return f
}

func sentinel(f Family) *Error { return &Error{Family: f, sentinel: true} }

// The family sentinels, for errors.Is.
var (
	ErrAuth       = sentinel(FamilyAuth)
	ErrValidation = sentinel(FamilyValidation)
	ErrNotFound   = sentinel(FamilyNotFound)
	ErrConflict   = sentinel(FamilyConflict)
	ErrRateLimit  = sentinel(FamilyRateLimit)
	ErrServer     = sentinel(FamilyServer)
	ErrNetwork    = sentinel(FamilyNetwork)
	ErrTimeout    = sentinel(FamilyTimeout)
	ErrCancelled  = sentinel(FamilyCancelled)
	ErrConfig     = sentinel(FamilyConfig)
	ErrDecode     = sentinel(FamilyDecode)
)

// errorDTO is the library's error object.
type errorDTO struct {
	Code         string         `json:"code"`
	Family       Family         `json:"family"`
	Status       *int           `json:"status"`
	Message      string         `json:"message"`
	RequestID    *string        `json:"request_id"`
	Retryable    bool           `json:"retryable"`
	RetryAfterMs *int64         `json:"retry_after_ms"`
	Details      map[string]any `json:"details"`
	Body         *string        `json:"body"`
}

func fromJSON(op string, raw []byte) *Error {
	var d errorDTO
	if err := json.Unmarshal(raw, &d); err != nil {
		return &Error{Code: "INTERNAL_ERROR", Family: FamilyServer, Message: "unreadable error object: " + string(raw), Op: op}
	}
	e := &Error{Code: d.Code, Family: d.Family, Message: d.Message, Retryable: d.Retryable, Details: d.Details, Op: op}
	if d.Status != nil {
		e.Status = *d.Status
	}
	if d.RequestID != nil {
		e.RequestID = *d.RequestID
	}
	if d.RetryAfterMs != nil {
		e.RetryAfter = time.Duration(*d.RetryAfterMs) * time.Millisecond
	}
	if d.Body != nil {
		e.Body = *d.Body
	}
	return e
}

// fail turns what the library answered into an *Error.
func fail(op string, err error) error {
	var f *ffi.Failure
	if errors.As(err, &f) {
		return fromJSON(op, f.JSON)
	}
	return err
}

// ctxError is the error of a call whose context ended: it wraps ctx.Err().
func ctxError(op string, err error) error {
	e := &Error{Code: "CANCELLED", Family: FamilyCancelled, Message: "the call was cancelled: " + err.Error(), Op: op, cause: err}
	if errors.Is(err, context.DeadlineExceeded) {
		e.Code, e.Family, e.Message = "TIMEOUT", FamilyTimeout, "the context's deadline passed before the call finished"
	}
	return e
}

func decodeError(op string, err error) error {
	return &Error{Code: "DECODE_ERROR", Family: FamilyDecode, Message: err.Error(), Op: op, cause: err}
}

func validation(op, field, msg string) error {
	return &Error{Code: "VALIDATION_ERROR", Family: FamilyValidation, Message: msg, Op: op, Details: map[string]any{"field": field}}
}
