package aerostack_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

// The realtime connection survives a platform restart (same port, same data directory): it
// reconnects and re-subscribes by itself, and a persisted message published while it was away
// is caught up (replayed) when it connects again.
func TestRealtimeReconnectsAfterAPlatformRestartAndCatchesUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	first, err := aerostack.StartLocal(aerostack.LocalOptions{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(first.APIURL)
	port, _ := strconv.Atoi(u.Port())
	fast := aerostack.RealtimeOptions{BackoffInitial: 50 * time.Millisecond, BackoffMax: 300 * time.Millisecond,
		HeartbeatInterval: time.Second, PongTimeout: time.Second}
	a, err := first.Client()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := first.Client()
	defer a.Close()
	defer b.Close()
	for _, c := range []*aerostack.Client{a, b} {
		if err := c.Realtime.Configure(fast); err != nil {
			t.Fatal(err)
		}
	}
	sub := b.Realtime.Channel("chat/restart")
	events := sub.Events()
	if err := sub.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	pub := a.Realtime.Channel("chat/restart")
	if err := pub.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	next := func(what string) aerostack.RealtimeEvent {
		t.Helper()
		for {
			select {
			case ev := <-events:
				if ev.Event == "msg" {
					return ev
				}
			case <-ctx.Done():
				t.Fatalf("no %s (status %s)", what, b.Realtime.Status())
			}
		}
	}
	publish := func(n int) {
		t.Helper()
		if _, err := pub.Publish(ctx, "msg", map[string]any{"n": n}, &aerostack.PublishOptions{Persist: true}); err != nil {
			t.Fatalf("publish %d: %v", n, err)
		}
	}
	publish(1)
	if ev := next("first message"); ev.Data.(map[string]any)["n"] != float64(1) {
		t.Fatalf("first: %+v", ev)
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	for b.Realtime.Status() == "connected" {
		if ctx.Err() != nil {
			t.Fatal("the connection never noticed the platform stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	second, err := aerostack.StartLocal(aerostack.LocalOptions{DataDir: dir, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if second.APIKey != first.APIKey {
		t.Fatal("the same data directory must give the same project")
	}
	// Re-subscribed by itself: Subscribe only waits for the platform's confirmation.
	if err := sub.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pub.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	publish(2)
	if ev := next("a message after the restart"); ev.Data.(map[string]any)["n"] != float64(2) {
		t.Fatalf("after the restart: %+v", ev)
	}
	if s := b.Realtime.Status(); s != "connected" {
		t.Fatalf("status after the restart: %s", s)
	}

	// Away: a persisted message published meanwhile is replayed on connecting again.
	if err := b.Realtime.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	publish(3)
	if err := b.Realtime.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	ev := next("the missed message")
	if ev.Data.(map[string]any)["n"] != float64(3) || !ev.Replayed {
		t.Fatalf("the missed message: %+v (replayed %v)", ev, ev.Replayed)
	}
	// The message persisted before the restart is still in the history.
	h, err := sub.History(ctx, 10, time.Time{})
	if err != nil || len(h) != 3 || h[2].Data.(map[string]any)["n"] != float64(1) {
		t.Fatalf("history across the restart: %v %v", h, err)
	}
}

// The official realtime names: SendChat and ChatRoom, OnStatusChange, OnMaxRetriesExceeded.
func TestRealtimeChatStatusAndGivingUp(t *testing.T) {
	c := newClient(t)
	defer c.Close()
	statuses := make(chan string, 16)
	remove := c.Realtime.OnStatusChange(func(s string) { statuses <- s })
	defer remove()
	room := c.Realtime.ChatRoom("lobby")
	events := room.Events() // the feed starts when asked for: before the message is sent
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := room.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Realtime.SendChat("lobby", "hello", aerostack.Record{"lang": "en"}); err != nil {
		t.Fatal(err)
	}
	for got := false; !got; {
		select {
		case ev := <-events:
			if ev.Kind == "presence" || ev.Kind == "subscribed" {
				continue // the room's presence:sync comes first
			}
			if ev.Event != "message" || !strings.HasPrefix(ev.Topic, "chat/lobby") || !strings.Contains(fmt.Sprint(ev.Data), "hello") {
				t.Fatalf("unexpected chat event %+v", ev)
			}
			got = true
		case <-ctx.Done():
			t.Fatal("the chat message did not arrive")
		}
	}
	seen := false
	for !seen {
		select {
		case s := <-statuses:
			seen = s == "connected"
		case <-ctx.Done():
			t.Fatal("no connected status")
		}
	}
	if err := c.Realtime.SendChat(" ", "x", nil); !errors.Is(err, aerostack.ErrValidation) {
		t.Fatalf("a blank room: %v", err)
	}

	// Nothing listens on this port: one failed reconnect, then the connection gives up.
	lost, err := aerostack.New(aerostack.Config{APIKey: "ac_secret_x", ProjectID: "p", BaseURL: "http://127.0.0.1:9/v1", IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lost.Close()
	if err := lost.Realtime.Configure(aerostack.RealtimeOptions{MaxReconnectAttempts: 1}); err != nil {
		t.Fatal(err)
	}
	gaveUp := make(chan struct{}, 1)
	lost.Realtime.OnMaxRetriesExceeded(func() { gaveUp <- struct{}{} })
	lost.Realtime.Channel("x/y")
	select {
	case <-gaveUp:
	case <-time.After(15 * time.Second):
		t.Fatal("OnMaxRetriesExceeded was not called")
	}
}

// A row filter lets only the matching rows through; a second filter replaces the first on the
// same *Channel (the string form this time); the platform refuses an unknown column.
func TestRealtimeChannelFilter(t *testing.T) {
	c := newClient(t)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	table := fmt.Sprintf("tasks_%d", time.Now().UnixNano())
	if _, err := c.DB.Query(ctx, "CREATE TABLE "+table+" (id INTEGER PRIMARY KEY, title TEXT, done INTEGER)"); err != nil {
		t.Fatal(err)
	}
	ch := c.Realtime.Channel(table, map[string]any{"done": 1})
	events := ch.Events() // the feed starts when asked for
	if err := ch.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	next := func() string {
		for {
			select {
			case ev := <-events:
				if ev.Event == "INSERT" {
					row, _ := ev.Data.(map[string]any)
					return fmt.Sprint(row["title"])
				}
			case <-ctx.Done():
				t.Fatal("no INSERT arrived")
			}
		}
	}
	if _, err := c.DB.Query(ctx, "INSERT INTO "+table+" (title, done) VALUES ('open', 0), ('finished', 1)"); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "finished" {
		t.Fatalf("the filter let %q through", got)
	}
	if again := c.Realtime.Channel(table, "title=eq.second"); again != ch {
		t.Fatal("a new filter made a second *Channel")
	}
	if err := ch.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DB.Query(ctx, "INSERT INTO "+table+" (title, done) VALUES ('other', 1), ('second', 0)"); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "second" {
		t.Fatalf("the replaced filter let %q through", got)
	}
	bad := c.Realtime.Channel(table+"_x", map[string]any{"a": 1}, map[string]any{"b": 2})
	if err := bad.Subscribe(ctx); !errors.Is(err, aerostack.ErrValidation) {
		t.Fatalf("two filters: %v", err)
	}
	err := c.Realtime.Channel(table, map[string]any{"nope": 1}).Subscribe(ctx)
	if !errors.Is(err, aerostack.ErrValidation) || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("an unknown column: %v", err)
	}
}
