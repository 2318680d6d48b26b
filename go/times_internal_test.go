package aerostack

import (
	"slices"
	"testing"
)

// The tables come from the library (the surface's own), not a Go copy.
func TestResultTablesComeFromTheLibrary(t *testing.T) {
	tables := resultTables()
	if got := timePathsOf("queue.job"); !slices.Contains(got, "history[].started_at") {
		t.Fatalf("queue.job's time paths: %v", got)
	}
	if got := tables.UserData["db.query"]; !slices.Equal(got, []string{"results"}) {
		t.Fatalf("db.query's user-data paths: %v", got)
	}
}

func TestWithTimesConvertsOnlyTheListedPaths(t *testing.T) {
	job := Record{
		"created_at": "2026-12-02T13:00:00.123Z", "run_at": nil,
		"data":    map[string]any{"created_at": "2026-12-02T13:00:00.123Z"},
		"history": []any{map[string]any{"started_at": "2026-12-02T13:00:01.000Z", "ended_at": nil}},
	}
	withTimes("queue.job", job)
	if ct := optTime(job, "created_at"); ct == nil || ct.UnixMilli()%1000 != 123 {
		t.Fatalf("created_at: %#v", job["created_at"])
	}
	if job["run_at"] != nil {
		t.Fatalf("a null time stays nil: %#v", job["run_at"])
	}
	if _, ok := job["data"].(map[string]any)["created_at"].(string); !ok {
		t.Fatal("user data was converted")
	}
	if optTime(job["history"].([]any)[0].(map[string]any), "started_at") == nil {
		t.Fatalf("history[].started_at: %#v", job["history"])
	}
}
