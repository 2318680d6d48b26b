package ffi

/*
#include "aerostack.h"
*/
import "C"

// GatewaySocket is an open gateway chat socket.
type GatewaySocket struct{ s *C.AerostackGatewaySocket }

// GatewaySocket submits opening the chat socket of gateway API apiSlug (consumerKey empty: the
// client's); the completion carries it in Completion.GatewaySocket.
func (c *Client) GatewaySocket(apiSlug, consumerKey string) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		s, sn := sptr(apiSlug)
		k, kn := sptr(consumerKey)
		return C.aerostack_client_gateway_socket(c.c, q, s, sn, k, kn, id, e)
	})
}

// Info is {url, api_slug, state} as JSON.
func (s *GatewaySocket) Info() ([]byte, error) {
	var out, e *C.char
	if err := status(C.aerostack_gateway_socket_info(s.s, &out, &e), e); err != nil {
		return nil, err
	}
	return take(out), nil
}

// SendChat submits a chat (gateway.chat's arguments); it completes with the request id.
func (s *GatewaySocket) SendChat(args []byte) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		a, an := ptr(args)
		return C.aerostack_gateway_socket_send_chat(s.s, q, a, an, id, e)
	})
}

// Chat submits a chat and collects its answer ({content, tokens_used, usage}).
func (s *GatewaySocket) Chat(args []byte) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		a, an := ptr(args)
		return C.aerostack_gateway_socket_chat(s.s, q, a, an, id, e)
	})
}

// ChatStep submits taking the next step of chat request (timeoutMs negative: the client's
// timeout): {type: token, content} or, at its end, {type: done, content, tokens_used, usage}.
func (s *GatewaySocket) ChatStep(request uint64, timeoutMs int64) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		return C.aerostack_gateway_socket_chat_step(s.s, q, C.uint64_t(request), C.int64_t(timeoutMs), id, e)
	})
}

// Ping submits a ping; it completes with the request id its pong carries.
func (s *GatewaySocket) Ping() (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		return C.aerostack_gateway_socket_ping(s.s, q, id, e)
	})
}

// Send submits frame (JSON) as it is; it completes with the request id.
func (s *GatewaySocket) Send(frame []byte) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		f, fn := ptr(frame)
		return C.aerostack_gateway_socket_send(s.s, q, f, fn, id, e)
	})
}

// NextEvent submits the pull of the next event within timeoutMs (negative: until one comes);
// Completion.JSON is nil on timeout and after the closed event.
func (s *GatewaySocket) NextEvent(timeoutMs int64) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		return C.aerostack_gateway_socket_next_event(s.s, q, C.int64_t(timeoutMs), id, e)
	})
}

// Close submits closing the socket with code (0: 1000) and reason.
func (s *GatewaySocket) Close(code uint16, reason string) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		r, rn := sptr(reason)
		return C.aerostack_gateway_socket_close(s.s, q, C.uint16_t(code), r, rn, id, e)
	})
}

// Free frees the handle.
func (s *GatewaySocket) Free() {
	if s.s != nil {
		C.aerostack_gateway_socket_free(s.s)
		s.s = nil
	}
}
