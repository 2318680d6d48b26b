// Package ffi is the cgo layer over the C ABI of the Aerostack engine (bindings/c, header
// ../lib/include/aerostack.h, static library ../lib/<os>_<arch>/libaerostack.a, put there by
// `make go`). Types only: JSON bytes in, JSON bytes out.
//
// Calls that wait are submitted to one process-wide completion queue: submitting is a quick C
// call returning a call id; one goroutine (one OS thread) pulls every outcome with
// aerostack_completion_next and hands it to the goroutine waiting for that id on a channel. So a
// thousand calls in flight cost a thousand parked goroutines and one blocked thread, and no
// engine thread ever calls into Go.
package ffi

/*
#cgo CFLAGS: -I${SRCDIR}/../lib/include
#cgo linux,amd64 LDFLAGS: ${SRCDIR}/../lib/linux_amd64/libaerostack.a -lm -ldl -lpthread
#cgo linux,arm64 LDFLAGS: ${SRCDIR}/../lib/linux_arm64/libaerostack.a -lm -ldl -lpthread
#cgo darwin,arm64 LDFLAGS: ${SRCDIR}/../lib/darwin_arm64/libaerostack.a -framework CoreFoundation -framework Security -lm
#include <stdlib.h>
#include <string.h>
#include "aerostack.h"
*/
import "C"

import (
	"context"
	"unsafe"
)

// ptr returns C views of b (no copy: the bytes hold no Go pointers and C reads them only during
// the call).
func ptr(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b))
}

func sptr(s string) (*C.uint8_t, C.size_t) {
	if len(s) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// take copies a Rust string and frees it.
func take(s *C.char) []byte {
	if s == nil {
		return nil
	}
	b := C.GoBytes(unsafe.Pointer(s), C.int(C.strlen(s)))
	C.aerostack_string_free(s)
	return b
}

// Failure is an error the library answered: its error object as JSON.
type Failure struct{ JSON []byte }

func (f *Failure) Error() string { return string(f.JSON) }

func status(st C.int32_t, err *C.char) error {
	if st == C.AEROSTACK_OK {
		return nil
	}
	return &Failure{JSON: take(err)}
}

// Version is the library's version.
func Version() string { return C.GoString(C.aerostack_version()) }

// InstallNames installs how Go spells the engine's option names in error messages.
func InstallNames(namesJSON []byte) error {
	p, n := ptr(namesJSON)
	var e *C.char
	return status(C.aerostack_naming_install(p, n, &e), e)
}

// JobTypeFromFunctionName is the queue job type a function named name serves.
func JobTypeFromFunctionName(name string) string {
	p, n := sptr(name)
	var out, e *C.char
	if C.aerostack_job_type_from_function_name(p, n, &out, &e) != C.AEROSTACK_OK {
		take(e)
		return name
	}
	return string(take(out))
}

// Client is one engine client (one connection pool).
type Client struct{ c *C.AerostackClient }

// NewClient makes a client from its options JSON.
func NewClient(options []byte, userAgent string) (*Client, error) {
	p, n := ptr(options)
	up, un := sptr(userAgent)
	var c *C.AerostackClient
	var e *C.char
	if err := status(C.aerostack_client_new(p, n, up, un, &c, &e), e); err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// ID is the engine client's identity, which its log lines carry.
func (c *Client) ID() uint64 { return uint64(C.aerostack_client_id(c.c)) }

// WithOptions is a client sharing this one's pool with per-call options.
func (c *Client) WithOptions(callOptions []byte) (*Client, error) {
	p, n := ptr(callOptions)
	var out *C.AerostackClient
	var e *C.char
	if err := status(C.aerostack_client_with_options(c.c, p, n, &out, &e), e); err != nil {
		return nil, err
	}
	return &Client{c: out}, nil
}

// Free frees the client.
func (c *Client) Free() {
	if c.c != nil {
		C.aerostack_client_free(c.c)
		c.c = nil
	}
}

// Call submits operation op with its JSON arguments.
func (c *Client) Call(op string, args []byte) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		op_p, op_n := sptr(op)
		a, an := ptr(args)
		return C.aerostack_client_call(c.c, q, op_p, op_n, a, an, id, e)
	})
}

