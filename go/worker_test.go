package aerostack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

// Seed 000's Logic Module and welcome-email worker, written in Go, reached through the custom
// API URL and the queue. The e-mail provider is a loopback stand-in for SendGrid.
func TestSeedModulesAndTheWelcomeEmailWorker(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	var mu sync.Mutex
	var mails []map[string]any
	sendgrid := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &m)
		m["authorization"] = r.Header.Get("Authorization")
		mu.Lock()
		mails = append(mails, m)
		mu.Unlock()
		w.WriteHeader(202)
	}))
	defer sendgrid.Close()

	for _, sql := range []string{
		"CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, slug TEXT, project_id TEXT)",
		"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)",
	} {
		if _, err := c.DB.Query(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Secrets.Set(ctx, "SENDGRID_KEY", "sg-test-key"); err != nil {
		t.Fatal(err)
	}

	searchProducts := func(ctx context.Context, sdk *aerostack.Scoped, event aerostack.Event) (any, error) {
		data, _ := event.Data.(map[string]any)
		q, _ := data["q"].(string)
		limit := 10
		if l, ok := data["limit"].(float64); ok {
			limit = int(l)
		}
		rows, err := sdk.DB.Query(ctx, "SELECT id, name, slug FROM products WHERE project_id = ? AND name LIKE ? LIMIT ?",
			event.ProjectID, "%"+q+"%", limit)
		if err != nil {
			return nil, err
		}
		return map[string]any{"results": rows.Results, "count": len(rows.Results)}, nil
	}
	signup := func(ctx context.Context, sdk *aerostack.Scoped, event aerostack.Event) (any, error) {
		if event.Method != "POST" || event.Headers == nil || event.Query == nil {
			return nil, fmt.Errorf("the custom API event's method, headers, query: %q %v %v", event.Method, event.Headers, event.Query)
		}
		data, _ := event.Data.(map[string]any)
		res, err := sdk.DB.Query(ctx, "INSERT INTO users (name, email) VALUES (?, ?) RETURNING id", data["name"], data["email"])
		if err != nil {
			return nil, err
		}
		id := res.Results[0]["id"]
		return sdk.Queue.Enqueue(ctx, "send-welcome-email", map[string]any{"user_id": id, "email": data["email"]}, nil)
	}
	sendWelcomeEmail := func(ctx context.Context, sdk *aerostack.Scoped, job aerostack.Event) (any, error) {
		if time.Since(job.CreatedAt) > time.Hour || time.Since(job.Timestamp) > time.Hour {
			return nil, fmt.Errorf("the job event's times: created %v, sent %v", job.CreatedAt, job.Timestamp)
		}
		data, _ := job.Data.(map[string]any)
		user, err := sdk.DB.QueryOne(ctx, "SELECT * FROM users WHERE id = ?", data["user_id"])
		if err != nil || user == nil {
			return nil, fmt.Errorf("no user %v: %v", data["user_id"], err)
		}
		key, _, err := sdk.Secrets.Get(ctx, "SENDGRID_KEY")
		if err != nil {
			return nil, err
		}
		body, _ := json.Marshal(map[string]any{
			"personalizations": []any{map[string]any{"to": []any{map[string]any{"email": data["email"]}}}},
			"subject":          "Welcome to Aerostack!",
			"content":          []any{map[string]any{"type": "text/html", "value": fmt.Sprintf("<h1>Hi %s!</h1>", user["name"])}},
		})
		r, err := sdk.Fetch(ctx, sendgrid.URL+"/v3/mail/send", &aerostack.FetchOptions{Method: "POST", Body: string(body),
			Headers: map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/json"}})
		if err != nil {
			return nil, err
		}
		return map[string]any{"status": r.Status}, nil
	}

	// The worker connects with this project's key.
	pr := newProjectFor(t, c)
	serveCtx, stop := context.WithCancel(ctx)
	ready := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- aerostack.Serve(serveCtx,
			aerostack.Connect(pr),
			aerostack.Module("search-products", searchProducts, aerostack.Public()),
			aerostack.Module("signup", signup),
			aerostack.Job("send-welcome-email", sendWelcomeEmail),
			aerostack.OnReady(func() { close(ready) }))
	}()
	select {
	case <-ready:
	case err := <-served:
		t.Fatalf("Serve: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("the worker did not register")
	}

	projectID := pr.ProjectID
	if _, err := c.DB.Query(ctx, "INSERT INTO products (name, slug, project_id) VALUES ('Blue shirt', 'blue-shirt', ?), ('Red shirt', 'red-shirt', ?), ('Socks', 'socks', ?)", projectID, projectID, projectID); err != nil {
		t.Fatal(err)
	}
	got, err := c.Call(ctx, "search-products", map[string]any{"q": "shirt", "limit": 5})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := got.(map[string]any); m["count"] != float64(2) {
		t.Fatalf("search-products: %v", got)
	}
	sent, err := c.Call(ctx, "signup", map[string]any{"name": "Ada", "email": "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	jobID, _ := sent.(map[string]any)["job_id"].(string)
	job, err := c.Queue.Wait(ctx, jobID, 20*time.Second)
	if err != nil || job.Status != "completed" {
		t.Fatalf("the welcome email job: %v %v", job, err)
	}
	mu.Lock()
	if len(mails) != 1 || mails[0]["authorization"] != "Bearer sg-test-key" || mails[0]["subject"] != "Welcome to Aerostack!" {
		t.Fatalf("the e-mail sent: %v", mails)
	}
	mu.Unlock()

	// A failing module answers HOOK_FAILED with the handler's message.
	_, err = c.Call(ctx, "no-such-module", nil)
	if !errors.Is(err, aerostack.ErrServer) {
		t.Fatalf("an unserved module: %v", err)
	}
	stop()
	if err := <-served; err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
}

// newProjectFor is the Config of the client's project (the worker's connection).
func newProjectFor(t *testing.T, c *aerostack.Client) aerostack.Config {
	t.Helper()
	configsMu.Lock()
	defer configsMu.Unlock()
	return clientConfigs[c]
}
