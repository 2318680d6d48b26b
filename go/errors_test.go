package aerostack_test

import (
	"context"
	"errors"
	"testing"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
	"github.com/aerostack/aerostack-sdk/go/aerostacktest"
)

// The families not covered by TestErrorsCarryTheirFamily: not_found, conflict, rate_limit
// (with RetryAfter), server; each one's sentinel, status and fields.
func TestErrorFamiliesNotFoundConflictRateLimitServer(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	var e *aerostack.Error

	_, err := c.Storage.Get(ctx, "no/such/object")
	if !errors.Is(err, aerostack.ErrNotFound) || !errors.As(err, &e) || e.Status != 404 || e.Retryable {
		t.Fatalf("a missing object: %#v", err)
	}

	if _, err := c.Auth.Register(ctx, "twice@x.dev", "Sup3rSecret", "", nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.Auth.Register(ctx, "twice@x.dev", "Sup3rSecret", "", nil)
	if !errors.Is(err, aerostack.ErrConflict) || !errors.As(err, &e) || e.Status != 409 || e.Code == "" {
		t.Fatalf("an email registered twice: %#v", err)
	}

	_, err = c.Services.Invoke(ctx, "nobody-serves-this", map[string]any{})
	if !errors.Is(err, aerostack.ErrServer) || !errors.As(err, &e) || e.Status < 500 {
		t.Fatalf("a service nobody serves: %#v", err)
	}

	// Rate limits: a platform of its own with one login per email a minute.
	p := aerostacktest.Start(t, aerostack.LocalOptions{RateLimits: map[string]aerostack.RateLimit{
		"login_per_email": {Count: 1, Window: time.Minute}, "login_per_ip": {}, "register_per_ip": {},
	}})
	strict, err := aerostack.New(aerostack.Config{ProjectID: p.ProjectID, APIKey: p.APIKey, BaseURL: p.APIURL, IgnoreEnv: true, Retry: aerostack.NoRetry()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Auth.Register(ctx, "limited@x.dev", "Sup3rSecret", "", nil); err != nil {
		t.Fatal(err)
	}
	// Wrong passwords: whether the platform counts every login or only the failed ones, the
	// second attempt is over the limit.
	for range 3 {
		_, err = strict.Auth.Login(ctx, "limited@x.dev", "Wr0ngSecret")
		if errors.Is(err, aerostack.ErrRateLimit) {
			break
		}
		if !errors.Is(err, aerostack.ErrAuth) {
			t.Fatalf("a wrong password: %v", err)
		}
	}
	if !errors.Is(err, aerostack.ErrRateLimit) || !errors.As(err, &e) || e.Status != 429 || !e.Retryable || e.RetryAfter <= 0 {
		t.Fatalf("over the login limit: %#v", err)
	}
}
