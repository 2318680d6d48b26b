package aerostack_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Each client's Config.Logger gets the engine's lines about its own requests: two clients of
// one base URL, both retrying, log apart (lines carry the engine client's identity).
func TestLoggerIsPerClient(t *testing.T) {
	busy := func() *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(503)
		}))
	}
	s1 := busy()
	defer s1.Close()
	var out1, out2 syncBuf
	mk := func(url string, out *syncBuf) *aerostack.Client {
		c, err := aerostack.New(aerostack.Config{BaseURL: url + "/v1", APIKey: "k", ProjectID: "p", IgnoreEnv: true,
			Retry:  &aerostack.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond},
			Logger: slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c1, c2 := mk(s1.URL, &out1), mk(s1.URL, &out2)
	ctx := context.Background()
	if _, err := c1.DB.Query(ctx, "SELECT 1"); err == nil {
		t.Fatal("a 503 answered nothing?")
	}
	if _, err := c2.Cache.Get(ctx, "k"); err == nil {
		t.Fatal("a 503 answered nothing?")
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out1.String(), "retrying") < 2 || strings.Count(out2.String(), "retrying") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("retry lines: client 1 %q, client 2 %q", out1.String(), out2.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if strings.Contains(out1.String(), "/v1/cache/get") || strings.Contains(out2.String(), "/v1/db/query") {
		t.Fatalf("a line went to the other client's logger:\n1: %s\n2: %s", out1.String(), out2.String())
	}
	if !strings.Contains(out1.String(), s1.URL+"/v1/db/query") || !strings.Contains(out2.String(), s1.URL+"/v1/cache/get") {
		t.Fatalf("lines:\n1: %s\n2: %s", out1.String(), out2.String())
	}
}

// Auth.Signup/Signin (the legacy endpoints) and Channel.Off.
func TestSignupSigninAndOff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := newClient(t)
	s, err := c.Auth.Signup(ctx, "legacy@x.dev", "Sup3rSecret", "L", aerostack.Record{"plan": "free"})
	if err != nil || s.AccessToken == nil {
		t.Fatalf("signup: %v %v", s, err)
	}
	in, err := c.Auth.Signin(ctx, "legacy@x.dev", "Sup3rSecret")
	if err != nil || *in.User.Email != "legacy@x.dev" {
		t.Fatalf("signin: %v %v", in, err)
	}

	ch := c.Realtime.Channel("chat/off")
	var mu sync.Mutex
	var a, b int
	idA, err := ch.On("m", func(aerostack.RealtimeEvent) { mu.Lock(); a++; mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.On("m", func(aerostack.RealtimeEvent) { mu.Lock(); b++; mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	events := ch.Events()
	if err := ch.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	emit := func() {
		if _, err := c.Socket.Emit(ctx, "m", 1, "chat/off"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-events:
		case <-ctx.Done():
			t.Fatal("no event")
		}
		time.Sleep(50 * time.Millisecond) // the listeners run on the same goroutine, in order
	}
	emit()
	ch.Off(idA)
	emit()
	ch.Off()
	emit()
	mu.Lock()
	defer mu.Unlock()
	if a != 1 || b != 2 {
		t.Fatalf("listener calls: a %d (want 1), b %d (want 2)", a, b)
	}
}
