// Package aerostacktest runs the local Aerostack platform in-process for tests:
//
//	func TestSignup(t *testing.T) {
//		p := aerostacktest.Start(t)
//		client := p.Client(t)
//		...
//	}
package aerostacktest

import (
	"testing"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

// Platform is a local platform started for one test (or test binary).
type Platform struct {
	*aerostack.LocalPlatform
}

// Start starts an ephemeral local platform on a free loopback port, stopped by t.Cleanup.
func Start(t testing.TB, opts ...aerostack.LocalOptions) *Platform {
	t.Helper()
	var o aerostack.LocalOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	p, err := aerostack.StartLocal(o)
	if err != nil {
		t.Fatalf("aerostacktest: the local platform did not start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("aerostacktest: stopping the local platform: %v", err)
		}
	})
	return &Platform{p}
}

// Client is a client of the platform's default project.
func (p *Platform) Client(t testing.TB) *aerostack.Client {
	t.Helper()
	c, err := p.LocalPlatform.Client()
	if err != nil {
		t.Fatalf("aerostacktest: client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ProjectClient is a client of a new project of its own (its own database, cache and limits).
func (p *Platform) ProjectClient(t testing.TB, name string) *aerostack.Client {
	t.Helper()
	pr, err := p.CreateProject(name)
	if err != nil {
		t.Fatalf("aerostacktest: project %s: %v", name, err)
	}
	c, err := aerostack.New(aerostack.Config{ProjectID: pr.ID, APIKey: pr.APIKey, BaseURL: p.APIURL, IgnoreEnv: true})
	if err != nil {
		t.Fatalf("aerostacktest: client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
