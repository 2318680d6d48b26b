package aerostack

import (
	"context"
	"encoding/json"
	"iter"
	"runtime"
	"sync"
	"time"

	"github.com/aerostack/aerostack-sdk/go/internal/ffi"
)

// GatewaySocket is the chat socket of one gateway API (the official gateway.connectWebSocket):
// one WebSocket to {wsHost}/api/gateway/{apiSlug}/ws, authenticated with the consumer key. Sends
// answer the id of their frame, and every event names the frame it answers in Request: the
// platform answers frames one at a time, in order. Safe for concurrent use. After Close, Next
// and Events still hand out the closed event; the handle is freed when the socket is collected.
type GatewaySocket struct {
	mu sync.Mutex
	h  *ffi.GatewaySocket
}

// GatewaySocketEvent is what the socket delivers.
type GatewaySocketEvent struct {
	// Type is token, done, error, pong, closed or unknown.
	Type string
	// Request is the id of the frame this event answers (0: none).
	Request int64
	// Content is a token's piece of text; on done, the whole answer.
	Content string
	// TokensUsed and Usage (done) are the tokens billed.
	TokensUsed int64
	Usage      *Usage
	// Err (error) is the platform's refusal of the frame, as a call's *Error: the socket stays open.
	Err *Error
	// CloseCode and CloseReason (closed): 1000 normal, 1001 idle, 1012 the platform is shutting
	// down, 1006 cut off.
	CloseCode   int
	CloseReason string
	// Raw is the event as the engine handed it (unknown: Raw["frame"] is the platform's frame).
	Raw map[string]any
}

// GatewaySocketChat is a chat's whole answer over the socket and the tokens billed for it.
type GatewaySocketChat struct {
	Content    string `json:"content"`
	TokensUsed int64  `json:"tokens_used"`
	Usage      Usage  `json:"usage"`
}

const socketOp = "gateway.socket"

// ConnectWebSocket opens the chat socket of gateway API apiSlug, billed to the consumer key of
// opts (else the client's). A refused key fails here, with the error an HTTP gateway call gets.
func (g *Gateway) ConnectWebSocket(ctx context.Context, apiSlug string, opts *GatewayOptions) (*GatewaySocket, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(socketOp, err)
	}
	p, err := g.c.h.GatewaySocket(apiSlug, opts.key())
	if err != nil {
		return nil, fail(socketOp, err)
	}
	d, err := wait(ctx, socketOp, p, nil)
	if err != nil {
		return nil, err
	}
	s := &GatewaySocket{h: d.GatewaySocket}
	runtime.SetFinalizer(s, func(s *GatewaySocket) { s.free() })
	return s, nil
}

func (s *GatewaySocket) handle() (*ffi.GatewaySocket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		return nil, &Error{Code: "VALIDATION_ERROR", Family: FamilyValidation, Op: socketOp,
			Message: "the gateway socket was freed: open a new one with Gateway.ConnectWebSocket"}
	}
	return s.h, nil
}

func (s *GatewaySocket) free() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h != nil {
		s.h.Free()
		s.h = nil
	}
}

func (s *GatewaySocket) info() map[string]string {
	out := map[string]string{}
	if h, err := s.handle(); err == nil {
		if raw, err := h.Info(); err == nil {
			_ = json.Unmarshal(raw, &out)
		}
	}
	return out
}

// URL is ws(s)://host/api/gateway/{apiSlug}/ws.
func (s *GatewaySocket) URL() string { return s.info()["url"] }

// APISlug is the gateway API the socket chats with.
func (s *GatewaySocket) APISlug() string { return s.info()["api_slug"] }

// State is open, closing or closed.
func (s *GatewaySocket) State() string {
	if st := s.info()["state"]; st != "" {
		return st
	}
	return "closed"
}

// submit runs one of the socket's calls and waits for its JSON answer.
func (s *GatewaySocket) submit(ctx context.Context, start func(h *ffi.GatewaySocket) (*ffi.Pending, error)) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(socketOp, err)
	}
	h, err := s.handle()
	if err != nil {
		return nil, err
	}
	p, err := start(h)
	if err != nil {
		return nil, fail(socketOp, err)
	}
	d, err := wait(ctx, socketOp, p, nil)
	return d.JSON, err
}

func (s *GatewaySocket) id(ctx context.Context, start func(h *ffi.GatewaySocket) (*ffi.Pending, error)) (int64, error) {
	raw, err := s.submit(ctx, start)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := json.Unmarshal(raw, &id); err != nil {
		return 0, decodeError(socketOp, err)
	}
	return id, nil
}

func encode(a args) ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, validation(socketOp, "args", "the arguments cannot be encoded as JSON: "+err.Error())
	}
	return b, nil
}

// Chat sends req over the socket and waits for its whole answer, or the platform's error for it
// (the socket stays usable). Events that arrive meanwhile are consumed; for the pieces of text as
// they come, use ChatStream.
func (s *GatewaySocket) Chat(ctx context.Context, req ChatRequest) (*GatewaySocketChat, error) {
	body, err := encode(req.args())
	if err != nil {
		return nil, err
	}
	raw, err := s.submit(ctx, func(h *ffi.GatewaySocket) (*ffi.Pending, error) { return h.Chat(body) })
	if err != nil {
		return nil, err
	}
	var out GatewaySocketChat
	if err := decodeResult(raw, &out); err != nil {
		return nil, decodeError(socketOp, err)
	}
	return &out, nil
}

