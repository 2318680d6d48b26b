package ffi

/*
#include "aerostack.h"
*/
import "C"

// Worker is a connected worker.
type Worker struct{ w *C.AerostackWorker }

// ConnectWorker submits connecting a worker (Completion.Worker once registered).
func ConnectWorker(options, registration []byte, userAgent string) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		o, on := ptr(options)
		r, rn := ptr(registration)
		u, un := sptr(userAgent)
		return C.aerostack_worker_connect(o, on, r, rn, u, un, q, id, e)
	})
}

// NextInvocation submits the pull of the next invocation (timeoutMs < 0: no limit).
func (w *Worker) NextInvocation(timeoutMs int64) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		return C.aerostack_worker_next_invocation(w.w, q, C.int64_t(timeoutMs), id, e)
	})
}

// Complete answers invocation id with JSON result.
func (w *Worker) Complete(id string, result []byte) error {
	ip, in := sptr(id)
	rp, rn := ptr(result)
	var e *C.char
	return status(C.aerostack_worker_complete(w.w, ip, in, rp, rn, &e), e)
}

// Fail fails invocation id with message.
func (w *Worker) Fail(id, message string) error {
	ip, in := sptr(id)
	mp, mn := sptr(message)
	var e *C.char
	return status(C.aerostack_worker_fail(w.w, ip, in, mp, mn, &e), e)
}

// Stop submits a graceful stop (drain, closing after graceMs).
func (w *Worker) Stop(graceMs uint64) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		return C.aerostack_worker_stop(w.w, q, C.uint64_t(graceMs), id, e)
	})
}

// IsClosed says whether the worker stopped.
func (w *Worker) IsClosed() bool { return bool(C.aerostack_worker_is_closed(w.w)) }

// Free frees the handle.
func (w *Worker) Free() {
	if w.w != nil {
		C.aerostack_worker_free(w.w)
		w.w = nil
	}
}

// Invocation is one call of user code.
type Invocation struct{ i *C.AerostackInvocation }

// Info is {id, kind, name, project_id, event, deadline_ms, ...}.
func (i *Invocation) Info() ([]byte, error) {
	var out, e *C.char
	if err := status(C.aerostack_invocation_info(i.i, &out, &e), e); err != nil {
		return nil, err
	}
	return take(out), nil
}

// Client is the invocation's scoped client.
func (i *Invocation) Client() (*Client, error) {
	var out *C.AerostackClient
	var e *C.char
	if err := status(C.aerostack_invocation_client(i.i, &out, &e), e); err != nil {
		return nil, err
	}
	return &Client{c: out}, nil
}

// IsCancelled says whether the platform gave up on the invocation.
func (i *Invocation) IsCancelled() bool { return bool(C.aerostack_invocation_is_cancelled(i.i)) }

// Free frees the handle.
func (i *Invocation) Free() {
	if i.i != nil {
		C.aerostack_invocation_free(i.i)
		i.i = nil
	}
}
