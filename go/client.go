// Package aerostack is the Go SDK of Aerostack: the database, auth, cache, storage, AI, queue,
// secrets, services and realtime of a project, over the shared Rust engine (cgo, static
// library). Every call takes a context.Context first; cancelling it aborts the engine's request.
//
//	client, err := aerostack.New(aerostack.Config{ProjectID: "...", APIKey: "...", BaseURL: "http://127.0.0.1:8787/v1"})
//	res, err := client.DB.Query(ctx, "SELECT * FROM users WHERE id = ?", 42)
package aerostack

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aerostack/aerostack-sdk/go/internal/ffi"
)

// Version is the SDK's version (the engine's).
const Version = "0.1.0"

// Record is a JSON object as the platform answered it.
type Record = map[string]any

// RetryPolicy is the engine's retry policy (every Aerostack SDK shares it). Zero fields keep the
// defaults.
type RetryPolicy struct {
	MaxAttempts           int           `json:"max_attempts,omitempty"`
	InitialInterval       time.Duration `json:"-"`
	MaxInterval           time.Duration `json:"-"`
	Exponent              float64       `json:"exponent,omitempty"`
	MaxElapsedTime        time.Duration `json:"-"`
	RetryConnectionErrors *bool         `json:"retry_connection_errors,omitempty"`
	MaxRetryAfter         time.Duration `json:"-"`
}

// NoRetry is a policy that never retries.
func NoRetry() *RetryPolicy { return &RetryPolicy{MaxAttempts: 1} }

func (r *RetryPolicy) options() Record {
	if r == nil {
		return nil
	}
	o := Record{}
	if r.MaxAttempts > 0 {
		o["max_attempts"] = r.MaxAttempts
	}
	ms := func(name string, d time.Duration) {
		if d > 0 {
			o[name] = d.Milliseconds()
		}
	}
	ms("initial_interval_ms", r.InitialInterval)
	ms("max_interval_ms", r.MaxInterval)
	ms("max_elapsed_time_ms", r.MaxElapsedTime)
	ms("max_retry_after_ms", r.MaxRetryAfter)
	if r.Exponent > 0 {
		o["exponent"] = r.Exponent
	}
	if r.RetryConnectionErrors != nil {
		o["retry_connection_errors"] = *r.RetryConnectionErrors
	}
	return o
}

// Config configures a Client. ProjectID and APIKey fall back to AEROSTACK_PROJECT_ID and
// AEROSTACK_API_KEY, BaseURL to AEROSTACK_API_URL (unless IgnoreEnv).
type Config struct {
	ProjectID string
	APIKey    string
	// BaseURL is the API's base, e.g. http://127.0.0.1:8787/v1.
	BaseURL string
	// ServerIndex picks a known server when BaseURL is empty: 0 = https://api.aerostack.dev/v1,
	// 1 = http://localhost:8787/v1.
	ServerIndex *int
	// Timeout is the per-attempt timeout of every call (default 30 s).
	Timeout        time.Duration
	ConnectTimeout time.Duration
	// Retry is the retry policy (nil: the default; NoRetry() for none).
	Retry *RetryPolicy
	// Headers are sent with every request.
	Headers map[string]string
	// IgnoreEnv ignores the AEROSTACK_* environment variables.
	IgnoreEnv bool
	// ConsumerKey is the AI-gateway consumer key (ask_…) of the Gateway calls that name none
	// (falls back to AEROSTACK_CONSUMER_KEY).
	ConsumerKey string
	// Logger receives the engine's lines about this client's requests (each retry at debug, a
	// long wait at warn); nil: slog.Default(). Each line carries the identity of the engine client
	// that made the call, so every client logs to its own Logger.
	Logger *slog.Logger
	// HTTPClient, when set, sends the HTTP requests of this client's calls (its Transport,
	// proxy, TLS settings and middleware apply; streams, uploads, downloads and realtime keep the
	// engine's own connections). The engine still builds each request, retries, applies Timeout
	// and maps errors: a failed round trip is a network error, retried per Retry.
	HTTPClient *http.Client
}

func (c Config) options() Record {
	o := Record{}
	put := func(k, v string) {
		if v != "" {
			o[k] = v
		}
	}
	put("project_id", c.ProjectID)
	put("api_key", c.APIKey)
	put("base_url", c.BaseURL)
	put("consumer_key", c.ConsumerKey)
	if c.ServerIndex != nil {
		o["server_index"] = *c.ServerIndex
	}
	if c.Timeout > 0 {
		o["timeout_ms"] = c.Timeout.Milliseconds()
	}
	if c.ConnectTimeout > 0 {
		o["connect_timeout_ms"] = c.ConnectTimeout.Milliseconds()
	}
	if r := c.Retry.options(); r != nil {
		o["retry"] = r
	}
	if len(c.Headers) > 0 {
		o["headers"] = c.Headers
	}
	if c.IgnoreEnv {
		o["ignore_env"] = true
	}
	return o
}

