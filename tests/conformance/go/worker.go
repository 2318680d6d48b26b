package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

// startWorker serves platform.json's fixture modules and jobs with the Go SDK's worker API
// (aerostack.Serve) for the runner's project; it returns once every one is served.
func (e *env) startWorker(spec obj) error {
	var opts []aerostack.ServeOption
	var names []string
	for _, x := range spec["modules"].([]any) {
		m := x.(obj)
		slug := m["slug"].(string)
		var mo []aerostack.ModuleOption
		if m["public"] == true {
			mo = append(mo, aerostack.Public())
		}
		if ms, ok := m["methods"].([]any); ok {
			var methods []string
			for _, x := range ms {
				methods = append(methods, x.(string))
			}
			mo = append(mo, aerostack.Methods(methods...))
		}
		h, err := behaviour(m)
		if err != nil {
			return err
		}
		opts = append(opts, aerostack.Module(slug, h, mo...))
		names = append(names, slug)
	}
	for _, x := range spec["jobs"].([]any) {
		j := x.(obj)
		h, err := behaviour(j)
		if err != nil {
			return err
		}
		opts = append(opts, aerostack.Job(j["type"].(string), h))
		names = append(names, j["type"].(string))
	}
	ready := make(chan struct{})
	served := make(chan error, 1)
	cfg := aerostack.Config{ProjectID: e.project.ID, APIKey: e.project.APIKey, BaseURL: e.platform.APIURL, IgnoreEnv: true}
	opts = append(opts, aerostack.Connect(cfg), aerostack.OnReady(func() { close(ready) }))
	go func() { served <- aerostack.Serve(context.Background(), opts...) }()
	select {
	case <-ready:
	case err := <-served:
		return fmt.Errorf("aerostack.Serve: %v", err)
	case <-time.After(20 * time.Second):
		return errors.New("the worker did not register within 20 s")
	}
	c, err := aerostack.New(cfg)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := c.Local.WaitServed(context.Background(), n, 10*time.Second); err != nil {
			return fmt.Errorf("%s is not served: %v", n, err)
		}
	}
	return nil
}

func behaviour(m obj) (aerostack.Handler, error) {
	msg, _ := m["message"].(string)
	switch m["behaviour"] {
	case "echo":
		return func(_ context.Context, _ *aerostack.Scoped, ev aerostack.Event) (any, error) {
			return obj{"echo": ev.Data, "method": ev.Method}, nil
		}, nil
	case "sleep":
		return func(ctx context.Context, _ *aerostack.Scoped, ev aerostack.Event) (any, error) {
			d, _ := ev.Data.(obj)
			ms, _ := num(d["ms"])
			ms = min(ms, 10000)
			select {
			case <-time.After(time.Duration(ms) * time.Millisecond):
			case <-ctx.Done():
			}
			return obj{"slept_ms": d["ms"]}, nil
		}, nil
	case "fail":
		return func(context.Context, *aerostack.Scoped, aerostack.Event) (any, error) {
			return nil, errors.New(msg)
		}, nil
	case "sdk_db":
		return func(ctx context.Context, sdk *aerostack.Scoped, ev aerostack.Event) (any, error) {
			d, _ := ev.Data.(obj)
			row, err := sdk.DB.QueryOne(ctx, "SELECT ? AS value", d["value"])
			if err != nil {
				return nil, err
			}
			return obj{"value": row["value"], "project_id": sdk.ProjectID}, nil
		}, nil
	case "double":
		return func(_ context.Context, _ *aerostack.Scoped, ev aerostack.Event) (any, error) {
			d, _ := ev.Data.(obj)
			n, _ := num(d["n"])
			return obj{"doubled": n * 2}, nil
		}, nil
	}
	return nil, fmt.Errorf("unknown fixture behaviour %v", m["behaviour"])
}
