package aerostack_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

// countingTransport counts the requests it sends and fails the first `failFirst` of them.
type countingTransport struct {
	sent, failFirst atomic.Int64
	keys            atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	n := t.sent.Add(1)
	if r.Header.Get("X-Aerostack-Key") != "" {
		t.keys.Add(1)
	}
	if n <= t.failFirst.Load() {
		return nil, fmt.Errorf("a proxy refused request %d", n)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Config.HTTPClient sends every request of the JSON calls; the engine still builds them (the key
// is on each), retries a failed round trip, and maps a persistent failure to a network error.
func TestConfigHTTPClientSendsTheRequests(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, err := platform.CreateProject(fmt.Sprintf("go-hosted-%d", projects.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	tr := &countingTransport{}
	cfg := aerostack.Config{ProjectID: pr.ID, APIKey: pr.APIKey, BaseURL: platform.APIURL, IgnoreEnv: true,
		HTTPClient: &http.Client{Transport: tr}}
	c, err := aerostack.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Cache.Set(ctx, "k", map[string]any{"v": 1}, 0); err != nil {
		t.Fatal(err)
	}
	v, err := c.Cache.Get(ctx, "k")
	if err != nil || !strings.Contains(fmt.Sprint(v), "v:1") {
		t.Fatalf("cache.get through the host client: %v, %v", v, err)
	}
	if tr.sent.Load() != 2 || tr.keys.Load() != 2 {
		t.Fatalf("the host client sent %d requests (%d with the key), want 2", tr.sent.Load(), tr.keys.Load())
	}
	// A failed round trip is retried by the engine, through the host client again.
	tr.sent.Store(0)
	tr.failFirst.Store(1)
	if _, err := c.Cache.Get(ctx, "k"); err != nil {
		t.Fatalf("a retried round trip: %v", err)
	}
	if tr.sent.Load() != 2 {
		t.Fatalf("%d requests for one retried call, want 2", tr.sent.Load())
	}
	// Failing every time: a network error that says where it came from.
	tr.sent.Store(0)
	tr.failFirst.Store(100)
	once, _ := c.WithOptions(aerostack.CallOptions{Retry: aerostack.NoRetry()})
	_, err = once.Cache.Get(ctx, "k")
	if !errors.Is(err, aerostack.ErrNetwork) || !strings.Contains(err.Error(), "HTTPClient") {
		t.Fatalf("a refused round trip: %v", err)
	}
	if tr.sent.Load() != 1 {
		t.Fatalf("%d requests with retries off, want 1", tr.sent.Load())
	}
}
