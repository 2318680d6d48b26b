package aerostack_test

import (
	"context"
	"errors"
	"testing"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

func TestDBQueryAndQueryAs(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	if _, err := c.DB.Query(ctx, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, age INTEGER)"); err != nil {
		t.Fatal(err)
	}
	b, err := c.DB.Batch(ctx, []aerostack.Statement{
		{SQL: "INSERT INTO users (email, age) VALUES (?, ?)", Params: []any{"a@x.dev", 31}},
		{SQL: "INSERT INTO users (email, age) VALUES (?, ?)", Params: []any{"b@x.dev", 42}},
	})
	if err != nil || !b.Success {
		t.Fatalf("batch: %v %v", b, err)
	}
	res, err := c.DB.Query(ctx, "SELECT email FROM users WHERE age > ? ORDER BY id", 30)
	if err != nil || res.Count != 2 || res.Results[1]["email"] != "b@x.dev" {
		t.Fatalf("query: %+v %v", res, err)
	}
	type user struct {
		ID    int    `json:"id"`
		Email string `json:"email"`
		Age   int    `json:"age"`
	}
	users, err := aerostack.QueryAs[user](ctx, c.DB, "SELECT * FROM users ORDER BY id")
	if err != nil || len(users) != 2 || users[0] != (user{1, "a@x.dev", 31}) {
		t.Fatalf("QueryAs: %+v %v", users, err)
	}
	one, ok, err := aerostack.QueryOneAs[user](ctx, c.DB, "SELECT * FROM users WHERE age = ?", 42)
	if err != nil || !ok || one.Email != "b@x.dev" {
		t.Fatalf("QueryOneAs: %+v %v %v", one, ok, err)
	}
	_, ok, err = aerostack.QueryOneAs[user](ctx, c.DB, "SELECT * FROM users WHERE age = ?", 7)
	if err != nil || ok {
		t.Fatalf("QueryOneAs of nothing: %v %v", ok, err)
	}
	row, err := c.DB.QueryOne(ctx, "SELECT count(*) AS n FROM users")
	if err != nil || row["n"] != float64(2) {
		t.Fatalf("QueryOne: %v %v", row, err)
	}
}

func TestErrorsCarryTheirFamily(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	_, err := c.DB.Query(ctx, "")
	var e *aerostack.Error
	if !errors.As(err, &e) || !errors.Is(err, aerostack.ErrValidation) || e.Field() != "sql" || e.Code != "VALIDATION_ERROR" {
		t.Fatalf("missing sql: %#v", err)
	}
	_, err = c.DB.Query(ctx, "SELECT * FROM no_such_table")
	if !errors.Is(err, aerostack.ErrValidation) || errors.Is(err, aerostack.ErrNotFound) {
		t.Fatalf("bad table: %v", err)
	}
	if errors.As(err, &e); e.Status != 400 || e.RequestID == "" {
		t.Fatalf("status/request id: %+v", e)
	}
	bad, err := aerostack.New(aerostack.Config{APIKey: "wrong", ProjectID: platform.ProjectID, BaseURL: platform.APIURL, IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Cache.Get(ctx, "k")
	if !errors.Is(err, aerostack.ErrAuth) {
		t.Fatalf("bad key: %v", err)
	}
	_, err = aerostack.New(aerostack.Config{BaseURL: "not a url", APIKey: "k", IgnoreEnv: true})
	if !errors.Is(err, aerostack.ErrConfig) {
		t.Fatalf("bad url: %v", err)
	}
	closed, _ := aerostack.New(aerostack.Config{BaseURL: "http://127.0.0.1:9/v1", APIKey: "k", ProjectID: "p", IgnoreEnv: true, Retry: aerostack.NoRetry()})
	_, err = closed.DB.Query(ctx, "SELECT 1")
	if !errors.Is(err, aerostack.ErrNetwork) {
		t.Fatalf("closed port: %v", err)
	}
}

func TestContextCancellationAbortsTheCall(t *testing.T) {
	c := newClient(t)
	slow := "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20000000) SELECT count(*) FROM n"
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.DB.Query(ctx, slow)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, aerostack.ErrTimeout) {
		t.Fatalf("deadline: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("the call was not abandoned at the deadline: %v", time.Since(start))
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := c.DB.Query(ctx2, "SELECT 1"); !errors.Is(err, context.Canceled) || !errors.Is(err, aerostack.ErrCancelled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := c.DB.Query(context.Background(), "SELECT 1 AS one"); err != nil {
		t.Fatalf("the client works after a cancellation: %v", err)
	}
}