// How Go spells the engine's option names in error messages.
var goNames = map[string]string{
	"CallOptions.timeout_ms":          "client.WithOptions(aerostack.CallOptions{Timeout: ...})",
	"ClientConfig.timeout_ms":         "aerostack.Config{Timeout: ...}",
	"ClientConfig.api_key":            "aerostack.Config{APIKey: ...}",
	"ClientConfig.project_id":         "aerostack.Config{ProjectID: ...}",
	"CallOptions.idempotency_key":     "aerostack.CallOptions{IdempotencyKey: ...}",
	"CallOptions.headers":             "aerostack.CallOptions{Headers: ...}",
	"RealtimeConfig::outbox_capacity": "aerostack.RealtimeOptions{OutboxCapacity: ...}",
}

var initOnce sync.Once

func initLibrary() {
	initOnce.Do(func() {
		names, _ := json.Marshal(goNames)
		_ = ffi.InstallNames(names)
		startLogs()
	})
}

// Client is a client of one project. It is safe for concurrent use by many goroutines and
// shares one connection pool; make one and keep it.
type Client struct {
	h *ffi.Client
	// logToken keeps this client's log route (Config.Logger) alive; shared by WithOptions.
	logToken *routeToken
	// httpClient sends the requests of JSON calls when set (Config.HTTPClient).
	httpClient *http.Client

	DB       *DB
	Auth     *Auth
	Cache    *Cache
	Storage  *Storage
	AI       *AI
	Gateway  *Gateway
	Queue    *Queue
	Secrets  *Secrets
	Services *Services
	Local    *Local
	Socket   *Socket
	Realtime *Realtime
}

// New makes a client. A configuration error (a malformed URL, ...) is an *Error of family config.
func New(cfg Config) (*Client, error) {
	initLibrary()
	opts, err := json.Marshal(cfg.options())
	if err != nil {
		return nil, validation("config", "config", err.Error())
	}
	h, err := ffi.NewClient(opts, "aerostack-go/"+Version)
	if err != nil {
		return nil, fail("config", err)
	}
	c := wrap(h)
	c.httpClient = cfg.HTTPClient
	if cfg.Logger != nil {
		routeLogs(c, cfg.Logger)
	}
	return c, nil
}

func wrap(h *ffi.Client) *Client {
	c := &Client{h: h}
	c.DB = &DB{c}
	c.Auth = &Auth{c}
	c.Cache = &Cache{c}
	c.Storage = &Storage{c}
	c.AI = &AI{c: c, Search: &AISearch{c}}
	c.Gateway = &Gateway{c}
	c.Queue = &Queue{c}
	c.Secrets = &Secrets{c}
	c.Services = &Services{c}
	c.Local = &Local{c}
	c.Socket = &Socket{c}
	c.Realtime = &Realtime{c: c}
	// On the handle, which is in no cycle (the Client is: c.DB.c == c), so it runs.
	runtime.SetFinalizer(h, func(h *ffi.Client) { h.Free() })
	return c
}

// CallOptions change how the calls of a client made by WithOptions behave.
type CallOptions struct {
	// Timeout is the per-attempt timeout.
	Timeout time.Duration
	Retry   *RetryPolicy
	// IdempotencyKey is sent as Idempotency-Key, so a retried write is done once.
	IdempotencyKey string
	Headers        map[string]string
}

// WithOptions is a client for the same project and connection pool whose calls use these
// options: client.WithOptions(aerostack.CallOptions{Timeout: 2 * time.Second}).DB.Query(...).
func (c *Client) WithOptions(o CallOptions) (*Client, error) {
	opts := Record{}
	if o.Timeout > 0 {
		opts["timeout_ms"] = o.Timeout.Milliseconds()
	}
	if r := o.Retry.options(); r != nil {
		opts["retry"] = r
	}
	if o.IdempotencyKey != "" {
		opts["idempotency_key"] = o.IdempotencyKey
	}
	if len(o.Headers) > 0 {
		opts["headers"] = o.Headers
	}
	b, _ := json.Marshal(opts)
	h, err := c.h.WithOptions(b)
	if err != nil {
		return nil, fail("with_options", err)
	}
	d := wrap(h)
	d.logToken = c.logToken
	d.httpClient = c.httpClient
	return d, nil
}

// Close closes the realtime connection, if one was opened. The pool is freed when the client
// is garbage-collected.
func (c *Client) Close() error {
	c.Realtime.close()
	return nil
}

// args are the named arguments of an operation; empty strings and nil values are left out, so
// a missing required argument is refused by the engine naming the field.
type args Record

func (a args) s(name, v string) args {
	if v != "" {
		a[name] = v
	}
	return a
}

func (a args) v(name string, v any) args {
	if v != nil {
		a[name] = v
	}
	return a
}

func (a args) n(name string, v int) args {
	if v > 0 {
		a[name] = v
	}
	return a
}

// wait waits for a submitted call, cancelling it when ctx ends.
func wait(ctx context.Context, op string, p *ffi.Pending, progress func(ffi.Progress)) (ffi.Completion, error) {
	for {
		select {
		case d := <-p.Done:
			if d.Err != nil {
				return d, fromJSON(op, d.Err)
			}
			return d, nil
		case pr := <-p.Progress:
			if progress != nil {
				progress(pr)
			}
		case <-ctx.Done():
			p.Cancel()
			return ffi.Completion{}, ctxError(op, ctx.Err())
		}
	}
}

