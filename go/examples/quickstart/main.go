// Go quickstart: touches every service of a running Aerostack platform, one line per step, with
// a Logic Module and a queue worker served in-process by aerostack.Serve.
//
//	go run ./examples/quickstart            # from go/: an ephemeral local platform in-process
//	AEROSTACK_API_URL=http://127.0.0.1:8787/v1 AEROSTACK_API_KEY=ac_secret_... go run ./examples/quickstart
//
// Reads AEROSTACK_API_URL, AEROSTACK_API_KEY and AEROSTACK_PROJECT_ID; with none set (or
// --local) it starts an ephemeral local platform in-process instead.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

func step(name string, detail any) { fmt.Printf("%-22s %v\n", name, detail) }

func main() {
	cfg := aerostack.Config{ProjectID: os.Getenv("AEROSTACK_PROJECT_ID"), APIKey: os.Getenv("AEROSTACK_API_KEY"),
		BaseURL: os.Getenv("AEROSTACK_API_URL")}
	if cfg.APIKey == "" || (len(os.Args) > 1 && os.Args[1] == "--local") {
		p, err := aerostack.StartLocal(aerostack.LocalOptions{})
		if err != nil {
			fail(err)
		}
		defer p.Close()
		fmt.Printf("(started an ephemeral local platform at %s)\n", p.APIURL)
		cfg = aerostack.Config{ProjectID: p.ProjectID, APIKey: p.APIKey, BaseURL: p.APIURL, IgnoreEnv: true}
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://127.0.0.1:8787/v1"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, cfg); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "quickstart failed:", err)
	os.Exit(1)
}

func run(ctx context.Context, cfg aerostack.Config) error {
	client, err := aerostack.New(cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	uid := fmt.Sprint(time.Now().UnixMilli())

	// Auth
	email := "jane-" + uid + "@example.com"
	session, err := client.Auth.Register(ctx, email, "securePassword123", "Jane Doe", nil)
	if err != nil {
		return err
	}
	step("auth.register", "user "+session.User.ID)
	login, err := client.Auth.Login(ctx, email, "securePassword123")
	if err != nil {
		return err
	}
	user, err := client.Auth.VerifyToken(ctx, *login.AccessToken)
	if err != nil || user == nil {
		return fmt.Errorf("the fresh access token was refused: %v", err)
	}
	step("auth.verify_token", fmt.Sprintf("%s (since %s)", *user.Email, user.CreatedAt.Format(time.RFC3339)))
	if _, err := client.Auth.SendOTP(ctx, email, ""); err != nil {
		return err
	}
	step("auth.send_otp", "code sent (see the local outbox)")

	// Database
	if _, err := client.DB.Query(ctx, "CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, title TEXT, status TEXT)"); err != nil {
		return err
	}
	if _, err := client.DB.Batch(ctx, []aerostack.Statement{
		{SQL: "INSERT INTO tasks VALUES (?, ?, ?)", Params: []any{"t1-" + uid, "Write docs", "todo"}},
		{SQL: "INSERT INTO tasks VALUES (?, ?, ?)", Params: []any{"t2-" + uid, "Ship it", "todo"}},
	}); err != nil {
		return err
	}
	type task struct {
		ID, Title, Status string
	}
	tasks, err := aerostack.QueryAs[task](ctx, client.DB, "SELECT * FROM tasks WHERE id LIKE ? ORDER BY id", "%-"+uid)
	if err != nil {
		return err
	}
	step("db.query", fmt.Sprintf("%d rows, first: %s", len(tasks), tasks[0].Title))
	one, err := client.DB.QueryOne(ctx, "SELECT count(*) AS n FROM tasks")
	if err != nil {
		return err
	}
	step("db.query_one", one)

	// Cache
	if err := client.Cache.Set(ctx, "user:"+uid, map[string]any{"name": "Jane"}, 5*time.Minute); err != nil {
		return err
	}
	cached, err := client.Cache.Get(ctx, "user:"+uid)
	if err != nil {
		return err
	}
	visits, err := client.Cache.Increment(ctx, "visits:"+uid, 1, nil)
	if err != nil {
		return err
	}
	step("cache.get", fmt.Sprintf("%v (visits %d)", cached, visits))

	// Storage: from an io.Reader, with progress
	var sent int64
	up, err := client.Storage.Upload(ctx, aerostack.UploadInput{Key: "avatars/" + uid + ".png", ContentType: "image/png",
		Body: strings.NewReader("\x89PNG not really"), Progress: func(s, _ int64) { sent = s }})
	if err != nil {
		return err
	}
	obj, err := client.Storage.Get(ctx, up.Key)
	if err != nil {
		return err
	}
	step("storage.upload", fmt.Sprintf("%s (%d bytes sent, %d read back)", up.URL, sent, len(obj.Data)))

	// Calls that may answer "not configured" (503) are made without retries here.
	once, err := client.WithOptions(aerostack.CallOptions{Retry: aerostack.NoRetry()})
	if err != nil {
		return err
	}

	// AI: embeddings and search are built in; chat needs a model upstream
	vec, err := client.AI.Embed(ctx, "text to embed")
	if err != nil {
		return err
	}
	if _, err := client.AI.Search.Ingest(ctx, "How do I reset my password?", "faq", "faq-"+uid, nil); err != nil {
		return err
	}
	hits, err := client.AI.Search.Query(ctx, "forgot password", &aerostack.SearchQuery{TopK: 1, Types: []string{"faq"}})
	if err != nil {
		return err
	}
	best := any(nil)
	if len(hits) > 0 {
		best = hits[0].Content
	}
	step("ai.embed / search", fmt.Sprintf("%d dims; best hit: %v", len(vec.Embedding), best))
	var text strings.Builder
	for chunk, err := range once.AI.ChatStream(ctx, aerostack.ChatRequest{Messages: []aerostack.Message{{Role: "user", Content: "Say hello in 3 words."}}, MaxTokens: 16}) {
		if err != nil {
			var e *aerostack.Error
			if errors.As(err, &e) {
				text.WriteString("skipped: " + e.Code + " (set AEROSTACK_AI_BASE_URL on the platform)")
				break
			}
			return err
		}
		text.WriteString(chunk.Delta)
	}
	step("ai.chat_stream", text.String())

	// Secrets
	if err := client.Secrets.Set(ctx, "STRIPE_SECRET_KEY", "sk_test_123"); err != nil {
		return err
	}
	secret, _, err := client.Secrets.Get(ctx, "STRIPE_SECRET_KEY")
	if err != nil {
		return err
	}
	step("secrets.get", secret)

	// A Logic Module (custom API) and a queue worker, served by this process.
	hello := func(ctx context.Context, sdk *aerostack.Scoped, ev aerostack.Event) (any, error) {
		data, _ := ev.Data.(map[string]any)
		n, err := sdk.Cache.Increment(ctx, "greetings", 1, nil)
		return map[string]any{"message": fmt.Sprintf("Hello, %v!", data["name"]), "greetings": n}, err
	}
	welcome := func(ctx context.Context, sdk *aerostack.Scoped, job aerostack.Event) (any, error) {
		data, _ := job.Data.(map[string]any)
		_, err := sdk.DB.Query(ctx, "UPDATE tasks SET status = 'welcomed' WHERE id = ?", data["task"])
		return map[string]any{"sent_to": data["email"]}, err
	}
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	ready, served := make(chan struct{}), make(chan error, 1)
	go func() {
		served <- aerostack.Serve(serveCtx, aerostack.Connect(cfg),
			aerostack.Module("hello", hello, aerostack.Public()),
			aerostack.Job("send-welcome-email", welcome),
			aerostack.OnReady(func() { close(ready) }))
	}()
	select {
	case <-ready:
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	}
	greeting, err := client.Call(ctx, "hello", map[string]any{"name": "Jane"})
	if err != nil {
		return err
	}
	step("call (custom API)", greeting)
	var invoked any
	if res, err := once.Services.Invoke(ctx, "hello", map[string]any{"name": "service"}); err == nil {
		invoked = res.Result
	} else {
		var e *aerostack.Error
		if !errors.As(err, &e) {
			return err
		}
		invoked = aerostack.Record{"error": e.Code}
	}
	step("services.invoke", invoked)

	// Queue: the worker above runs the job
	job, err := client.Queue.Send(ctx, "send-welcome-email", map[string]any{"email": email, "task": "t1-" + uid}, nil)
	if err != nil {
		return err
	}
	done, err := client.Queue.Wait(ctx, job.JobID, 30*time.Second)
	if err != nil {
		return err
	}
	step("queue.send / wait", fmt.Sprintf("%s %s -> %v", job.JobID, done.Status, done.Result))

	// Realtime: table changes and messages on a channel; server-side emit
	orders := client.Realtime.Channel("tasks")
	events := orders.Events()
	if err := orders.Subscribe(ctx); err != nil {
		return err
	}
	if _, err := client.DB.Query(ctx, "INSERT INTO tasks VALUES (?, 'Celebrate', 'todo')", "t3-"+uid); err != nil {
		return err
	}
	if _, err := client.Socket.Emit(ctx, "deployed", map[string]any{"version": 2}, "tasks"); err != nil {
		return err
	}
	seen := []string{}
	for len(seen) < 2 {
		select {
		case ev := <-events:
			if ev.Event == "INSERT" || ev.Event == "deployed" {
				seen = append(seen, ev.Event)
			}
		case <-time.After(10 * time.Second):
			return fmt.Errorf("realtime: only %v arrived", seen)
		}
	}
	history, err := orders.History(ctx, 10, time.Time{})
	if err != nil {
		return err
	}
	step("realtime", fmt.Sprintf("events %v; %d persisted", seen, len(history)))

	stop()
	if err := <-served; err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	// Errors are typed
	_, err = client.Auth.Login(ctx, email, "wrong password")
	var e *aerostack.Error
	if errors.As(err, &e) && errors.Is(err, aerostack.ErrAuth) {
		step("errors", fmt.Sprintf("%s %s %d request_id=%s", e.Family, e.Code, e.Status, e.RequestID))
	} else {
		return fmt.Errorf("a wrong password answered %v", err)
	}
	return nil
}
