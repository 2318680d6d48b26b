package aerostack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aerostack/aerostack-sdk/go/internal/ffi"
)

// Handler serves a Logic Module or a queue job: its answer (any JSON value) is the custom API's
// body or the job's result; an error fails the invocation (a custom API answers 500 HOOK_FAILED
// with its message, a job is retried with backoff, then dead-lettered).
type Handler func(ctx context.Context, sdk *Scoped, event Event) (any, error)

// Event is what a handler is called with.
type Event struct {
	// ID is the invocation's id.
	ID string
	// Kind is custom, service, event or job.
	Kind string
	// Name is the module's slug or the job's type.
	Name      string
	ProjectID string
	// Data is the request's JSON body (custom API, service) or the job's data.
	Data any
	// Method is the HTTP method of a custom API call; Query and Headers its query parameters
	// and request headers (the caller's, as sent).
	Method  string
	Query   Record
	Headers Record
	// Attempt is a job invocation's attempt count as the platform reports it (0 for others).
	Attempt int
	// Timestamp is when the platform sent it; CreatedAt, for a job, when the job was created
	// (zero when not said).
	Timestamp time.Time
	CreatedAt time.Time
	// Raw is the whole event as the platform sent it (headers, query, user, attempt, ...; its
	// times as time.Time).
	Raw Record
}

// Scoped is the sdk a handler receives: every service of a Client bound to the invocation's
// project (sdk.DB, sdk.Cache, sdk.Queue, sdk.Socket.Emit, sdk.AI, ...), plus Fetch.
type Scoped struct {
	*Client
	ProjectID string
}

// FetchOptions are the options of Scoped.Fetch.
type FetchOptions struct {
	Method  string
	Headers map[string]string
	// Body is sent as is (a string) or as JSON (anything else).
	Body    any
	Timeout time.Duration
}

// FetchResponse is an outbound HTTP answer.
type FetchResponse struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// Fetch is outbound HTTP from a handler (User-Agent aerostack-hooks/<version>, 30 s default
// timeout).
func (s *Scoped) Fetch(ctx context.Context, url string, o *FetchOptions) (*FetchResponse, error) {
	a := args{}.s("url", url)
	if o != nil {
		a.s("method", o.Method).v("body", o.Body)
		if len(o.Headers) > 0 {
			a["headers"] = o.Headers
		}
		if o.Timeout > 0 {
			a["timeout_ms"] = o.Timeout.Milliseconds()
		}
	}
	return call[*FetchResponse](ctx, s.Client, "fetch", a)
}

type moduleSpec struct {
	Slug      string   `json:"slug"`
	Methods   []string `json:"methods,omitempty"`
	Public    bool     `json:"public,omitempty"`
	Trigger   string   `json:"trigger,omitempty"`
	TimeoutMs int64    `json:"timeout_ms,omitempty"`
}

type jobSpec struct {
	Type      string `json:"type"`
	TimeoutMs int64  `json:"timeout_ms,omitempty"`
}

type serveConfig struct {
	cfg         Config
	modules     []moduleSpec
	jobs        []jobSpec
	handlers    map[string]Handler // "module:<slug>" / "job:<type>"
	concurrency int
	label       string
	grace       time.Duration
	ready       func()
}

// ServeOption is what Serve serves and how: Module, Job, Connect, Concurrency, OnReady.
type ServeOption func(*serveConfig)

// ModuleOption configures a Module.
type ModuleOption func(*moduleSpec)

// Public lets the module be called without an API key.
func Public() ModuleOption { return func(m *moduleSpec) { m.Public = true } }

// Methods are the HTTP methods the module answers (default POST).
func Methods(methods ...string) ModuleOption { return func(m *moduleSpec) { m.Methods = methods } }

// Trigger serves a platform event (e.g. auth.register.after) instead of a custom API.
func Trigger(event string) ModuleOption { return func(m *moduleSpec) { m.Trigger = event } }

// ModuleTimeout is how long the platform waits for the module.
func ModuleTimeout(d time.Duration) ModuleOption {
	return func(m *moduleSpec) { m.TimeoutMs = d.Milliseconds() }
}

// Module serves the Logic Module at slug (POST /custom/<slug> and services.invoke).
func Module(slug string, h Handler, opts ...ModuleOption) ServeOption {
	return func(c *serveConfig) {
		m := moduleSpec{Slug: slug}
		for _, o := range opts {
			o(&m)
		}
		c.modules = append(c.modules, m)
		c.handlers["module:"+slug] = h
	}
}

// Job serves queue jobs of type name (a Go function name such as SendWelcomeEmail is not
// turned into a type: give the type, e.g. "send-welcome-email").
func Job(name string, h Handler) ServeOption {
	return func(c *serveConfig) {
		c.jobs = append(c.jobs, jobSpec{Type: name})
		c.handlers["job:"+name] = h
	}
}

// Connect sets the connection (default: AEROSTACK_API_KEY / AEROSTACK_API_URL).
func Connect(cfg Config) ServeOption { return func(c *serveConfig) { c.cfg = cfg } }

// Concurrency is the most queue jobs in flight at once (default 4).
func Concurrency(n int) ServeOption { return func(c *serveConfig) { c.concurrency = n } }

// DrainGrace is how long a stop waits for running handlers (default 30 s).
func DrainGrace(d time.Duration) ServeOption { return func(c *serveConfig) { c.grace = d } }

