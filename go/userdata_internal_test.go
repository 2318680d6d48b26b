package aerostack

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The Go copy of the surface's user-data table is the table: parsed from
// bindings/common/src/user_data.rs.
func TestUserDataPathsMatchTheSurface(t *testing.T) {
	src, err := os.ReadFile("../bindings/common/src/user_data.rs")
	if err != nil {
		t.Fatal("the surface's table (this test runs in the repository): " + err.Error())
	}
	// Comments say things like (`data`); only code counts.
	var code []string
	for _, l := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "//") {
			code = append(code, l)
		}
	}
	text := strings.Join(code, "\n")
	strs := func(s string) []string {
		out := []string{}
		for _, m := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		return out
	}
	consts := map[string][]string{}
	for _, m := range regexp.MustCompile(`(?s)const ([A-Z_]+): &\[&str\] = &\[(.*?)\];`).FindAllStringSubmatch(text, -1) {
		consts[m[1]] = strs(m[2])
	}
	table := text[strings.Index(text, "pub const USER_DATA"):]
	table = table[strings.Index(table, "= &[")+4 : strings.Index(table, "\n];")]
	want := map[string][]string{}
	for _, m := range regexp.MustCompile(`(?s)\(\s*"([^"]+)",\s*(&\[.*?\]|[A-Z_]+),?\s*\)`).FindAllStringSubmatch(table, -1) {
		if c, ok := consts[m[2]]; ok {
			want[m[1]] = c
		} else {
			want[m[1]] = strs(m[2])
		}
	}
	if len(want) < 60 {
		t.Fatalf("parsed only %d result types from user_data.rs: %v", len(want), want)
	}
	var diff []string
	for name, paths := range want {
		if got, ok := userDataPaths[name]; !ok || !slices.Equal(got, paths) {
			diff = append(diff, name+": surface "+strings.Join(quote(paths), ",")+" go "+strings.Join(quote(got), ","))
		}
	}
	for name := range userDataPaths {
		if _, ok := want[name]; !ok {
			diff = append(diff, name+": only in go/userdata.go")
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Fatalf("go/userdata.go differs from bindings/common/src/user_data.rs:\n%s", strings.Join(diff, "\n"))
	}
}

func quote(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = `"` + s + `"`
	}
	return out
}