// ChatStream sends req and yields its events: the token pieces, then its done (or its error, as
// (zero, err)), each taken by the engine's chat step; events of other frames are skipped.
func (s *GatewaySocket) ChatStream(ctx context.Context, req ChatRequest) iter.Seq2[GatewaySocketEvent, error] {
	return func(yield func(GatewaySocketEvent, error) bool) {
		id, err := s.SendChat(ctx, req)
		if err != nil {
			yield(GatewaySocketEvent{}, err)
			return
		}
		for {
			raw, err := s.submit(ctx, func(h *ffi.GatewaySocket) (*ffi.Pending, error) { return h.ChatStep(uint64(id), -1) })
			if err != nil {
				yield(GatewaySocketEvent{}, err)
				return
			}
			ev, err := decodeSocketEvent(raw)
			if err != nil {
				yield(GatewaySocketEvent{}, err)
				return
			}
			ev.Request = id
			if !yield(*ev, nil) || ev.Type == "done" {
				return
			}
		}
	}
}

// SendChat starts a chat and returns its request id; its token, done or error events carry it.
func (s *GatewaySocket) SendChat(ctx context.Context, req ChatRequest) (int64, error) {
	body, err := encode(req.args())
	if err != nil {
		return 0, err
	}
	return s.id(ctx, func(h *ffi.GatewaySocket) (*ffi.Pending, error) { return h.SendChat(body) })
}

// Ping sends a ping and returns its request id; the pong event carries it.
func (s *GatewaySocket) Ping(ctx context.Context) (int64, error) {
	return s.id(ctx, func(h *ffi.GatewaySocket) (*ffi.Pending, error) { return h.Ping() })
}

// Send sends frame (encoded as JSON) as it is and returns its request id.
func (s *GatewaySocket) Send(ctx context.Context, frame map[string]any) (int64, error) {
	body, err := encode(args(frame))
	if err != nil {
		return 0, err
	}
	return s.id(ctx, func(h *ffi.GatewaySocket) (*ffi.Pending, error) { return h.Send(body) })
}

// Next waits at most timeout (0: until one comes) for the next event; nil when none came in
// time, and after the closed event was handed out.
func (s *GatewaySocket) Next(ctx context.Context, timeout time.Duration) (*GatewaySocketEvent, error) {
	ms := int64(-1)
	if timeout > 0 {
		ms = timeout.Milliseconds()
	}
	raw, err := s.submit(ctx, func(h *ffi.GatewaySocket) (*ffi.Pending, error) { return h.NextEvent(ms) })
	if err != nil || raw == nil {
		return nil, err
	}
	return decodeSocketEvent(raw)
}

// Events yields the socket's events until (and including) closed, or until ctx ends.
func (s *GatewaySocket) Events(ctx context.Context) iter.Seq2[GatewaySocketEvent, error] {
	return func(yield func(GatewaySocketEvent, error) bool) {
		for {
			ev, err := s.Next(ctx, 0)
			if err != nil {
				yield(GatewaySocketEvent{}, err)
				return
			}
			if ev == nil || !yield(*ev, nil) || ev.Type == "closed" {
				return
			}
		}
	}
}

// Close closes the socket normally (1000); the closed event follows.
func (s *GatewaySocket) Close(ctx context.Context) error {
	return s.CloseWith(ctx, 1000, "")
}

// CloseWith closes the socket with code (1000 or 3000-4999) and reason (at most 123 bytes).
func (s *GatewaySocket) CloseWith(ctx context.Context, code int, reason string) error {
	if code < 0 || code > 65535 {
		return validation(socketOp, "code", "a close code is 1000 or 3000-4999")
	}
	_, err := s.submit(ctx, func(h *ffi.GatewaySocket) (*ffi.Pending, error) { return h.Close(uint16(code), reason) })
	return err
}

func decodeSocketEvent(raw []byte) (*GatewaySocketEvent, error) {
	var w struct {
		Type       string          `json:"type"`
		Request    *int64          `json:"request"`
		Content    string          `json:"content"`
		TokensUsed int64           `json:"tokens_used"`
		Usage      *Usage          `json:"usage"`
		Code       json.RawMessage `json:"code"`
		Message    string          `json:"message"`
		Family     Family          `json:"family"`
		Reason     string          `json:"reason"`
	}
	ev := &GatewaySocketEvent{}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, decodeError(socketOp, err)
	}
	if err := json.Unmarshal(raw, &ev.Raw); err != nil {
		return nil, decodeError(socketOp, err)
	}
	ev.Type, ev.Content, ev.TokensUsed, ev.Usage = w.Type, w.Content, w.TokensUsed, w.Usage
	if w.Request != nil {
		ev.Request = *w.Request
	}
	switch w.Type {
	case "error":
		var code string
		_ = json.Unmarshal(w.Code, &code)
		ev.Err = &Error{Code: code, Family: w.Family, Message: w.Message, Op: socketOp}
	case "closed":
		_ = json.Unmarshal(w.Code, &ev.CloseCode)
		ev.CloseReason = w.Reason
	}
	return ev, nil
}
