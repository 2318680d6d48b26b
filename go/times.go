package aerostack

import (
	"strings"
	"time"
)

// Where the times are in what the engine hands out, per result type: the surface's table
// (bindings/common/src/times.rs), read from the library once. The engine writes every time as
// RFC 3339 UTC text with milliseconds; the SDK turns the text at exactly these paths into
// time.Time, never by key name, so user data (a row with a created_at column, a payload that has
// one) comes back as it was stored.
func timePathsOf(resultType string) []string { return resultTables().Times[resultType] }

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
// []any, any) with time.Time values, in place; v itself for the callers' convenience. For what
// stays untyped (an event's Raw, a handler's event): the result structs (results.go) decode
// their time.Time fields themselves.
func withTimes[T any](resultType string, v T) T {
	for _, steps := range resultTables().timeSteps[resultType] {
		convertAt(any(v), steps)
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
