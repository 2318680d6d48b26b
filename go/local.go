package aerostack

import (
	"encoding/json"
	"time"

	"github.com/aerostack/aerostack-sdk/go/internal/ffi"
)

// LocalOptions configure a local platform started in this process.
type LocalOptions struct {
	// Port to listen on (0: a free one).
	Port int
	// DataDir keeps the data there (empty: an ephemeral directory, removed on Close).
	DataDir string
	// FromEnv reads the AEROSTACK_* variables (AI upstream, ...).
	FromEnv bool
	// RateLimits override the platform's limits: name -> {count, window} (count 0 disables).
	RateLimits map[string]RateLimit
	// RequireEmailVerification makes new accounts verify their email first.
	RequireEmailVerification bool
	// HostedRateLimits turns on the hosted rate limits (register 5/min/IP, ...) for the limits
	// RateLimits does not name; off by default (a test suite would trip over them).
	HostedRateLimits bool
	// Extra are further options in the platform's own names (ai_base_url, max_upload_bytes, ...).
	Extra map[string]any
}

// RateLimit is one limit of LocalOptions.RateLimits.
type RateLimit struct {
	Count  int
	Window time.Duration
}

// LocalPlatform is the local Aerostack platform running in this process (tests, demos).
type LocalPlatform struct {
	// URL is http://127.0.0.1:<port>; APIURL is URL + "/v1", the BaseURL for clients.
	URL         string `json:"url"`
	APIURL      string `json:"api_url"`
	ProjectID   string `json:"project_id"`
	ProjectSlug string `json:"project_slug"`
	APIKey      string `json:"api_key"`
	DataDir     string `json:"data_dir"`

	p *ffi.Platform
}

// StartLocal starts a local platform and waits until it listens.
func StartLocal(o LocalOptions) (*LocalPlatform, error) {
	initLibrary()
	opts := Record{"port": o.Port, "from_env": o.FromEnv}
	if o.DataDir != "" {
		opts["data_dir"] = o.DataDir
	} else {
		opts["ephemeral"] = true
	}
	if o.RequireEmailVerification {
		opts["require_email_verification"] = true
	}
	if o.HostedRateLimits {
		opts["hosted_rate_limits"] = true
	}
	limits := Record{}
	for name, l := range o.RateLimits {
		limits[name] = []int64{int64(l.Count), l.Window.Milliseconds()}
	}
	if len(limits) > 0 {
		opts["rate_limits"] = limits
	}
	for k, v := range o.Extra {
		opts[k] = v
	}
	b, _ := json.Marshal(opts)
	p, err := ffi.StartPlatform(b)
	if err != nil {
		return nil, fail("local.start", err)
	}
	info, err := p.Info()
	if err != nil {
		_ = p.Shutdown()
		return nil, fail("local.start", err)
	}
	lp := &LocalPlatform{p: p}
	if err := json.Unmarshal(info, lp); err != nil {
		_ = p.Shutdown()
		return nil, decodeError("local.start", err)
	}
	return lp, nil
}

// Client is a client of the default project (environment ignored).
func (l *LocalPlatform) Client() (*Client, error) {
	return New(Config{ProjectID: l.ProjectID, APIKey: l.APIKey, BaseURL: l.APIURL, IgnoreEnv: true})
}

// Project is a project of a local platform.
type Project struct {
	ID     string `json:"id"`
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	APIKey string `json:"api_key"`
}

// CreateProject creates a project (its own database, cache, limits...).
func (l *LocalPlatform) CreateProject(name string) (*Project, error) {
	b, err := l.p.CreateProject(name)
	if err != nil {
		return nil, fail("local.create_project", err)
	}
	var p Project
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, decodeError("local.create_project", err)
	}
	return &p, nil
}

// Close stops the platform (open requests finish, up to 5 s).
func (l *LocalPlatform) Close() error {
	if err := l.p.Shutdown(); err != nil {
		return fail("local.shutdown", err)
	}
	return nil
}