// raw runs operation op and returns its JSON answer.
func (c *Client) raw(ctx context.Context, op string, a args) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(op, err)
	}
	body, err := json.Marshal(a)
	if err != nil {
		return nil, validation(op, "args", "the arguments cannot be encoded as JSON: "+err.Error())
	}
	if c.httpClient != nil {
		return c.hosted(ctx, op, body)
	}
	defer inFlight.Add(-1)
	if inFlight.Add(1) == 1 {
		// The only call in flight: wait on this goroutine's thread (see inFlight).
		out, err := c.h.CallWait(ctx, op, body)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctxError(op, ctx.Err())
			}
			return nil, fail(op, err)
		}
		return out, nil
	}
	p, err := c.h.Call(op, body)
	if err != nil {
		return nil, fail(op, err)
	}
	d, err := wait(ctx, op, p, nil)
	return d.JSON, err
}

// inFlight counts the calls running. A call that starts alone waits in C on its goroutine's OS
// thread (ffi.CallWait) instead of on the completion queue: that answers a sequential caller
// about twice as fast (no hand-off through the queue's pulling thread and back to the goroutine).
// Every call that starts beside others goes through the queue, which serves any number of
// goroutines with one thread, and never has a spinning waiter beside it.
var inFlight atomic.Int64

// call runs operation op and decodes its answer into T.
func call[T any](ctx context.Context, c *Client, op string, a args) (T, error) {
	var out T
	raw, err := c.raw(ctx, op, a)
	if err != nil {
		return out, err
	}
	if err := decodeResult(raw, &out); err != nil {
		return out, decodeError(op, err)
	}
	return out, nil
}

// Call calls the custom API (Logic Module endpoint) slug with POST; its JSON answer.
func (c *Client) Call(ctx context.Context, slug string, data any) (any, error) {
	return c.CallMethod(ctx, "POST", slug, data)
}

// CallMethod is Call with another HTTP method (GET, PUT, ...).
func (c *Client) CallMethod(ctx context.Context, method, slug string, data any) (any, error) {
	return call[any](ctx, c, "call", args{}.s("slug", slug).v("data", data).s("method", method))
}

// Request is a raw platform call (path under /v1); the JSON answer as sent.
func (c *Client) Request(ctx context.Context, method, path string, body any) (any, error) {
	return call[any](ctx, c, "request", args{}.s("method", method).s("path", path).v("body", body))
}

// Secrets are the project's secrets.
type Secrets struct{ c *Client }

// Get is a secret's value ("" and ok false when it does not exist).
func (s *Secrets) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := call[*string](ctx, s.c, "secrets.get", args{}.s("key", key))
	if err != nil || v == nil {
		return "", false, err
	}
	return *v, true, nil
}

// Set creates or replaces a secret.
func (s *Secrets) Set(ctx context.Context, key, value string) error {
	_, err := s.c.raw(ctx, "secrets.set", args{}.s("key", key).s("value", value))
	return err
}

// List is the secret names.
func (s *Secrets) List(ctx context.Context) ([]string, error) {
	return call[[]string](ctx, s.c, "secrets.list", args{})
}

// Services are the other services (Logic Modules) of the project.
type Services struct{ c *Client }

// Invoke invokes a service: Success, and Result (what the service answered).
func (s *Services) Invoke(ctx context.Context, serviceName string, data any) (*InvokeResult, error) {
	return call[*InvokeResult](ctx, s.c, "services.invoke", args{}.s("service_name", serviceName).v("data", data))
}

// Local are helpers only the local platform serves.
type Local struct{ c *Client }

// Outbox is the emails the local platform "sent" (verification links, OTP codes), newest first.
func (l *Local) Outbox(ctx context.Context, to string, limit int) ([]OutboxMessage, error) {
	return call[[]OutboxMessage](ctx, l.c, "local.outbox", args{}.s("to", to).n("limit", limit))
}

// Workers is what the project's connected workers serve now (workers, modules, events, jobs).
func (l *Local) Workers(ctx context.Context) (*ServedNow, error) {
	return call[*ServedNow](ctx, l.c, "local.workers", args{})
}

// WaitServed waits until a connected worker serves name (a custom API slug, an event or a job
// type), at most timeout.
func (l *Local) WaitServed(ctx context.Context, name string, timeout time.Duration) (*ServedNow, error) {
	a := args{}.s("name", name)
	if timeout > 0 {
		a["timeout_ms"] = timeout.Milliseconds()
	}
	return call[*ServedNow](ctx, l.c, "local.wait_served", a)
}

// Do runs any operation of the engine's table by name (db.query, cache.set, ...; the same
// names in every Aerostack SDK) with its named arguments, and returns the JSON answer. The typed
// methods are the way to call the platform; Do is for dynamic callers (tools, proxies, the
// conformance runner's ill-typed argument cases).
func (c *Client) Do(ctx context.Context, op string, arguments map[string]any) (json.RawMessage, error) {
	return c.raw(ctx, op, args(arguments))
}
