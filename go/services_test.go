package aerostack_test

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
	"github.com/aerostack/aerostack-sdk/go/aerostacktest"
)

func TestCacheStorageAndStreams(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	if err := c.Cache.Set(ctx, "user:1", map[string]any{"name": "Ada"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	type user struct{ Name string }
	u, ok, err := aerostack.GetAs[user](ctx, c.Cache, "user:1")
	if err != nil || !ok || u.Name != "Ada" {
		t.Fatalf("GetAs: %v %v %v", u, ok, err)
	}
	for i := range 5 {
		if err := c.Cache.Set(ctx, "page:"+string(rune('a'+i)), i, 0); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for entry, err := range c.Cache.ListAll(ctx, "page:", 2) {
		if err != nil {
			t.Fatal(err)
		}
		if entry.Key == "" {
			t.Fatalf("entry without key: %v", entry)
		}
		n++
	}
	if n != 5 {
		t.Fatalf("ListAll yielded %d keys", n)
	}
	body := bytes.Repeat([]byte("0123456789"), 50_000)
	var last [2]int64
	up, err := c.Storage.Upload(ctx, aerostack.UploadInput{Key: "f/blob.bin", Body: bytes.NewReader(body),
		Progress: func(sent, total int64) { last = [2]int64{sent, total} }})
	if err != nil || *up.Size != int64(len(body)) || last != [2]int64{int64(len(body)), int64(len(body))} {
		t.Fatalf("upload: %+v %v %v", up, last, err)
	}
	o, err := c.Storage.Get(ctx, "f/blob.bin")
	if err != nil || !bytes.Equal(o.Data, body) {
		t.Fatalf("download: %v", err)
	}
}

// 1,000 goroutines with a call in flight: one pulling goroutine, no thread per call.
func TestThousandConcurrentGoroutines(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.DB.Query(ctx, "SELECT ? AS n", i)
			if err != nil {
				errs <- err
				return
			}
			if res.Results[0]["n"] != float64(i) {
				errs <- aerostack.ErrDecode
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Threads: cgo threads are only those of calls running C right now, never one per call.
	if n := runtime.NumGoroutine(); n > 200 {
		t.Fatalf("%d goroutines left after the calls", n)
	}
}

func TestRealtimeRoundTripAndAerostacktest(t *testing.T) {
	p := aerostacktest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	watcher, actor := p.Client(t), p.Client(t)
	if _, err := actor.DB.Query(ctx, "CREATE TABLE orders (id TEXT PRIMARY KEY, total REAL)"); err != nil {
		t.Fatal(err)
	}
	ch := watcher.Realtime.Channel("orders")
	events := ch.Events()
	if err := ch.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := actor.DB.Query(ctx, "INSERT INTO orders VALUES ('o-1', 9.5)"); err != nil {
		t.Fatal(err)
	}
	mine := actor.Realtime.Channel("orders")
	if err := mine.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	ack, err := mine.Publish(ctx, "note", map[string]any{"text": "hi"}, &aerostack.PublishOptions{Persist: true})
	if err != nil || ack.ID == "" {
		t.Fatalf("publish: %v %v", ack, err)
	}
	seen := map[string]bool{}
	for !seen["INSERT"] || !seen["note"] {
		select {
		case ev := <-events:
			seen[ev.Event] = true
		case <-ctx.Done():
			t.Fatalf("events seen: %v", seen)
		}
	}
	h, err := ch.History(ctx, 10, time.Time{})
	if err != nil || len(h) == 0 {
		t.Fatalf("history: %v %v", h, err)
	}
	if _, err := watcher.Socket.Emit(ctx, "note", map[string]any{"text": "server"}, "orders"); err != nil {
		t.Fatal(err)
	}
}
