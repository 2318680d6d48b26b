package main

import (
	"fmt"
	"strings"
	"sync"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

// realtimeRoundTrip is the realtime.round_trip scenario (README, "Scenarios").
func (r *run) realtimeRoundTrip(p, want obj) (string, error) {
	newClient := func() (*aerostack.Client, error) {
		return aerostack.New(aerostack.Config{ProjectID: r.proj.ID, APIKey: r.proj.APIKey, BaseURL: r.e.platform.APIURL, IgnoreEnv: true})
	}
	watcher, err := newClient()
	if err != nil {
		return "", err
	}
	defer watcher.Close()
	actor, err := newClient()
	if err != nil {
		return "", err
	}
	defer actor.Close()
	if _, err := r.e.invoke(r.ctx, actor, "db.query", obj{"sql": p["create_sql"]}, nil); err != nil {
		return "", failf("create: %v", err)
	}
	var mu sync.Mutex
	var events []any
	record := func(ev aerostack.RealtimeEvent) {
		d, _ := canon(ev.Raw)
		m, _ := d.(obj)
		if data, ok := m["data"].(obj); ok {
			m["state"] = data["state"]
		} else if m != nil {
			m["state"] = nil
		}
		mu.Lock()
		events = append(events, m)
		mu.Unlock()
	}
	table := p["table"].(string)
	pub := p["publish"].(obj)
	ch := watcher.Realtime.Channel(table)
	if f, ok := p["filter"]; ok {
		ch = watcher.Realtime.Channel(table, f)
	}
	for _, name := range []string{"INSERT", "UPDATE", "presence:join", pub["event"].(string)} {
		if _, err := ch.On(name, record); err != nil {
			return "", failf("on %s: %v", name, err)
		}
	}
	if err := ch.Subscribe(r.ctx); err != nil {
		return "", failf("watcher subscribe: %v", err)
	}
	mine := actor.Realtime.Channel(table)
	if err := mine.Subscribe(r.ctx); err != nil {
		return "", failf("actor subscribe: %v", err)
	}
	if err := mine.Track(p["presence_state"].(obj)); err != nil {
		return "", failf("track: %v", err)
	}
	ack, err := mine.Publish(r.ctx, pub["event"].(string), pub["data"], &aerostack.PublishOptions{Persist: pub["persist"] == true})
	if err != nil {
		return "", failf("publish: %v", err)
	}
	for _, k := range []string{"insert", "update"} {
		q := p[k].(obj)
		if _, err := r.e.invoke(r.ctx, actor, "db.query", obj{"sql": q["sql"], "params": q["params"]}, nil); err != nil {
			return "", failf("%s: %v", k, err)
		}
	}
	missing := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, k := range []string{"insert", "update", "presence", "publish"} {
			w, ok := want[k]
			if !ok {
				continue
			}
			found := false
			for _, e := range events {
				found = found || jsonSubset(w, e)
			}
			if !found {
				out = append(out, k)
			}
		}
		return out
	}
	deadline, _ := r.ctx.Deadline()
	for len(missing()) > 0 {
		if time.Until(deadline) < 2*time.Second {
			mu.Lock()
			got := short(events)
			mu.Unlock()
			return "", failf("no %s event; received: %s", strings.Join(missing(), ", "), got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if absent, ok := want["absent"].([]any); ok {
		mu.Lock()
		for _, a := range absent {
			for _, e := range events {
				if jsonSubset(a, e) {
					mu.Unlock()
					return "", failf("received %s, which the filter excludes: %s", short(a), short(events))
				}
			}
		}
		mu.Unlock()
	}
	if w, ok := want["history_contains"]; ok {
		h, err := ch.History(r.ctx, 50, time.Time{})
		if err != nil {
			return "", failf("history: %v", err)
		}
		hc, _ := canon(h)
		found := false
		for _, m := range hc.([]any) {
			found = found || jsonSubset(w, m)
		}
		if !found {
			return "", failf("history has no %s: %s", short(w), short(hc))
		}
	}
	if pub["persist"] == true && ack.ID == "" {
		return "", failf("publish with persist answered no id: %s", short(ack))
	}
	mu.Lock()
	defer mu.Unlock()
	return fmt.Sprintf("%d events", len(events)), nil
}
