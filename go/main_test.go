package aerostack_test

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

// One local platform for the package's tests (each test that needs isolation makes a project).
var platform *aerostack.LocalPlatform

func TestMain(m *testing.M) {
	p, err := aerostack.StartLocal(aerostack.LocalOptions{RateLimits: map[string]aerostack.RateLimit{
		"login_per_ip": {}, "login_per_email": {}, "register_per_ip": {}, "otp_send": {}, "otp_verify": {},
		"password_reset": {}, "resend_verification": {},
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "the local platform did not start:", err)
		os.Exit(1)
	}
	platform = p
	code := m.Run()
	_ = p.Close()
	os.Exit(code)
}

var projects atomic.Int64

// clientConfigs remembers each test client's Config (a worker connects with it).
var (
	configsMu     sync.Mutex
	clientConfigs = map[*aerostack.Client]aerostack.Config{}
)

// newClient is a client of a fresh project.
func newClient(t testing.TB) *aerostack.Client {
	t.Helper()
	pr, err := platform.CreateProject(fmt.Sprintf("go-test-%d", projects.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := aerostack.Config{ProjectID: pr.ID, APIKey: pr.APIKey, BaseURL: platform.APIURL, IgnoreEnv: true}
	c, err := aerostack.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	configsMu.Lock()
	clientConfigs[c] = cfg
	configsMu.Unlock()
	return c
}