// CallWait runs operation op on the calling goroutine's OS thread until it ends (the thread
// stays in C meanwhile: callers keep few of these at once) and returns its JSON answer. When
// ctx ends first, its cancel token ends the call with CANCELLED and drops the engine's request.
func (c *Client) CallWait(ctx context.Context, op string, args []byte) ([]byte, error) {
	var tok *C.AerostackCancel
	if ctx.Done() != nil {
		var e *C.char
		if err := status(C.aerostack_cancel_new(&tok, &e), e); err != nil {
			return nil, err
		}
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			C.aerostack_cancel_fire(tok, nil)
			close(fired)
		})
		defer func() {
			if !stop() {
				<-fired // the token is in use until the fire returns
			}
			C.aerostack_cancel_free(tok)
		}()
	}
	op_p, op_n := sptr(op)
	a, an := ptr(args)
	var out, e *C.char
	if err := status(C.aerostack_client_call_wait(c.c, op_p, op_n, a, an, tok, &out, &e), e); err != nil {
		return nil, err
	}
	return take(out), nil
}

// Upload submits an upload (data nil: from args.path); progress reports come on the Pending.
func (c *Client) Upload(args, data []byte, progress bool) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		a, an := ptr(args)
		var d *C.uint8_t
		var dn C.size_t
		if data != nil {
			d, dn = ptr(data)
			if d == nil { // empty but present: a valid pointer to zero bytes
				var zero C.uint8_t
				d = &zero
			}
		}
		return C.aerostack_client_upload(c.c, q, a, an, d, dn, C.bool(progress), id, e)
	})
}

// Download submits a download.
func (c *Client) Download(args []byte) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		a, an := ptr(args)
		return C.aerostack_client_download(c.c, q, a, an, id, e)
	})
}

// OpenStream submits the opening of streamed operation op.
func (c *Client) OpenStream(op string, args []byte) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		op_p, op_n := sptr(op)
		a, an := ptr(args)
		return C.aerostack_client_open_stream(c.c, q, op_p, op_n, a, an, id, e)
	})
}

// Stream is an open stream.
type Stream struct{ s *C.AerostackStream }

// Next submits the pull of the next item (Completion.JSON nil: the end).
func (s *Stream) Next() (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		return C.aerostack_stream_next(s.s, q, id, e)
	})
}

// Free closes and frees the stream.
func (s *Stream) Free() {
	if s.s != nil {
		C.aerostack_stream_free(s.s)
		s.s = nil
	}
}

// Platform is a local platform running in this process.
type Platform struct{ p *C.AerostackPlatform }

// StartPlatform starts a local platform (blocking until it listens).
func StartPlatform(options []byte) (*Platform, error) {
	p, n := ptr(options)
	var out *C.AerostackPlatform
	var e *C.char
	if err := status(C.aerostack_platform_start(p, n, &out, &e), e); err != nil {
		return nil, err
	}
	return &Platform{p: out}, nil
}

// Info is the platform's {url, api_url, project_id, project_slug, api_key, data_dir}.
func (p *Platform) Info() ([]byte, error) {
	var out, e *C.char
	if err := status(C.aerostack_platform_info(p.p, &out, &e), e); err != nil {
		return nil, err
	}
	return take(out), nil
}

// CreateProject creates a project: {id, slug, name, api_key}.
func (p *Platform) CreateProject(name string) ([]byte, error) {
	np, nn := sptr(name)
	var out, e *C.char
	if err := status(C.aerostack_platform_create_project(p.p, np, nn, &out, &e), e); err != nil {
		return nil, err
	}
	return take(out), nil
}

// Shutdown stops the platform and frees it.
func (p *Platform) Shutdown() error {
	if p.p == nil {
		return nil
	}
	var e *C.char
	err := status(C.aerostack_platform_shutdown(p.p, &e), e)
	C.aerostack_platform_free(p.p)
	p.p = nil
	return err
}

// InstallLogs starts collecting the engine's log lines.
func InstallLogs() { C.aerostack_logs_install() }

// LogsPending says whether log lines wait.
func LogsPending() bool { return bool(C.aerostack_logs_pending()) }

// DrainLogs returns the waiting lines as a JSON array of {client, level, message}.
func DrainLogs() []byte {
	var out, e *C.char
	if C.aerostack_logs_drain(&out, &e) != C.AEROSTACK_OK {
		take(e)
		return nil
	}
	return take(out)
}

// ResultPaths returns the surface's result-shape tables as JSON
// {"times": {type: [path]}, "user_data": {type: [path]}}.
func ResultPaths() ([]byte, error) {
	var out, e *C.char
	if err := status(C.aerostack_result_paths(&out, &e), e); err != nil {
		return nil, err
	}
	return take(out), nil
}