// OnReady is called once the platform confirmed the registration.
func OnReady(f func()) ServeOption { return func(c *serveConfig) { c.ready = f } }

// Serve connects, registers the modules and jobs, and serves them until ctx ends; then it
// drains (what arrived is finished and answered) and returns nil. Each invocation runs on its
// own goroutine.
//
//	err := aerostack.Serve(ctx,
//		aerostack.Module("search-products", searchProducts, aerostack.Public()),
//		aerostack.Job("send-welcome-email", sendWelcomeEmail))
func Serve(ctx context.Context, opts ...ServeOption) error {
	initLibrary()
	sc := &serveConfig{handlers: map[string]Handler{}, grace: 30 * time.Second}
	for _, o := range opts {
		o(sc)
	}
	if len(sc.modules)+len(sc.jobs) == 0 {
		return validation("serve", "modules", "Serve needs at least one aerostack.Module or aerostack.Job")
	}
	reg := Record{"modules": sc.modules, "jobs": sc.jobs}
	if sc.modules == nil {
		reg["modules"] = []moduleSpec{}
	}
	if sc.jobs == nil {
		reg["jobs"] = []jobSpec{}
	}
	if sc.concurrency > 0 {
		reg["concurrency"] = sc.concurrency
	}
	copts, _ := json.Marshal(sc.cfg.options())
	rb, _ := json.Marshal(reg)
	p, err := ffi.ConnectWorker(copts, rb, "aerostack-go/"+Version)
	if err != nil {
		return fail("serve", err)
	}
	d, err := wait(ctx, "serve", p, nil)
	if err != nil {
		return err
	}
	w := d.Worker
	defer w.Free()
	if sc.ready != nil {
		sc.ready()
	}
	var running sync.WaitGroup
	stopping := false
	var stopped *ffi.Pending
	for {
		if !stopping && ctx.Err() != nil {
			stopping = true
			if stopped, err = w.Stop(uint64(sc.grace.Milliseconds())); err != nil {
				return fail("serve", err)
			}
		}
		p, err := w.NextInvocation(250)
		if err != nil {
			return fail("serve", err)
		}
		d := <-p.Done // never cancelled: an invocation pulled is always answered
		if d.Err != nil {
			return fromJSON("serve", d.Err)
		}
		if d.Invocation == nil {
			if w.IsClosed() {
				break
			}
			continue
		}
		running.Add(1)
		go func(inv *ffi.Invocation) {
			defer running.Done()
			defer inv.Free()
			invoke(w, inv, sc.handlers)
		}(d.Invocation)
	}
	running.Wait()
	if stopped != nil {
		<-stopped.Done
	}
	return nil
}

// invoke runs one handler and answers the platform.
func invoke(w *ffi.Worker, inv *ffi.Invocation, handlers map[string]Handler) {
	info, err := inv.Info()
	if err != nil {
		return
	}
	var raw struct {
		ID         string `json:"id"`
		Kind       string `json:"kind"`
		Name       string `json:"name"`
		ProjectID  string `json:"project_id"`
		Event      Record `json:"event"`
		DeadlineMs int64  `json:"deadline_ms"`
	}
	if err := json.Unmarshal(info, &raw); err != nil {
		_ = w.Fail(raw.ID, "the invocation could not be read: "+err.Error())
		return
	}
	key := "module:" + raw.Name
	if raw.Kind == "job" {
		key = "job:" + raw.Name
	}
	h := handlers[key]
	if h == nil {
		_ = w.Fail(raw.ID, fmt.Sprintf("no handler for %s %s", raw.Kind, raw.Name))
		return
	}
	hc, err := inv.Client()
	if err != nil {
		_ = w.Fail(raw.ID, err.Error())
		return
	}
	ctx := context.Background()
	if raw.DeadlineMs > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.UnixMilli(raw.DeadlineMs))
		defer cancel()
	}
	withTimes("worker.invocation", raw.Event)
	ev := Event{ID: raw.ID, Kind: raw.Kind, Name: raw.Name, ProjectID: raw.ProjectID, Data: raw.Event["data"], Raw: raw.Event}
	if t := optTime(raw.Event, "timestamp"); t != nil {
		ev.Timestamp = *t
	}
	if t := optTime(raw.Event, "created_at"); t != nil {
		ev.CreatedAt = *t
	}
	ev.Method, _ = raw.Event["method"].(string)
	ev.Query, _ = raw.Event["query"].(map[string]any)
	ev.Headers, _ = raw.Event["headers"].(map[string]any)
	if n, ok := raw.Event["attempt"].(float64); ok {
		ev.Attempt = int(n)
	}
	result, err := safeCall(ctx, h, &Scoped{Client: wrap(hc), ProjectID: raw.ProjectID}, ev)
	if err != nil {
		_ = w.Fail(raw.ID, err.Error())
		return
	}
	b, err := json.Marshal(result)
	if err != nil {
		_ = w.Fail(raw.ID, "the handler's answer is not JSON: "+err.Error())
		return
	}
	_ = w.Complete(raw.ID, b)
}

// safeCall turns a handler's panic into a failed invocation.
func safeCall(ctx context.Context, h Handler, sdk *Scoped, ev Event) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New(fmt.Sprint("handler panicked: ", r))
		}
	}()
	return h(ctx, sdk, ev)
}
