// Package sdk is the face of the official sdk-go (`New(apiKey, WithServerURL(url))` with
// `Database.DbQuery(ctx, req)` and the other generated operations), so its users migrate by
// changing the import; the calls run on the Aerostack engine like every aerostack.Client call
// (retries, timeouts, the errors of package aerostack).
//
//	s := sdk.New(os.Getenv("AEROSTACK_API_KEY"), sdk.WithServerURL("http://127.0.0.1:8787/v1"))
//	res, err := s.Database.DbQuery(ctx, sdk.DbQueryRequest{Sql: "SELECT * FROM users WHERE id = ?", Params: []any{42}})
//
// Each operation takes its request model (the REST API's wire fields) and returns the
// platform's JSON answer as it was sent. Its method and path are the engine's table
// (bindings/common/src/rest.rs), run by the surface's `rest` operation.
package sdk

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

// Error is every failure (package aerostack's): errors.Is(err, aerostack.ErrNotFound), ...
type Error = aerostack.Error

// Record is a JSON object as the platform answered it.
type Record = map[string]any

// Option configures an SDK.
type Option func(*aerostack.Config)

// WithServerURL is the API's base URL (default https://api.aerostack.dev/v1).
func WithServerURL(url string) Option { return func(c *aerostack.Config) { c.BaseURL = url } }

// WithServerIndex picks a known server: 0 = https://api.aerostack.dev/v1, 1 = http://localhost:8787/v1.
func WithServerIndex(i int) Option { return func(c *aerostack.Config) { c.ServerIndex = &i } }

// WithProjectID sets the project id (most keys name their project by themselves).
func WithProjectID(id string) Option { return func(c *aerostack.Config) { c.ProjectID = id } }

// WithTimeout is the per-attempt timeout of every call.
func WithTimeout(d time.Duration) Option { return func(c *aerostack.Config) { c.Timeout = d } }

// WithRetryConfig is the retry policy (aerostack.NoRetry() for none).
func WithRetryConfig(r *aerostack.RetryPolicy) Option {
	return func(c *aerostack.Config) { c.Retry = r }
}

// WithHeaders are sent with every request.
func WithHeaders(h map[string]string) Option { return func(c *aerostack.Config) { c.Headers = h } }

// WithConsumerKey is the AI-gateway consumer key (ask_…) of the Gateway consumer operations
// (else AEROSTACK_CONSUMER_KEY).
func WithConsumerKey(key string) Option { return func(c *aerostack.Config) { c.ConsumerKey = key } }

// WithHTTPClient sends the operations' HTTP requests with c (its Transport, proxy and TLS
// settings apply), as the official sdk-go's option does; the engine still builds each request,
// retries and maps errors (aerostack.Config.HTTPClient).
func WithHTTPClient(c *http.Client) Option { return func(cfg *aerostack.Config) { cfg.HTTPClient = c } }

// WithLogger receives the engine's lines (retries).
func WithLogger(l *slog.Logger) Option { return func(c *aerostack.Config) { c.Logger = l } }

// SDK is the operation-style client. Safe for concurrent use; make one and keep it.
type SDK struct {
	client *aerostack.Client
	// err is New's configuration error, answered by every call (New returns no error, as the
	// official sdk-go's does not).
	err error

	Database       *Database
	Authentication *Authentication
	Cache          *Cache
	Queue          *Queue
	Storage        *Storage
	AI             *AI
	Services       *Services
	Gateway        *Gateway
	// Realtime is the realtime connection (aerostack.Realtime: Channel, Connect, SetToken, Status).
	Realtime *aerostack.Realtime
}

// New is an SDK for apiKey (AEROSTACK_API_KEY when empty). A configuration error (a malformed
// URL) is answered by every call.
func New(apiKey string, opts ...Option) *SDK {
	cfg := aerostack.Config{APIKey: apiKey}
	for _, o := range opts {
		o(&cfg)
	}
	s := &SDK{}
	s.client, s.err = aerostack.New(cfg)
	s.Database = &Database{s}
	s.Authentication = &Authentication{s}
	s.Cache = &Cache{s}
	s.Queue = &Queue{s}
	s.Storage = &Storage{s}
	s.AI = &AI{s}
	s.Services = &Services{s}
	s.Gateway = &Gateway{s}
	if s.client != nil {
		s.Realtime = s.client.Realtime
	}
	return s
}

// Client is the idiomatic client under this SDK (the same engine client and pool).
func (s *SDK) Client() (*aerostack.Client, error) { return s.client, s.err }

// Close closes the realtime connection, if one was opened.
func (s *SDK) Close() error {
	if s.client == nil {
		return nil
	}
	return s.client.Close()
}

// rest runs REST operation group.name with request's wire fields; the JSON answer.
func (s *SDK) rest(ctx context.Context, operation string, request any) (Record, error) {
	return s.restWith(ctx, operation, request, nil)
}

// restWith is rest with path and query parameters (the spec's names).
func (s *SDK) restWith(ctx context.Context, operation string, request any, params map[string]any) (Record, error) {
	if s.err != nil {
		return nil, s.err
	}
	args := map[string]any{"operation": operation, "request": request}
	if params != nil {
		args["params"] = params
	}
	raw, err := s.client.Do(ctx, "rest", args)
	if err != nil {
		return nil, err
	}
	var out Record
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, &aerostack.Error{Code: "DECODE_ERROR", Family: aerostack.FamilyDecode, Op: operation,
			Message: "the answer is not a JSON object: " + err.Error(), Body: string(raw)}
	}
	return out, nil
}
