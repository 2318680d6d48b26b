package aerostack

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The Go copy of the surface's time table is the table: parsed from bindings/common/src/times.rs.
func TestTimePathsMatchTheSurface(t *testing.T) {
	src, err := os.ReadFile("../bindings/common/src/times.rs")
	if err != nil {
		t.Fatal("the surface's table (this test runs in the repository): " + err.Error())
	}
	text := string(src)
	strs := func(s string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		return out
	}
	consts := map[string][]string{}
	for _, m := range regexp.MustCompile(`(?s)const ([A-Z_]+): &\[&str\] = &\[(.*?)\];`).FindAllStringSubmatch(text, -1) {
		consts[m[1]] = strs(m[2])
	}
	table := text[strings.Index(text, "pub const TIME_FIELDS"):]
	table = table[:strings.Index(table, "\n];")]
	want := map[string][]string{}
	for _, m := range regexp.MustCompile(`(?s)\(\s*"([^"]+)",\s*(&\[.*?\]|[A-Z_]+),?\s*\)`).FindAllStringSubmatch(table, -1) {
		if c, ok := consts[m[2]]; ok {
			want[m[1]] = c
		} else {
			want[m[1]] = strs(m[2])
		}
	}
	if len(want) < 20 {
		t.Fatalf("parsed only %d result types from times.rs: %v", len(want), want)
	}
	if !reflect.DeepEqual(want, timePaths) {
		t.Fatalf("go/times.go's timePaths differ from bindings/common/src/times.rs:\n surface %v\n go      %v", want, timePaths)
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
