package ffi

/*
#include "aerostack.h"
*/
import "C"

// Hosted is an engine call whose HTTP requests the host sends with its own client: pull each
// step with Next (a completion whose JSON is {"send": {...}} with the body in Data, or
// {"done": answer}), answer requests with Respond or Fail, Free it at the end.
type Hosted struct{ h *C.AerostackHosted }

// Hosted starts operation op with its JSON arguments, its HTTP going through the host.
func (c *Client) Hosted(op string, args []byte) (*Hosted, error) {
	op_p, op_n := sptr(op)
	a, an := ptr(args)
	var h *C.AerostackHosted
	var e *C.char
	if err := status(C.aerostack_client_hosted(c.c, op_p, op_n, a, an, &h, &e), e); err != nil {
		return nil, err
	}
	return &Hosted{h: h}, nil
}

// Next submits the pull of the next step.
func (h *Hosted) Next() (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		return C.aerostack_hosted_next(h.h, q, id, e)
	})
}

// Respond answers request id with the host's response (headers: JSON [[name, value], ...]).
func (h *Hosted) Respond(id uint64, code int, headers, body []byte) error {
	hp, hn := ptr(headers)
	b, bn := ptr(body)
	var e *C.char
	return status(C.aerostack_hosted_respond(h.h, C.uint64_t(id), C.uint16_t(code), hp, hn, b, bn, &e), e)
}

// Fail answers request id with the host client's failure (a network error to the engine).
func (h *Hosted) Fail(id uint64, message string) error {
	m, mn := sptr(message)
	var e *C.char
	return status(C.aerostack_hosted_fail(h.h, C.uint64_t(id), m, mn, &e), e)
}

// Free frees the call, aborting it if it still runs.
func (h *Hosted) Free() {
	if h.h != nil {
		C.aerostack_hosted_free(h.h)
		h.h = nil
	}
}
