package aerostack_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
	"github.com/aerostack/aerostack-sdk/go/aerostacktest"
)

// The gateway's chat socket (the official connectWebSocket) against the platform and a stand-in
// AI upstream: a refused key, a collected chat, a streamed one, an error frame that leaves the
// socket usable, ping/pong, and close.
func TestGatewaySocket(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := aerostacktest.Start(t, aerostack.LocalOptions{Extra: map[string]any{"ai_base_url": fakeUpstream(t), "ai_model": "test-model"}})
	c := p.Client(t)
	slug := fmt.Sprintf("go-ws-%d", time.Now().UnixNano())
	if _, err := c.Request(ctx, "POST", "/local/gateway/apis", map[string]any{"slug": slug}); err != nil {
		t.Fatal(err)
	}
	raw, err := c.Request(ctx, "POST", "/local/gateway/keys", map[string]any{"api_slug": slug, "credits": 1000})
	if err != nil {
		t.Fatal(err)
	}
	key := raw.(map[string]any)["key"].(string)

	_, err = c.Gateway.ConnectWebSocket(ctx, slug, &aerostack.GatewayOptions{ConsumerKey: "ask_live_not_a_key"})
	if !errors.Is(err, aerostack.ErrAuth) {
		t.Fatalf("a refused key: %v", err)
	}

	s, err := c.Gateway.ConnectWebSocket(ctx, slug, &aerostack.GatewayOptions{ConsumerKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if s.State() != "open" || s.APISlug() != slug || !strings.HasSuffix(s.URL(), "/api/gateway/"+slug+"/ws") {
		t.Fatalf("state %q, slug %q, url %q", s.State(), s.APISlug(), s.URL())
	}
	hi := aerostack.ChatRequest{Messages: []aerostack.Message{{Role: "user", Content: "hi"}}}
	got, err := s.Chat(ctx, hi)
	if err != nil || strings.TrimSpace(got.Content) != "echo: hi" || got.TokensUsed != 4 || got.Usage.TotalTokens != 4 {
		t.Fatalf("chat: %+v %v", got, err)
	}

	var pieces []string
	var done aerostack.GatewaySocketEvent
	for ev, err := range s.ChatStream(ctx, aerostack.ChatRequest{Messages: []aerostack.Message{{Role: "user", Content: "hello there"}}}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == "token" {
			pieces = append(pieces, ev.Content)
		} else {
			done = ev
		}
	}
	if len(pieces) < 2 || strings.Join(pieces, "") != done.Content || strings.TrimSpace(done.Content) != "echo: hello there" || done.Type != "done" {
		t.Fatalf("streamed %q, done %+v", pieces, done)
	}

	id, err := s.Send(ctx, map[string]any{"type": "shout"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := s.Next(ctx, 10*time.Second)
	if err != nil || ev == nil || ev.Type != "error" || ev.Request != id || !errors.Is(ev.Err, aerostack.ErrValidation) || !strings.Contains(ev.Err.Message, "unknown frame type") {
		t.Fatalf("an unknown frame: %+v %v", ev, err)
	}
	if got, err := s.Chat(ctx, hi); err != nil || strings.TrimSpace(got.Content) != "echo: hi" {
		t.Fatalf("a chat after the error frame: %+v %v", got, err)
	}

	id, err = s.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := s.Next(ctx, 10*time.Second); err != nil || ev == nil || ev.Type != "pong" || ev.Request != id {
		t.Fatalf("pong: %+v %v", ev, err)
	}

	if err := s.CloseWith(ctx, 4000, "bye"); err != nil {
		t.Fatal(err)
	}
	if s.State() != "closed" {
		t.Fatalf("after close: %q", s.State())
	}
	var seen []string
	for ev, err := range s.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, ev.Type)
		if ev.Type == "closed" && (ev.CloseCode != 4000 || ev.CloseReason != "bye") {
			t.Fatalf("closed: %+v", ev)
		}
	}
	if len(seen) == 0 || seen[len(seen)-1] != "closed" {
		t.Fatalf("events after close: %v", seen)
	}
	if ev, err := s.Next(ctx, 100*time.Millisecond); ev != nil || err != nil {
		t.Fatalf("after the closed event: %+v %v", ev, err)
	}
	if _, err := s.Ping(ctx); err == nil {
		t.Fatal("a ping after close was sent")
	}
}
