package ffi

/*
#include "aerostack.h"
*/
import "C"

// Realtime is a realtime connection.
type Realtime struct{ r *C.AerostackRealtime }

// Channel is one topic.
type Channel struct{ c *C.AerostackChannel }

// Realtime makes the client's realtime connection.
func (c *Client) Realtime(options []byte) (*Realtime, error) {
	p, n := ptr(options)
	var out *C.AerostackRealtime
	var e *C.char
	if err := status(C.aerostack_client_realtime(c.c, p, n, &out, &e), e); err != nil {
		return nil, err
	}
	return &Realtime{r: out}, nil
}

// Connect submits opening the socket.
func (r *Realtime) Connect() (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		return C.aerostack_realtime_connect(r.r, q, id, e)
	})
}

// Disconnect submits closing the socket.
func (r *Realtime) Disconnect() (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		return C.aerostack_realtime_disconnect(r.r, q, id, e)
	})
}

// Status is {status, dropped_events}.
func (r *Realtime) Status() ([]byte, error) {
	var out, e *C.char
	if err := status(C.aerostack_realtime_status(r.r, &out, &e), e); err != nil {
		return nil, err
	}
	return take(out), nil
}

// SetToken acts as the end user of token.
func (r *Realtime) SetToken(token string) error {
	p, n := sptr(token)
	var e *C.char
	return status(C.aerostack_realtime_set_token(r.r, p, n, &e), e)
}

// SendChat sends text (and metadata, JSON: an object or null) to chat room roomID.
func (r *Realtime) SendChat(roomID, text string, metadata []byte) error {
	rp, rn := sptr(roomID)
	tp, tn := sptr(text)
	mp, mn := ptr(metadata)
	var e *C.char
	return status(C.aerostack_realtime_send_chat(r.r, rp, rn, tp, tn, mp, mn, &e), e)
}

// Channel is the channel of topic; filter is the JSON of its row filter (null: leave it).
func (r *Realtime) Channel(topic string, filter []byte) (*Channel, error) {
	p, n := sptr(topic)
	fp, fn := ptr(filter)
	var out *C.AerostackChannel
	var e *C.char
	if err := status(C.aerostack_realtime_channel(r.r, p, n, fp, fn, &out, &e), e); err != nil {
		return nil, err
	}
	return &Channel{c: out}, nil
}

// NextEvent submits the pull of the next event (JSON nil: none in time, or closed).
func (r *Realtime) NextEvent(timeoutMs int64) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		return C.aerostack_realtime_next_event(r.r, q, C.int64_t(timeoutMs), id, e)
	})
}

// Free frees the handle.
func (r *Realtime) Free() {
	if r.r != nil {
		C.aerostack_realtime_free(r.r)
		r.r = nil
	}
}

// WaitSubscribed submits waiting for the subscription's confirmation.
func (c *Channel) WaitSubscribed(timeoutMs uint64) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		return C.aerostack_channel_wait_subscribed(c.c, q, C.uint64_t(timeoutMs), id, e)
	})
}

// On registers a listener filter; its id.
func (c *Channel) On(event string) (uint64, error) {
	p, n := sptr(event)
	var id C.uint64_t
	var e *C.char
	if err := status(C.aerostack_channel_on(c.c, p, n, &id, &e), e); err != nil {
		return 0, err
	}
	return uint64(id), nil
}

// Off removes a listener.
func (c *Channel) Off(id uint64) { C.aerostack_channel_off(c.c, C.uint64_t(id), nil) }

// Publish submits publishing data as event.
func (c *Channel) Publish(event string, data, options []byte) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		ep, en := sptr(event)
		dp, dn := ptr(data)
		op, on := ptr(options)
		return C.aerostack_channel_publish(c.c, q, ep, en, dp, dn, op, on, id, e)
	})
}

// Track is being present with state (JSON object).
func (c *Channel) Track(state []byte) error {
	p, n := ptr(state)
	var e *C.char
	return status(C.aerostack_channel_track(c.c, p, n, &e), e)
}

// Untrack stops being present.
func (c *Channel) Untrack() error {
	var e *C.char
	return status(C.aerostack_channel_untrack(c.c, &e), e)
}

// Presence is everyone present (JSON array).
func (c *Channel) Presence() ([]byte, error) {
	var out, e *C.char
	if err := status(C.aerostack_channel_presence(c.c, &out, &e), e); err != nil {
		return nil, err
	}
	return take(out), nil
}

// History submits reading persisted messages (negative: not given).
func (c *Channel) History(limit, before int64) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		return C.aerostack_channel_history(c.c, q, C.int64_t(limit), C.int64_t(before), id, e)
	})
}

// Topic is the full topic.
func (c *Channel) Topic() string {
	var out, e *C.char
	if C.aerostack_channel_topic(c.c, &out, &e) != C.AEROSTACK_OK {
		take(e)
		return ""
	}
	return string(take(out))
}

// Unsubscribe leaves the topic.
func (c *Channel) Unsubscribe() error {
	var e *C.char
	return status(C.aerostack_channel_unsubscribe(c.c, &e), e)
}

// Free frees the handle.
func (c *Channel) Free() {
	if c.c != nil {
		C.aerostack_channel_free(c.c)
		c.c = nil
	}
}
