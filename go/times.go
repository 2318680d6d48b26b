package aerostack

import (
	"strings"
	"time"
)

// Where the times are in what the engine hands out, per result type: a copy of
// bindings/common/src/times.rs (TIME_FIELDS; TestTimePathsMatchTheSurface fails when they drift).
// The engine writes every time as RFC 3339 UTC text with milliseconds; the SDK turns the text at
// exactly these paths into time.Time, never by key name, so user data (a row with a created_at
// column, a payload that has one) comes back as it was stored.
var (
	userTimes    = []string{"created_at", "email_verified_at"}
	sessionTimes = []string{"expires_at", "user.created_at", "user.email_verified_at"}
	jobTimes     = []string{"created_at", "updated_at", "run_at", "history[].started_at", "history[].ended_at"}
	jobsPage     = []string{"jobs[].created_at", "jobs[].updated_at", "jobs[].run_at",
		"jobs[].history[].started_at", "jobs[].history[].ended_at"}
	objectTimes   = []string{"last_modified"}
	presenceTimes = []string{"[].joined_at"}
)

var timePaths = map[string][]string{
	"auth.signup":             sessionTimes,
	"auth.signin":             sessionTimes,
	"auth.register":           sessionTimes,
	"auth.login":              sessionTimes,
	"auth.verify_otp":         sessionTimes,
	"auth.refresh":            sessionTimes,
	"auth.me":                 userTimes,
	"auth.update_me":          userTimes,
	"auth.verify_token":       userTimes,
	"cache.list":              {"keys[].expiration"},
	"cache.list_all":          {"expiration"},
	"queue.job":               jobTimes,
	"queue.wait":              jobTimes,
	"queue.jobs":              jobsPage,
	"queue.jobs_all":          jobTimes,
	"storage.list":            {"objects[].last_modified"},
	"storage.list_all":        objectTimes,
	"storage.metadata":        objectTimes,
	"realtime.history":        {"[].created_at"},
	"realtime.emit":           {"timestamp"},
	"local.outbox":            {"[].created_at"},
	"realtime.event":          {"timestamp"},
	"realtime.presence_event": {"data.joined_at", "data.presences[].joined_at", "data.joins[].joined_at", "data.leaves[].joined_at"},
	"realtime.publish":        {"timestamp"},
	"realtime.presence":       presenceTimes,
	// The event a Logic Module or job handler receives.
	"worker.invocation": {"timestamp", "created_at"},
}

// parseTime reads the engine's time text; ok is false for anything else.
func parseTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// withTimes replaces the time text at resultType's paths in v (decoded JSON: Record, []Record,
// []any, any) with time.Time values, in place; v itself for the callers' convenience.
func withTimes[T any](resultType string, v T) T {
	paths := timePaths[resultType]
	if len(paths) == 0 {
		return v
	}
	for _, p := range paths {
		convertAt(any(v), strings.Split(p, "."))
	}
	return v
}

func convertAt(v any, steps []string) {
	if len(steps) == 0 {
		return
	}
	step := steps[0]
	name, list := strings.CutSuffix(step, "[]")
	var next any = v
	if name != "" {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if !list && len(steps) == 1 {
			if t, ok := parseTime(m[name]); ok {
				m[name] = t
			}
			return
		}
		next = m[name]
	}
	if !list {
		convertAt(next, steps[1:])
		return
	}
	switch items := next.(type) {
	case []any:
		for i, it := range items {
			if len(steps) == 1 {
				if t, ok := parseTime(it); ok {
					items[i] = t
				}
				continue
			}
			convertAt(it, steps[1:])
		}
	case []map[string]any:
		for _, it := range items {
			convertAt(it, steps[1:])
		}
	}
}

// optTime is the time at key of a converted record (nil when absent or null).
func optTime(r Record, key string) *time.Time {
	if t, ok := r[key].(time.Time); ok {
		return &t
	}
	return nil
}
