// The Go runner of the conformance suite (tests/conformance/README.md is its contract): one
// local platform in-process, every case of cases/*.json through the Go SDK's public API, the
// result file at --out, one line per case and `N passed, N failed` last.
//
//	go run ./tests/conformance/go --out /tmp/go.json [--only 'error.*']
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

type obj = map[string]any

// ---------------------------------------------------------------------------------------------
// Cases and templates

type caseT struct {
	raw  obj
	ID   string
	Desc string
}

func suiteDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

func loadJSON(p string) (obj, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var o obj
	return o, d.Decode(&o)
}

var template = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_\-]+)*)\}`)

func getPath(v any, p []string, what string) (any, error) {
	for _, seg := range p {
		switch x := v.(type) {
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i >= len(x) {
				return nil, fmt.Errorf("%s: no %q in %s", what, seg, short(v))
			}
			v = x[i]
		case obj:
			y, ok := x[seg]
			if !ok {
				return nil, fmt.Errorf("%s: no %q in %s", what, seg, short(v))
			}
			v = y
		default:
			return nil, fmt.Errorf("%s: no %q in %s", what, seg, short(v))
		}
	}
	return v, nil
}

func lookup(vars obj, ref string) (any, error) {
	parts := strings.Split(ref, ".")
	v, ok := vars[parts[0]]
	if !ok {
		return nil, fmt.Errorf("unknown template variable ${%s}", ref)
	}
	return getPath(v, parts[1:], ref)
}

// resolve replaces templates; names in later (not in vars) are left for a later pass.
func resolve(v any, vars obj, later ...string) (any, error) {
	deferred := func(ref string) bool {
		name := strings.Split(ref, ".")[0]
		_, known := vars[name]
		for _, l := range later {
			if l == name && !known {
				return true
			}
		}
		return false
	}
	switch x := v.(type) {
	case string:
		if m := template.FindStringSubmatch(x); m != nil && m[0] == x {
			if deferred(m[1]) {
				return x, nil
			}
			return lookup(vars, m[1])
		}
		var firstErr error
		out := template.ReplaceAllStringFunc(x, func(s string) string {
			ref := s[2 : len(s)-1]
			if deferred(ref) {
				return s
			}
			val, err := lookup(vars, ref)
			if err != nil {
				firstErr = err
				return s
			}
			if str, ok := val.(string); ok {
				return str
			}
			b, _ := json.Marshal(val)
			return string(b)
		})
		return out, firstErr
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := resolve(e, vars, later...)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case obj:
		out := obj{}
		for k, e := range x {
			r, err := resolve(e, vars, later...)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

// ---------------------------------------------------------------------------------------------
// Shapes

func short(v any) string {
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprintf("%#v", v)
	}
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func isInt(v any) bool {
	n, ok := v.(json.Number)
	return ok && !strings.ContainsAny(n.String(), ".eE")
}

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func typeOK(v any, t string) bool {
	for _, alt := range strings.Split(t, "|") {
		switch strings.TrimSpace(alt) {
		case "any":
			return true
		case "null":
			if v == nil {
				return true
			}
		case "boolean":
			if _, ok := v.(bool); ok {
				return true
			}
		case "integer":
			if isInt(v) {
				return true
			}
		case "number":
			if _, ok := num(v); ok {
				return true
			}
		case "string":
			if _, ok := v.(string); ok {
				return true
			}
		case "object":
			if _, ok := v.(obj); ok {
				return true
			}
		case "array":
			if _, ok := v.([]any); ok {
				return true
			}
		}
	}
	return false
}

func jsonEqual(a, b any) bool {
	if fa, ok := num(a); ok {
		fb, ok2 := num(b)
		return ok2 && fa == fb
	}
	switch x := a.(type) {
	case obj:
		y, ok := b.(obj)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func jsonSubset(expected, actual any) bool {
	if e, ok := expected.(obj); ok {
		a, ok := actual.(obj)
		if !ok {
			return false
		}
		for k, v := range e {
			w, ok := a[k]
			if !ok || !jsonSubset(v, w) {
				return false
			}
		}
		return true
	}
	return jsonEqual(expected, actual)
}

func length(v any) (int, bool) {
	switch x := v.(type) {
	case []any:
		return len(x), true
	case string:
		return len([]rune(x)), true
	}
	return 0, false
}

func checkShape(v any, shape any, at string) []string {
	if t, ok := shape.(string); ok {
		if typeOK(v, t) {
			return nil
		}
		return []string{fmt.Sprintf("%s: expected %s, got %s", at, t, short(v))}
	}
	s, ok := shape.(obj)
	if !ok {
		return []string{at + ": the case's shape is not a type name or an object"}
	}
	var p []string
	if t, ok := s["type"].(string); ok && !typeOK(v, t) {
		return []string{fmt.Sprintf("%s: expected %s, got %s", at, t, short(v))}
	}
	if e, ok := s["equals"]; ok && !jsonEqual(v, e) {
		p = append(p, fmt.Sprintf("%s: expected %s, got %s", at, short(e), short(v)))
	}
	missing := map[string]bool{}
	if keys, ok := s["keys"].(obj); ok {
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			m, isObj := v.(obj)
			if !isObj {
				p = append(p, fmt.Sprintf("%s: expected an object with key %q, got %s", at, k, short(v)))
				break
			}
			if sub, ok := m[k]; !ok {
				missing[k] = true
				p = append(p, fmt.Sprintf("%s: missing key %q", at, k))
			} else {
				p = append(p, checkShape(sub, keys[k], at+"."+k)...)
			}
		}
	}
	if l, ok := s["len"]; ok {
		want, _ := num(l)
		if n, ok := length(v); !ok || float64(n) != want {
			p = append(p, fmt.Sprintf("%s: expected length %v, got %s", at, l, short(v)))
		}
	}
	if l, ok := s["min_len"]; ok {
		want, _ := num(l)
		if n, ok := length(v); !ok || float64(n) < want {
			p = append(p, fmt.Sprintf("%s: expected at least %v item(s), got %s", at, l, short(v)))
		}
	}
	if items, ok := s["items"]; ok {
		arr, isArr := v.([]any)
		if !isArr {
			p = append(p, fmt.Sprintf("%s: expected an array, got %s", at, short(v)))
		}
		for i, it := range arr {
			p = append(p, checkShape(it, items, fmt.Sprintf("%s.%d", at, i))...)
		}
	}
	if c, ok := s["contains"]; ok {
		switch x := v.(type) {
		case string:
			cs, _ := c.(string)
			if !strings.Contains(x, cs) {
				p = append(p, fmt.Sprintf("%s: expected to contain %s, got %s", at, short(c), short(v)))
			}
		case []any:
			found := false
			for _, e := range x {
				found = found || jsonEqual(c, e)
			}
			if !found {
				p = append(p, fmt.Sprintf("%s: expected an element %s, got %s", at, short(c), short(v)))
			}
		default:
			p = append(p, fmt.Sprintf("%s: `contains` needs a string or an array, got %s", at, short(v)))
		}
	}
	if key, ok := s["unique_by"].(string); ok {
		arr, _ := v.([]any)
		seen := map[string]bool{}
		for _, e := range arr {
			m, _ := e.(obj)
			id := short(m[key])
			if seen[id] {
				p = append(p, fmt.Sprintf("%s: %s seen more than once: %s", at, key, id))
			}
			seen[id] = true
		}
	}
	if values, ok := s["values"].(obj); ok {
		for pth, want := range values {
			if missing[strings.Split(pth, ".")[0]] {
				continue
			}
			got, err := getPath(v, strings.Split(pth, "."), at+"."+pth)
			if err != nil {
				p = append(p, err.Error())
				continue
			}
			if !jsonEqual(got, want) {
				p = append(p, fmt.Sprintf("%s.%s: expected %s, got %s", at, pth, short(want), short(got)))
			}
		}
	}
	return p
}

// canon is a Go value as the suite's JSON (numbers as json.Number).
func canon(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	return out, d.Decode(&out)
}

// ---------------------------------------------------------------------------------------------
// The environment: one platform, the case's project, fixtures

type env struct {
	platform   *aerostack.LocalPlatform
	project    *aerostack.Project
	closedURL  string
	notJSONURL string
	tmp        string
	spec       obj
	worker     bool
	workerErr  string
	fresh      int
}

func (e *env) client(o obj) (*aerostack.Client, *aerostack.Project, error) {
	pr := e.project
	if o["project"] == "fresh" {
		e.fresh++
		p, err := e.platform.CreateProject(fmt.Sprintf("go-conformance-fresh-%d", e.fresh))
		if err != nil {
			return nil, nil, err
		}
		pr = p
	}
	cfg := aerostack.Config{ProjectID: pr.ID, APIKey: pr.APIKey, BaseURL: e.platform.APIURL, IgnoreEnv: true}
	if k, ok := o["api_key"].(string); ok {
		cfg.APIKey = k
	}
	if u, ok := o["base_url"].(string); ok {
		cfg.BaseURL = u
	}
	if r, ok := o["retry"].(bool); ok && !r {
		cfg.Retry = aerostack.NoRetry()
	}
	if t, ok := num(o["timeout_ms"]); ok {
		cfg.Timeout = time.Duration(t) * time.Millisecond
	}
	c, err := aerostack.New(cfg)
	return c, pr, err
}

// ---------------------------------------------------------------------------------------------
// Operation name -> the Go SDK's method

// errIllTyped: an argument has a JSON type the typed Go method cannot take (a string ttl); such
// calls go through client.Do, the SDK's dynamic entry point, so the SDK's own check answers.
var errIllTyped = errors.New("ill-typed argument")

type argv struct{ m obj }

func (a argv) str(k string) (string, error) {
	v, ok := a.m[k]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", errIllTyped
	}
	return s, nil
}

func (a argv) int(k string) (int, error) {
	v, ok := a.m[k]
	if !ok || v == nil {
		return 0, nil
	}
	if !isInt(v) {
		return 0, errIllTyped
	}
	n, _ := v.(json.Number).Int64()
	return int(n), nil
}

func (a argv) intp(k string) (*int, error) {
	if v, ok := a.m[k]; !ok || v == nil {
		return nil, nil
	}
	n, err := a.int(k)
	return &n, err
}

func (a argv) strs(k string) ([]string, error) {
	v, ok := a.m[k]
	if !ok || v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, errIllTyped
	}
	out := []string{}
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, errIllTyped
		}
		out = append(out, s)
	}
	return out, nil
}

func (a argv) rec(k string) (obj, error) {
	v, ok := a.m[k]
	if !ok || v == nil {
		return nil, nil
	}
	o, ok := v.(obj)
	if !ok {
		return nil, errIllTyped
	}
	return o, nil
}

func (a argv) list(k string) ([]any, error) {
	v, ok := a.m[k]
	if !ok || v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, errIllTyped
	}
	return l, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func bodyBytes(spec any) ([]byte, error) {
	s, ok := spec.(obj)
	if !ok {
		return nil, fmt.Errorf("a bytes spec must be an object, got %s", short(spec))
	}
	if t, ok := s["text"].(string); ok {
		return []byte(t), nil
	}
	pat, _ := s["pattern"].(string)
	size, _ := num(s["size"])
	if pat == "" {
		return nil, fmt.Errorf("a bytes spec needs text or pattern, got %s", short(spec))
	}
	out := bytes.Repeat([]byte(pat), int(size)/len(pat)+1)
	return out[:int(size)], nil
}

// invoke runs op through the SDK's typed method and returns its canonical JSON.
func (e *env) invoke(ctx context.Context, c *aerostack.Client, op string, m obj, progress func(sent, total int64)) (any, error) {
	v, err := e.typed(ctx, c, op, argv{m}, progress)
	if errors.Is(err, errIllTyped) {
		raw, err := c.Do(ctx, op, m)
		if err != nil {
			return nil, err
		}
		var out any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		return out, d.Decode(&out)
	}
	if err != nil {
		return nil, err
	}
	return canon(v)
}

func collect[T any](seq func(yield func(T, error) bool)) (any, error) {
	items := []T{}
	var failed error
	seq(func(v T, err error) bool {
		if err != nil {
			failed = err
			return false
		}
		items = append(items, v)
		return true
	})
	return items, failed
}

func (e *env) typed(ctx context.Context, c *aerostack.Client, op string, a argv, progress func(sent, total int64)) (any, error) {
	s := func(k string) string { v, _ := a.str(k); return v }
	// Type checks first: an ill-typed argument goes through Do.
	for k, v := range a.m {
		switch k {
		case "key", "sql", "email", "password", "name", "token", "type", "job_id", "slug", "method", "prefix", "cursor",
			"text", "content", "id", "service_name", "status", "code", "phone", "access_token", "refresh_token",
			"new_password", "content_type", "prompt", "model", "source_key", "dest_key", "embedding_model", "to", "system",
			"collection", "order", "api_slug", "consumer_key", "consumer_id", "api_id", "metric", "path":
			if _, ok := v.(string); !ok && v != nil {
				return nil, errIllTyped
			}
		case "ttl", "limit", "page_size", "amount", "initial_value", "delay_seconds", "max_retries", "top_k", "max_tokens", "timeout_ms", "days", "units":
			if !isInt(v) && v != nil {
				return nil, errIllTyped
			}
		case "params", "queries", "keys", "entries", "messages", "types":
			if _, ok := v.([]any); !ok && v != nil {
				return nil, errIllTyped
			}
		}
	}
	ttl := func() time.Duration { n, _ := a.int("ttl"); return time.Duration(n) * time.Second }
	switch op {
	case "db.query":
		p, _ := a.list("params")
		return c.DB.Query(ctx, s("sql"), p...)
	case "db.query_one":
		p, _ := a.list("params")
		return c.DB.QueryOne(ctx, s("sql"), p...)
	case "db.batch":
		q, _ := a.list("queries")
		var stmts []aerostack.Statement
		for _, x := range q {
			m, ok := x.(obj)
			if !ok {
				return nil, errIllTyped
			}
			sq, isStr := m["sql"].(string)
			if !isStr {
				return nil, errIllTyped // a statement without sql: the engine names the field
			}
			p, _ := m["params"].([]any)
			stmts = append(stmts, aerostack.Statement{SQL: sq, Params: p})
		}
		return c.DB.Batch(ctx, stmts)
	case "auth.register":
		cf, err := a.rec("custom_fields")
		if err != nil {
			return nil, err
		}
		return c.Auth.Register(ctx, s("email"), s("password"), s("name"), cf)
	case "auth.login":
		return c.Auth.Login(ctx, s("email"), s("password"))
	case "auth.me":
		return c.Auth.Me(ctx, s("access_token"))
	case "auth.verify_token":
		return c.Auth.VerifyToken(ctx, s("token"))
	case "auth.send_otp":
		return c.Auth.SendOTP(ctx, s("email"), s("phone"))
	case "auth.verify_otp":
		return c.Auth.VerifyOTP(ctx, s("code"), s("email"), s("phone"))
	case "auth.refresh":
		return c.Auth.Refresh(ctx, s("refresh_token"))
	case "auth.logout":
		return c.Auth.Logout(ctx, s("access_token"), s("refresh_token"))
	case "cache.get":
		return c.Cache.Get(ctx, s("key"))
	case "cache.set":
		return nil, c.Cache.Set(ctx, s("key"), a.m["value"], ttl())
	case "cache.has":
		return c.Cache.Has(ctx, s("key"))
	case "cache.delete":
		return c.Cache.Delete(ctx, s("key"))
	case "cache.keys":
		return c.Cache.Keys(ctx, s("prefix"))
	case "cache.flush":
		return c.Cache.Flush(ctx, s("prefix"))
	case "cache.expire":
		return c.Cache.Expire(ctx, s("key"), ttl())
	case "cache.increment":
		amount, _ := a.int("amount")
		if _, ok := a.m["amount"]; !ok {
			amount = 1
		}
		var opts *aerostack.IncrementOptions
		if iv, _ := a.intp("initial_value"); iv != nil || ttl() > 0 {
			opts = &aerostack.IncrementOptions{TTL: ttl()}
			if iv != nil {
				n := int64(*iv)
				opts.InitialValue = &n
			}
		}
		return c.Cache.Increment(ctx, s("key"), int64(amount), opts)
	case "cache.list":
		limit, _ := a.int("limit")
		return c.Cache.List(ctx, s("prefix"), limit, s("cursor"))
	case "cache.list_all":
		ps, _ := a.int("page_size")
		return collect(c.Cache.ListAll(ctx, s("prefix"), ps))
	case "queue.send", "queue.enqueue":
		d, _ := a.m["data"]
		opts := &aerostack.EnqueueOptions{}
		opts.DelaySeconds, _ = a.int("delay_seconds")
		opts.MaxRetries, _ = a.intp("max_retries")
		return c.Queue.Send(ctx, s("type"), d, opts)
	case "db.collection.list", "db.collection.list_all":
		limit, _ := a.int("limit")
		if op == "db.collection.list_all" {
			limit, _ = a.int("page_size")
		}
		filter, _ := a.rec("filter")
		q := aerostack.CollectionQuery{Filter: filter, Limit: limit, Cursor: s("cursor"), Order: s("order")}
		if op == "db.collection.list" {
			return c.DB.Collection(s("collection")).List(ctx, q)
		}
		return collect(c.DB.Collection(s("collection")).ListAll(ctx, q))
	case "db.collection.get":
		return c.DB.Collection(s("collection")).Get(ctx, s("id"))
	case "db.collection.create":
		return c.DB.Collection(s("collection")).Create(ctx, a.m["data"])
	case "db.collection.update":
		return c.DB.Collection(s("collection")).Update(ctx, s("id"), a.m["data"])
	case "db.collection.delete":
		return c.DB.Collection(s("collection")).Delete(ctx, s("id"))
	case "queue.job":
		return c.Queue.Job(ctx, s("job_id"))
	case "queue.jobs":
		limit, _ := a.int("limit")
		return c.Queue.Jobs(ctx, aerostack.JobFilter{Status: s("status"), Type: s("type"), Limit: limit, Cursor: s("cursor")})
	case "queue.jobs_all":
		limit, _ := a.int("limit")
		return collect(c.Queue.JobsAll(ctx, aerostack.JobFilter{Status: s("status"), Type: s("type"), Limit: limit, Cursor: s("cursor")}))
	case "queue.cancel":
		return c.Queue.Cancel(ctx, s("job_id"))
	case "storage.upload":
		body, err := bodyBytes(a.m["body"])
		if err != nil {
			return nil, err
		}
		in := aerostack.UploadInput{Key: s("key"), ContentType: s("content_type"), Progress: progress}
		if a.m["source"] == "path" {
			f := filepath.Join(e.tmp, strings.ReplaceAll(s("key"), "/", "_"))
			if err := os.WriteFile(f, body, 0o600); err != nil {
				return nil, err
			}
			in.Path = f
		} else {
			in.Body = bytes.NewReader(body)
		}
		return c.Storage.Upload(ctx, in)
	case "storage.get":
		o, err := c.Storage.Get(ctx, s("key"))
		if err != nil {
			return nil, err
		}
		var text any
		if utf8Valid(o.Data) {
			text = string(o.Data)
		}
		var ct any
		if o.ContentType != "" {
			ct = o.ContentType
		}
		return obj{"size": len(o.Data), "text": text, "content_type": ct}, nil
	case "storage.exists":
		return c.Storage.Exists(ctx, s("key"))
	case "storage.delete":
		return c.Storage.Delete(ctx, s("key"))
	case "storage.metadata":
		return c.Storage.Metadata(ctx, s("key"))
	case "storage.get_url":
		return c.Storage.GetURL(ctx, s("key"))
	case "storage.list":
		limit, _ := a.int("limit")
		return c.Storage.List(ctx, s("prefix"), limit, s("cursor"))
	case "storage.list_all":
		ps, _ := a.int("page_size")
		return collect(c.Storage.ListAll(ctx, s("prefix"), ps))
	case "ai.chat", "ai.chat_stream", "gateway.chat", "gateway.chat_stream":
		msgs, _ := a.list("messages")
		req := aerostack.ChatRequest{Model: s("model")}
		for _, m := range msgs {
			mm, _ := m.(obj)
			role, _ := mm["role"].(string)
			content, _ := mm["content"].(string)
			req.Messages = append(req.Messages, aerostack.Message{Role: role, Content: content})
		}
		gw := &aerostack.GatewayOptions{ConsumerKey: s("consumer_key")}
		switch op {
		case "ai.chat":
			return c.AI.Chat(ctx, req)
		case "gateway.chat":
			return c.Gateway.Chat(ctx, s("api_slug"), req, gw)
		case "gateway.chat_stream":
			return collect(c.Gateway.ChatStream(ctx, s("api_slug"), req, gw))
		}
		return collect(c.AI.ChatStream(ctx, req))
	case "gateway.wallet":
		return c.Gateway.Wallet(ctx, s("api_slug"), &aerostack.GatewayOptions{ConsumerKey: s("consumer_key")})
	case "gateway.usage":
		days, _ := a.int("days")
		return c.Gateway.Usage(ctx, s("api_slug"), days, &aerostack.GatewayOptions{ConsumerKey: s("consumer_key")})
	case "gateway.billing_log":
		units, _ := a.int("units")
		return c.Gateway.BillingLog(ctx, s("consumer_id"), s("api_id"), units, s("metric"))
	case "request":
		return c.Request(ctx, s("method"), s("path"), a.m["body"])
	case "ai.embed":
		return c.AI.Embed(ctx, s("text"))
	case "ai.search.ingest":
		md, _ := a.rec("metadata")
		return c.AI.Search.Ingest(ctx, s("content"), s("type"), s("id"), md)
	case "ai.search.query":
		topK, _ := a.int("top_k")
		types, _ := a.strs("types")
		filter, _ := a.rec("filter")
		return c.AI.Search.Query(ctx, s("text"), &aerostack.SearchQuery{TopK: topK, Types: types, Filter: filter})
	case "ai.search.count":
		return c.AI.Search.Count(ctx, s("type"))
	case "secrets.get":
		v, ok, err := c.Secrets.Get(ctx, s("key"))
		if err != nil || !ok {
			return nil, err
		}
		return v, nil
	case "secrets.set":
		return nil, c.Secrets.Set(ctx, s("key"), s("value"))
	case "secrets.list":
		return c.Secrets.List(ctx)
	case "services.invoke":
		return c.Services.Invoke(ctx, s("service_name"), a.m["data"])
	case "call":
		m := s("method")
		if m == "" {
			m = "POST"
		}
		return c.CallMethod(ctx, m, s("slug"), a.m["data"])
	}
	return nil, fmt.Errorf("the Go runner has no mapping for operation %q", op)
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) }

// ---------------------------------------------------------------------------------------------
// Running a case

type caseFailure struct{ msg string }

func (c *caseFailure) Error() string { return c.msg }

func failf(format string, a ...any) error { return &caseFailure{fmt.Sprintf(format, a...)} }

type run struct {
	e      *env
	c      obj
	vars   obj
	client *aerostack.Client
	proj   *aerostack.Project
	ctx    context.Context
}

func (r *run) setup() error {
	steps, _ := r.c["setup"].([]any)
	for i, st := range steps {
		step := st.(obj)
		resolved, err := resolve(step["args"], r.vars)
		if err != nil {
			return failf("setup %d: %v", i+1, err)
		}
		args, _ := resolved.(obj)
		op, _ := step["call"].(string)
		// Setup runs on a default client of the case's project.
		c, err := aerostack.New(aerostack.Config{ProjectID: r.proj.ID, APIKey: r.proj.APIKey, BaseURL: r.e.platform.APIURL, IgnoreEnv: true})
		if err != nil {
			return failf("setup %d: %v", i+1, err)
		}
		v, err := r.e.invoke(r.ctx, c, op, args, nil)
		if err != nil {
			return failf("setup %d (%s) failed: %v", i+1, op, err)
		}
		if name, ok := step["save"].(string); ok {
			r.vars[name] = v
		}
	}
	return nil
}

func errorProblems(err error, want obj, elapsed time.Duration) []string {
	var e *aerostack.Error
	if !errors.As(err, &e) {
		return []string{fmt.Sprintf("expected an *aerostack.Error, got %T: %v", err, err)}
	}
	var p []string
	got := fmt.Sprintf("%s/%s status=%d %s", e.Code, e.Family, e.Status, e.Message)
	if w, ok := want["code"].(string); ok && w != e.Code {
		p = append(p, fmt.Sprintf("expected code %s, got %s", w, got))
	}
	if w, ok := want["family"].(string); ok && w != string(e.Family) {
		p = append(p, fmt.Sprintf("expected family %s, got %s", w, got))
	}
	if w, ok := want["status"]; ok {
		ws, isNum := num(w)
		if (w == nil && e.Status != 0) || (isNum && int(ws) != e.Status) {
			p = append(p, fmt.Sprintf("expected status %v, got %d (%s)", w, e.Status, got))
		}
	}
	if w, ok := want["retryable"].(bool); ok && w != e.Retryable {
		p = append(p, fmt.Sprintf("expected retryable=%v, got %v", w, e.Retryable))
	}
	if want["retry_after"] == true && e.RetryAfter <= 0 {
		p = append(p, "expected a positive RetryAfter")
	}
	if want["request_id"] == true && e.RequestID == "" {
		p = append(p, "expected a request id")
	}
	if w, ok := want["field"].(string); ok && w != e.Field() {
		p = append(p, fmt.Sprintf("expected details.field %q, got %q (%s)", w, e.Field(), got))
	}
	if w, ok := want["message_contains"].(string); ok && !strings.Contains(e.Message, w) {
		p = append(p, fmt.Sprintf("expected the message to contain %q, got %q", w, e.Message))
	}
	if w, ok := num(want["within_ms"]); ok && float64(elapsed.Milliseconds()) > w {
		p = append(p, fmt.Sprintf("expected the error within %v ms, it took %d ms", w, elapsed.Milliseconds()))
	}
	return p
}

func (r *run) runCall() (string, error) {
	op := r.c["call"].(string)
	resolved, err := resolve(r.c["args"], r.vars)
	if err != nil {
		return "", failf("%v", err)
	}
	args, _ := resolved.(obj)
	if args == nil {
		args = obj{}
	}
	expect, _ := resolve(r.c["expect"], r.vars)
	want := expect.(obj)
	client := r.client
	if o, ok := r.c["options"].(obj); ok {
		co := aerostack.CallOptions{}
		if t, ok := num(o["timeout_ms"]); ok {
			co.Timeout = time.Duration(t) * time.Millisecond
		}
		if rt, ok := o["retry"].(bool); ok && !rt {
			co.Retry = aerostack.NoRetry()
		}
		if k, ok := o["idempotency_key"].(string); ok {
			co.IdempotencyKey = k
		}
		if client, err = client.WithOptions(co); err != nil {
			return "", failf("WithOptions: %v", err)
		}
	}
	if after, ok := num(r.c["cancel_after_ms"]); ok {
		return r.runCancel(client, op, args, time.Duration(after)*time.Millisecond, want)
	}
	start := time.Now()
	v, err := r.e.invoke(r.ctx, client, op, args, nil)
	elapsed := time.Since(start)
	if we, ok := want["error"].(obj); ok {
		if err == nil {
			return "", failf("expected error %s, got the result %s", short(we), short(v))
		}
		if p := errorProblems(err, we, elapsed); len(p) > 0 {
			return "", failf("%s", strings.Join(p, "; "))
		}
		return fmt.Sprintf("error %v as expected", err), nil
	}
	if err != nil {
		return "", failf("%s failed: %v", op, err)
	}
	if p := checkShape(v, want["result"], "result"); len(p) > 0 {
		return "", failf("%s", strings.Join(p, "; "))
	}
	return "result " + short(v), nil
}

func (r *run) runCancel(c *aerostack.Client, op string, args obj, after time.Duration, want obj) (string, error) {
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan error, 1)
	go func() {
		_, err := r.e.invoke(ctx, c, op, args, nil)
		done <- err
	}()
	time.Sleep(after)
	cancel()
	cancelledAt := time.Now()
	w, _ := want["cancelled"].(obj)
	within := 1000.0
	if n, ok := num(w["within_ms"]); ok {
		within = n
	}
	select {
	case err := <-done:
		took := time.Since(cancelledAt)
		if !errors.Is(err, context.Canceled) && !errors.Is(err, aerostack.ErrCancelled) {
			return "", failf("expected a cancellation, got %v", err)
		}
		if float64(took.Milliseconds()) > within {
			return "", failf("the call ended %d ms after cancelling, expected within %v ms", took.Milliseconds(), within)
		}
	case <-time.After(time.Duration(within) * time.Millisecond):
		return "", failf("the call did not end within %v ms of cancelling", within)
	}
	if _, err := c.DB.Query(r.ctx, "SELECT 1 AS one"); err != nil {
		return "", failf("the client failed after the cancellation: %v", err)
	}
	return "cancelled as expected", nil
}

// ---------------------------------------------------------------------------------------------
// Scenarios

func (r *run) scenario() (string, error) {
	params, err := resolve(r.c["params"], r.vars, "i")
	if err != nil {
		return "", failf("%v", err)
	}
	p := params.(obj)
	ex, _ := resolve(r.c["expect"], r.vars)
	want, _ := ex.(obj)
	switch r.c["scenario"] {
	case "paginate":
		return r.paginate(p, want)
	case "storage.round_trip":
		return r.storageRoundTrip(p, want)
	case "queue.run_job":
		return r.queueJob(p, want)
	case "realtime.round_trip":
		return r.realtimeRoundTrip(p, want)
	case "gateway.socket":
		return r.gatewaySocket(p, want)
	}
	return "", failf("unknown scenario %v", r.c["scenario"])
}

func (r *run) gatewaySocket(p, want obj) (string, error) {
	slug := p["api_slug"].(string)
	var probs []string
	if bad, err := r.client.Gateway.ConnectWebSocket(r.ctx, slug, &aerostack.GatewayOptions{ConsumerKey: p["bad_key"].(string)}); err == nil {
		_ = bad.Close(r.ctx)
		probs = append(probs, "a refused consumer key connected")
	} else {
		for _, x := range errorProblems(err, want["refused"].(obj), 0) {
			probs = append(probs, "refused key: "+x)
		}
	}
	s, err := r.client.Gateway.ConnectWebSocket(r.ctx, slug, &aerostack.GatewayOptions{ConsumerKey: p["consumer_key"].(string)})
	if err != nil {
		return "", failf("connect: %v", err)
	}
	next := func(kind string) (*aerostack.GatewaySocketEvent, error) {
		for {
			ev, err := s.Next(r.ctx, time.Second)
			if err != nil {
				return nil, failf("waiting for a %s event: %v", kind, err)
			}
			if ev != nil && ev.Type == kind {
				return ev, nil
			}
		}
	}
	pong := func() error {
		id, err := s.Ping(r.ctx)
		if err != nil {
			return failf("ping: %v", err)
		}
		ev, err := next("pong")
		if err == nil && ev.Request != id {
			probs = append(probs, fmt.Sprintf("the pong answers request %d, the ping was %d", ev.Request, id))
		}
		return err
	}
	if err := pong(); err != nil {
		return "", err
	}
	sent, err := s.Send(r.ctx, p["frame"].(obj))
	if err != nil {
		return "", failf("send: %v", err)
	}
	ev, err := next("error")
	if err != nil {
		return "", err
	}
	if ev.Request != sent || string(ev.Err.Family) != want["unknown_frame"].(obj)["family"] {
		probs = append(probs, fmt.Sprintf("the unknown frame (request %d) got %s", sent, short(ev.Raw)))
	}
	var msgs []aerostack.Message
	for _, m := range p["messages"].([]any) {
		mm := m.(obj)
		msgs = append(msgs, aerostack.Message{Role: mm["role"].(string), Content: mm["content"].(string)})
	}
	if got, err := s.Chat(r.ctx, aerostack.ChatRequest{Messages: msgs}); err == nil {
		probs = append(probs, "the chat answered "+short(got)+", expected an error")
	} else {
		for _, x := range errorProblems(err, want["chat_error"].(obj), 0) {
			probs = append(probs, "chat: "+x)
		}
	}
	if err := pong(); err != nil {
		return "", err
	}
	if err := s.Close(r.ctx); err != nil {
		return "", failf("close: %v", err)
	}
	closed, err := next("closed")
	if err != nil {
		return "", err
	}
	if fmt.Sprint(closed.CloseCode) != fmt.Sprint(want["close_code"]) {
		probs = append(probs, fmt.Sprintf("closed with %s, expected code %v", short(closed.Raw), want["close_code"]))
	}
	if len(probs) > 0 {
		return "", failf("%s", strings.Join(probs, "; "))
	}
	return "refused key, ping/pong, error frame, chat error, close", nil
}

func (r *run) paginate(p, want obj) (string, error) {
	seed := p["seed"].(obj)
	count, _ := num(seed["count"])
	for i := 1; i <= int(count); i++ {
		args, err := resolve(seed["args"], obj{"i": strconv.Itoa(i)})
		if err != nil {
			return "", failf("seed: %v", err)
		}
		if _, err := r.e.invoke(r.ctx, r.client, seed["call"].(string), args.(obj), nil); err != nil {
			return "", failf("seed %d: %v", i, err)
		}
	}
	list := p["list"].(obj)
	itemsKey, idKey := p["items"].(string), p["item_id"].(string)
	seen := map[string]bool{}
	cursors := map[string]bool{}
	total, pages, dup := 0, 0, false
	cursor := ""
	for {
		if pages >= 100 {
			return "", failf("more than 100 pages")
		}
		args := obj{}
		for k, v := range list["args"].(obj) {
			args[k] = v
		}
		if cursor != "" {
			args["cursor"] = cursor
		}
		page, err := r.e.invoke(r.ctx, r.client, list["call"].(string), args, nil)
		if err != nil {
			return "", failf("page %d: %v", pages+1, err)
		}
		pages++
		pm, _ := page.(obj)
		items, _ := pm[itemsKey].([]any)
		for _, it := range items {
			id := short(it.(obj)[idKey])
			dup = dup || seen[id]
			seen[id] = true
			total++
		}
		next, _ := pm["cursor"].(string)
		if next == "" {
			break
		}
		if cursors[next] {
			return "", failf("cursor %q repeated", next)
		}
		cursors[next] = true
		cursor = next
	}
	var probs []string
	if n, ok := num(want["count"]); ok && float64(total) != n {
		probs = append(probs, fmt.Sprintf("expected %v items, got %d", n, total))
	}
	if want["unique"] == true && dup {
		probs = append(probs, "an item was seen twice")
	}
	if n, ok := num(want["min_pages"]); ok && float64(pages) < n {
		probs = append(probs, fmt.Sprintf("expected at least %v pages, got %d", n, pages))
	}
	if len(probs) > 0 {
		return "", failf("%s", strings.Join(probs, "; "))
	}
	return fmt.Sprintf("%d items in %d pages", total, pages), nil
}

func (r *run) storageRoundTrip(p, want obj) (string, error) {
	var calls [][2]int64
	args := obj{"key": p["key"], "content_type": p["content_type"], "body": p["body"], "source": p["source"]}
	up, err := r.e.invoke(r.ctx, r.client, "storage.upload", args, func(sent, total int64) { calls = append(calls, [2]int64{sent, total}) })
	if err != nil {
		return "", failf("upload: %v", err)
	}
	var probs []string
	if s, ok := want["upload"]; ok {
		probs = append(probs, checkShape(up, s, "upload")...)
	}
	body, _ := bodyBytes(p["body"])
	if pw, ok := want["progress"].(obj); ok {
		if n, ok := num(pw["min_calls"]); ok && float64(len(calls)) < n {
			probs = append(probs, fmt.Sprintf("progress called %d times, expected at least %v", len(calls), n))
		}
		if pw["reaches_total"] == true {
			if len(calls) == 0 || calls[len(calls)-1] != [2]int64{int64(len(body)), int64(len(body))} {
				last := [2]int64{}
				if len(calls) > 0 {
					last = calls[len(calls)-1]
				}
				probs = append(probs, fmt.Sprintf("the last progress call was %v, expected (%d, %d)", last, len(body), len(body)))
			}
		}
		if pw["monotonic"] == true {
			for i := 1; i < len(calls); i++ {
				if calls[i][0] < calls[i-1][0] {
					probs = append(probs, "progress went backwards")
					break
				}
			}
		}
	}
	if dw, ok := want["download"].(obj); ok && dw["bytes_equal"] == true {
		o, err := r.client.Storage.Get(r.ctx, p["key"].(string))
		if err != nil {
			return "", failf("download: %v", err)
		}
		if !bytes.Equal(o.Data, body) {
			probs = append(probs, fmt.Sprintf("downloaded %d bytes differ from the %d uploaded", len(o.Data), len(body)))
		}
	}
	if len(probs) > 0 {
		return "", failf("%s", strings.Join(probs, "; "))
	}
	return fmt.Sprintf("uploaded with %d progress calls, downloaded equal", len(calls)), nil
}

func (r *run) queueJob(p, want obj) (string, error) {
	args := obj{"type": p["type"], "data": p["data"], "max_retries": p["max_retries"]}
	sent, err := r.e.invoke(r.ctx, r.client, "queue.send", args, nil)
	if err != nil {
		return "", failf("send: %v", err)
	}
	id := sent.(obj)["job_id"].(string)
	for {
		job, err := r.client.Queue.Job(r.ctx, id)
		if err != nil {
			return "", failf("job: %v", err)
		}
		st := ""
		if job != nil {
			st = job.Status
		}
		if st == "completed" || st == "failed" || st == "cancelled" {
			j, _ := canon(job)
			jm := j.(obj)
			var probs []string
			if w, ok := want["status"]; ok && w != st {
				probs = append(probs, fmt.Sprintf("status %s, expected %v", st, w))
			}
			if w, ok := want["attempts"]; ok && !jsonEqual(w, jm["attempts"]) {
				probs = append(probs, fmt.Sprintf("attempts %v, expected %v", jm["attempts"], w))
			}
			if w, ok := want["result"]; ok && !jsonEqual(w, jm["result"]) {
				probs = append(probs, fmt.Sprintf("result %s, expected %s", short(jm["result"]), short(w)))
			}
			if w, ok := want["last_error_contains"].(string); ok {
				le, _ := jm["last_error"].(string)
				if !strings.Contains(le, w) {
					probs = append(probs, fmt.Sprintf("last_error %q does not contain %q", le, w))
				}
			}
			if len(probs) > 0 {
				return "", failf("%s", strings.Join(probs, "; "))
			}
			return "job " + st, nil
		}
		select {
		case <-r.ctx.Done():
			return "", failf("the job did not finish in time (status %s)", st)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ---------------------------------------------------------------------------------------------

func (e *env) runCase(c obj, runID string) (string, error) {
	timeout := 30000.0
	if t, ok := num(c["timeout_ms"]); ok {
		timeout = t
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout)*time.Millisecond)
	defer cancel()
	if req, ok := c["requires"].([]any); ok {
		for _, x := range req {
			if x == "worker" && !e.worker {
				e.worker = true
				if err := e.startWorker(e.spec); err != nil {
					e.workerErr = err.Error()
				}
			}
			if x == "worker" && e.workerErr != "" {
				return "", failf("needs the fixture worker: %s", e.workerErr)
			}
		}
	}
	vars := obj{"run": runID, "api_url": e.platform.APIURL, "closed_port_url": e.closedURL, "not_json_url": e.notJSONURL}
	co := obj{}
	if cl, ok := c["client"].(obj); ok {
		r, err := resolve(cl, vars)
		if err != nil {
			return "", failf("%v", err)
		}
		co = r.(obj)
	}
	type outcome struct {
		detail string
		err    error
	}
	done := make(chan outcome, 1)
	go func() {
		client, proj, err := e.client(co)
		if err != nil {
			// A configuration error may come when the client is built.
			if we, ok := c["expect"].(obj)["error"].(obj); ok && c["call"] != nil {
				if p := errorProblems(err, we, 0); len(p) == 0 {
					done <- outcome{fmt.Sprintf("error %v as expected (at New)", err), nil}
					return
				}
			}
			done <- outcome{"", failf("client: %v", err)}
			return
		}
		vars["project_id"] = proj.ID
		r := &run{e: e, c: c, vars: vars, client: client, proj: proj, ctx: ctx}
		if err := r.setup(); err != nil {
			done <- outcome{"", err}
			return
		}
		if _, ok := c["call"]; ok {
			d, err := r.runCall()
			done <- outcome{d, err}
			return
		}
		d, err := r.scenario()
		done <- outcome{d, err}
	}()
	select {
	case o := <-done:
		return o.detail, o.err
	case <-ctx.Done():
		return "", failf("timed out after %v ms", timeout)
	}
}

func fixtures() (closedURL, notJSONURL string, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", err
	}
	closedURL = fmt.Sprintf("http://%s/v1", l.Addr())
	l.Close()
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", err
	}
	go http.Serve(l2, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>not json</html>"))
	}))
	return closedURL, fmt.Sprintf("http://%s/v1", l2.Addr()), nil
}

func main() {
	out := flag.String("out", "", "where to write the result file")
	only := flag.String("only", "", "run only the cases whose id matches this glob")
	flag.Parse()
	suite := suiteDir()
	spec, err := loadJSON(filepath.Join(suite, "platform.json"))
	if err != nil {
		fmt.Println("platform.json:", err)
		os.Exit(2)
	}
	po := spec["platform"].(obj)
	lo := aerostack.LocalOptions{Extra: map[string]any{}}
	for k, v := range po {
		switch k {
		case "from_env":
			lo.FromEnv, _ = v.(bool)
		case "rate_limits":
			lo.RateLimits = map[string]aerostack.RateLimit{}
			for name, pair := range v.(obj) {
				p := pair.([]any)
				cnt, _ := num(p[0])
				win, _ := num(p[1])
				lo.RateLimits[name] = aerostack.RateLimit{Count: int(cnt), Window: time.Duration(win) * time.Second}
			}
		default:
			if v != nil {
				lo.Extra[k] = v
			}
		}
	}
	platform, err := aerostack.StartLocal(lo)
	if err != nil {
		fmt.Println("the local platform did not start:", err)
		os.Exit(2)
	}
	defer platform.Close()
	tmp, _ := os.MkdirTemp("", "aerostack-go-conformance-")
	defer os.RemoveAll(tmp)
	closedURL, notJSONURL, err := fixtures()
	if err != nil {
		fmt.Println("fixtures:", err)
		os.Exit(2)
	}
	proj, err := platform.CreateProject("go-conformance")
	if err != nil {
		fmt.Println("project:", err)
		os.Exit(2)
	}
	e := &env{platform: platform, project: proj, closedURL: closedURL, notJSONURL: notJSONURL, tmp: tmp, spec: spec}

	files, _ := filepath.Glob(filepath.Join(suite, "cases", "*.json"))
	sort.Strings(files)
	results := obj{}
	passed, failed := 0, 0
	runID := strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 36)
	for _, f := range files {
		doc, err := loadJSON(f)
		if err != nil {
			fmt.Println(f, err)
			os.Exit(2)
		}
		for _, x := range doc["cases"].([]any) {
			c := x.(obj)
			id := c["id"].(string)
			if *only != "" {
				if ok, _ := path.Match(*only, id); !ok {
					continue
				}
			}
			detail, err := e.runCase(c, runID)
			status := "pass"
			if err != nil {
				status, detail = "fail", err.Error()
				failed++
			} else {
				passed++
			}
			results[id] = obj{"status": status, "detail": detail}
			fmt.Printf("%s %s: %s\n", strings.ToUpper(status), id, trim(detail, 200))
		}
	}
	if *out != "" {
		b, _ := json.MarshalIndent(obj{"language": "go", "results": results}, "", "  ")
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			fmt.Println("writing", *out, err)
			os.Exit(2)
		}
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}
