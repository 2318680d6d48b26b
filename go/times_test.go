package aerostack_test

import (
	"context"
	"strings"
	"testing"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

// isTime fails unless v is a time.Time within a day of now.
func isTime(t *testing.T, what string, v any) time.Time {
	t.Helper()
	if p, ok := v.(*time.Time); ok && p != nil {
		v = *p
	}
	tm, ok := v.(time.Time)
	if !ok || time.Since(tm).Abs() > 24*time.Hour {
		t.Fatalf("%s: want a time.Time near now, got %T %v", what, v, v)
	}
	return tm
}

// Every time the engine hands out is a time.Time; user data (rows, payloads) is as stored.
func TestTimesAreTimeTime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := newClient(t)

	// Rows: a created_at column stays the text it is.
	if _, err := c.DB.Query(ctx, "CREATE TABLE notes (id INTEGER PRIMARY KEY, created_at TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DB.Query(ctx, "INSERT INTO notes (created_at) VALUES ('2026-01-01T00:00:00.000Z')"); err != nil {
		t.Fatal(err)
	}
	row, err := c.DB.QueryOne(ctx, "SELECT created_at FROM notes")
	if err != nil || row["created_at"] != "2026-01-01T00:00:00.000Z" {
		t.Fatalf("a row's created_at must stay text: %#v %v", row, err)
	}

	// Auth: the session's expires_at and the user's created_at.
	s, err := c.Auth.Register(ctx, "times@x.dev", "Passw0rd-123", "T", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.ExpiresAt != nil {
		isTime(t, "session expires_at", s.ExpiresAt)
	}
	isTime(t, "user created_at", s.User.CreatedAt)
	me, err := c.Auth.Me(ctx, *s.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	isTime(t, "me created_at", me.CreatedAt)

	// Queue: the job's times; its data as enqueued.
	sent, err := c.Queue.Enqueue(ctx, "times-job", map[string]any{"created_at": "as-sent"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.Queue.Job(ctx, sent.JobID)
	if err != nil {
		t.Fatal(err)
	}
	isTime(t, "job created_at", job.CreatedAt)
	if job.Data.(map[string]any)["created_at"] != "as-sent" {
		t.Fatalf("job data converted: %#v", job.Data)
	}
	page, err := c.Queue.Jobs(ctx, aerostack.JobFilter{Type: "times-job"})
	if err != nil {
		t.Fatal(err)
	}
	isTime(t, "jobs[].created_at", page.Jobs[0].CreatedAt)
	for j, err := range c.Queue.JobsAll(ctx, aerostack.JobFilter{Type: "times-job"}) {
		if err != nil {
			t.Fatal(err)
		}
		isTime(t, "JobsAll created_at", j.CreatedAt)
	}

	// Storage: last_modified.
	if _, err := c.Storage.Upload(ctx, aerostack.UploadInput{Key: "t.txt", Body: strings.NewReader("hi")}); err != nil {
		t.Fatal(err)
	}
	meta, err := c.Storage.Metadata(ctx, "t.txt")
	if err != nil {
		t.Fatal(err)
	}
	isTime(t, "storage last_modified", meta.LastModified)
	for o, err := range c.Storage.ListAll(ctx, "", 0) {
		if err != nil {
			t.Fatal(err)
		}
		isTime(t, "ListAll last_modified", o.LastModified)
	}

	// Cache: a key's expiration (none without a TTL).
	if err := c.Cache.Set(ctx, "ttl", 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.Cache.Set(ctx, "forever", 1, 0); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Cache.List(ctx, "", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.Keys {
		if k.Key == "ttl" {
			if tm := isTime(t, "cache expiration", k.Expiration); time.Until(tm) < 50*time.Minute {
				t.Fatalf("expiration %v is not an hour away", tm)
			}
		} else if k.Expiration != nil {
			t.Fatalf("a key without TTL has expiration %v", *k.Expiration)
		}
	}

	// Outbox: created_at.
	if _, err := c.Auth.SendOTP(ctx, "times@x.dev", ""); err != nil {
		t.Fatal(err)
	}
	box, err := c.Local.Outbox(ctx, "times@x.dev", 1)
	if err != nil || len(box) == 0 {
		t.Fatalf("outbox: %v %v", box, err)
	}
	isTime(t, "outbox created_at", box[0].CreatedAt)

	// Realtime: event timestamp, publish ack, history (paged by a time.Time), presence, emit.
	ch := c.Realtime.Channel("chat/times")
	events := ch.Events()
	if err := ch.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ch.Track(aerostack.Record{"name": "t"}); err != nil {
		t.Fatal(err)
	}
	var acks []*aerostack.PublishAck
	for i := range 3 {
		ack, err := ch.Publish(ctx, "msg", map[string]any{"i": i, "created_at": "payload"}, &aerostack.PublishOptions{Persist: true})
		if err != nil {
			t.Fatal(err)
		}
		isTime(t, "publish ack timestamp", ack.Timestamp)
		acks = append(acks, ack)
		time.Sleep(5 * time.Millisecond)
	}
	hist, err := ch.History(ctx, 2, time.Time{})
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %v %v", hist, err)
	}
	last := isTime(t, "history created_at", hist[1].CreatedAt)
	if hist[0].Data.(map[string]any)["created_at"] != "payload" {
		t.Fatalf("history data converted: %#v", hist[0].Data)
	}
	older, err := ch.History(ctx, 10, last)
	if err != nil || len(older) != 1 || *older[0].ID != acks[0].ID {
		t.Fatalf("history before %v: %v %v (acks %v)", last, older, err, acks)
	}
	emitted, err := c.Socket.Emit(ctx, "note", map[string]any{"x": 1}, "chat/times")
	if err != nil {
		t.Fatal(err)
	}
	isTime(t, "emit timestamp", emitted.Timestamp)
	deadline := time.After(10 * time.Second)
	for seenEvent, seenPresence := false, false; !seenEvent || !seenPresence; {
		select {
		case ev := <-events:
			if ev.Event == "note" { // the emit (a publisher does not get its own messages)
				if time.Since(ev.Timestamp).Abs() > time.Hour {
					t.Fatalf("event Timestamp %v", ev.Timestamp)
				}
				seenEvent = true
			}
			if ev.Kind == "presence" {
				if ev.Presence == nil {
					t.Fatalf("a presence event without its typed report: %+v", ev.Raw)
				}
				if d, ok := ev.Data.(map[string]any); ok {
					for _, list := range []string{"presences", "joins"} {
						if l, ok := d[list].([]any); ok && len(l) > 0 {
							isTime(t, "presence event joined_at", l[0].(map[string]any)["joined_at"])
							seenPresence = true
						}
					}
					if _, ok := d["joined_at"]; ok {
						isTime(t, "presence event joined_at", d["joined_at"])
						seenPresence = true
					}
				}
			}
		case <-deadline:
			t.Fatalf("no msg event with a Timestamp / presence event (event %v presence %v)", seenEvent, seenPresence)
		}
	}
	pres := ch.Presence()
	if len(pres) == 0 {
		t.Fatal("no presence")
	}
	isTime(t, "presence joined_at", pres[0].JoinedAt)
}
