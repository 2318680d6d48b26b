// The Go half of `make bench`: this SDK vs raw net/http (a tuned transport, decoding into the
// same structs) making the same calls (db.query, cache.get), against the local platform and the
// Rust static responder (`aerostack-bench --serve-static 0`, so the client's own cost shows),
// sequentially and with 100 and 1,000 goroutines. Every measurement runs in a fresh process
// (this binary with `rate ...`), --rounds times in turn with the baseline, and the median is
// reported: a burst of other work on the machine then moves one measurement, not the ratio.
// A benchmark, not a test: it prints, it does not judge.
//
//	go run . [--out ../results/go.md] [--readme ../../README.md] [--seconds N] [--rounds N]
//
// The SDK links whatever go/internal/lib holds: `make bench` puts the release library there
// (AEROSTACK_GO_LIB=target/release/libaerostack_c.a scripts/go-lib.sh) and the debug one back after.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

const (
	sql      = "SELECT id, name FROM items WHERE id = ?"
	cacheKey = "bench:key"
	start    = "<!-- bench-go:start -->"
	end      = "<!-- bench-go:end -->"
)

var (
	modes = []struct {
		label string
		conc  int
	}{{"sequential", 1}, {"100 goroutines", 100}, {"1,000 goroutines", 1000}}
	ops   = []string{"db", "cache"}
	impls = []string{"sdk", "nethttp"}
)

type result struct {
	Rate       float64 `json:"rate"`
	Calls      int64   `json:"calls"`
	Errors     int64   `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Failed     string  `json:"failed,omitempty"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "rate" {
		rate(os.Args[2:])
		return
	}
	out := flag.String("out", "", "write the markdown table here")
	readme := flag.String("readme", "", "replace the bench-go section of this README")
	seconds := flag.Float64("seconds", 2, "the length of each measurement")
	rounds := flag.Int("rounds", 3, "measurements per cell, taken in turn with the baseline's; the median is reported")
	flag.Parse()
	root, _ := filepath.Abs("../..")

	bin := filepath.Join(root, "target/release/aerostack-bench")
	static := exec.Command(bin, "--serve-static", "0")
	stdout, _ := static.StdoutPipe()
	if err := static.Start(); err != nil {
		fatal(fmt.Errorf("%s: %w (cargo build --release -p aerostack-bench; make bench does)", bin, err))
	}
	defer static.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		fatal(fmt.Errorf("the static responder: %w", err))
	}
	staticURL := strings.TrimSpace(line) + "/v1"

	p, err := aerostack.StartLocal(aerostack.LocalOptions{})
	if err != nil {
		fatal(err)
	}
	defer p.Close()
	c, err := p.Client()
	if err != nil {
		fatal(err)
	}
	ctx := context.Background()
	must(c.DB.Query(ctx, "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT)"))
	for i := 1; i <= 100; i++ {
		must(c.DB.Query(ctx, "INSERT OR REPLACE INTO items (id, name) VALUES (?, ?)", i, fmt.Sprint("item ", i)))
	}
	if err := c.Cache.Set(ctx, cacheKey, map[string]any{"hello": "world", "n": 42}, 0); err != nil {
		fatal(err)
	}

	self, _ := os.Executable()
	loadBefore := loadavg()
	results := map[string]result{}
	targets := []struct{ name, url string }{{"platform", p.APIURL}, {"static hyper", staticURL}}
	for _, t := range targets {
		for _, m := range modes {
			for _, op := range ops {
				taken := map[string][]result{}
				for round := 0; round < *rounds; round++ {
					for _, impl := range impls {
						r := measure(self, impl, op, m.conc, *seconds, t.url, p.APIKey, p.ProjectID)
						taken[impl] = append(taken[impl], r)
						fmt.Fprintf(os.Stderr, "bench-go: %-12s %-16s %-5s %-7s %s %s%s\n", t.name, m.label, op, impl, fmtRate(r), r.Failed, r.FirstError)
					}
				}
				for impl, rs := range taken {
					results[t.name+"|"+m.label+"|"+op+"|"+impl] = median(rs)
				}
			}
		}
	}

	var md strings.Builder
	fmt.Fprintf(&md, "This SDK vs raw `net/http` (a tuned `http.Transport`: keep-alive pool sized to the goroutines, "+
		"no compression; decoding into the same structs), calls/s over %.1f s per measurement, each in a fresh process, "+
		"the median of %d taken in turn with the baseline's; "+
		"targets: ≥ 0.8× net/http sequentially, ≥ 1× at 100 and 1,000 goroutines; %d cores, %s/%s, %s:\n\n",
		*seconds, *rounds, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(&md, "The machine's load average (1 min) was %s before and %s after the run: other work on the "+
		"same cores moves these figures; compare ratios from one run.\n\n", loadBefore, loadavg())
	md.WriteString("| server | mode | call | this SDK | raw net/http | SDK / net/http |\n|---|---|---|---:|---:|---:|\n")
	for _, t := range targets {
		for _, m := range modes {
			for _, op := range ops {
				s, h := results[t.name+"|"+m.label+"|"+op+"|sdk"], results[t.name+"|"+m.label+"|"+op+"|nethttp"]
				name := map[string]string{"db": "DB.Query", "cache": "Cache.Get"}[op]
				fmt.Fprintf(&md, "| %s | %s | %s | %s | %s | %s |\n", t.name, m.label, name, fmtRate(s), fmtRate(h), ratio(s, h))
			}
		}
	}
	text := md.String()
	fmt.Print(text)
	if *out != "" {
		_ = os.MkdirAll(filepath.Dir(*out), 0o755)
		if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
			fatal(err)
		}
		fmt.Fprintln(os.Stderr, "bench-go: wrote", *out)
	}
	if *readme != "" {
		b, err := os.ReadFile(*readme)
		if err != nil {
			fatal(err)
		}
		s := string(b)
		a, z := strings.Index(s, start), strings.Index(s, end)
		if a < 0 || z < a {
			fatal(fmt.Errorf("%s has no %s ... %s section", *readme, start, end))
		}
		s = s[:a+len(start)] + "\n" + text + s[z:]
		if err := os.WriteFile(*readme, []byte(s), 0o644); err != nil {
			fatal(err)
		}
		fmt.Fprintln(os.Stderr, "bench-go: updated", *readme)
	}
}

func measure(self, impl, op string, conc int, seconds float64, url, key, project string) result {
	cmd := exec.Command(self, "rate", impl, op, fmt.Sprint(conc), fmt.Sprint(seconds), url, key, project)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	lines := strings.Split(strings.TrimSpace(string(outb)), "\n")
	var r result
	if json.Unmarshal([]byte(lines[len(lines)-1]), &r) != nil {
		msg := stderr.String()
		if len(msg) > 300 {
			msg = msg[len(msg)-300:]
		}
		return result{Failed: fmt.Sprintf("%v: %s", err, msg)}
	}
	return r
}

// median is the middle measurement by rate; a failed one fails the cell.
func median(rs []result) result {
	for _, r := range rs {
		if r.Failed != "" {
			return r
		}
	}
	sorted := append([]result(nil), rs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Rate < sorted[j].Rate })
	return sorted[len(sorted)/2]
}

func fmtRate(r result) string {
	if r.Failed != "" {
		return "failed"
	}
	s := fmt.Sprintf("%.0f", r.Rate)
	if r.Errors > 0 {
		s += fmt.Sprintf(" (%d errors)", r.Errors)
	}
	return s
}

func ratio(a, b result) string {
	if a.Failed != "" || b.Failed != "" || b.Rate == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a.Rate/b.Rate)
}

// rate is one measurement, in its own process: impl op conc seconds url key project.
func rate(a []string) {
	impl, op, url, key, project := a[0], a[1], a[4], a[5], a[6]
	var conc int
	var seconds float64
	fmt.Sscan(a[2], &conc)
	fmt.Sscan(a[3], &seconds)
	ctx := context.Background()
	var call func() error
	switch impl {
	case "sdk":
		c, err := aerostack.New(aerostack.Config{ProjectID: project, APIKey: key, BaseURL: url, IgnoreEnv: true})
		if err != nil {
			fatal(err)
		}
		if op == "db" {
			call = func() error { _, err := c.DB.Query(ctx, sql, 42); return err }
		} else {
			call = func() error { _, err := c.Cache.Get(ctx, cacheKey); return err }
		}
	case "nethttp":
		call = rawCall(op, conc, url, key)
	default:
		fatal(fmt.Errorf("unknown impl %s", impl))
	}
	// Warm-up: connections, pools.
	for range min(conc, 100) {
		_ = call()
	}
	var calls, errs atomic.Int64
	var first atomic.Value
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	began := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := call(); err != nil {
					errs.Add(1)
					first.CompareAndSwap(nil, err.Error())
					continue
				}
				calls.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(began).Seconds()
	r := result{Rate: float64(calls.Load()) / el, Calls: calls.Load(), Errors: errs.Load()}
	if f, ok := first.Load().(string); ok {
		r.FirstError = f
	}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

// rawCall is the same call with net/http: POST JSON with the key and a request id, the answer
// decoded into the SDK's structs (aerostack.QueryResult; the cache value).
func rawCall(op string, conc int, base, key string) func() error {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        max(conc, 100) * 2,
		MaxIdleConnsPerHost: max(conc, 100),
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	path, body := "/db/query", []byte(`{"sql":"`+sql+`","params":[42]}`)
	if op == "cache" {
		path, body = "/cache/get", []byte(`{"key":"`+cacheKey+`"}`)
	}
	full := strings.TrimSuffix(base, "/") + path
	return func() error {
		req, _ := http.NewRequest("POST", full, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Aerostack-Key", key)
		req.Header.Set("X-Request-ID", requestID())
		req.Header.Set("User-Agent", "raw-net-http-bench")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode >= 300 {
			return fmt.Errorf("status %d: %s", resp.StatusCode, b)
		}
		if op == "db" {
			var out aerostack.QueryResult
			return json.Unmarshal(b, &out)
		}
		var out struct {
			Value  any  `json:"value"`
			Exists bool `json:"exists"`
		}
		return json.Unmarshal(b, &out)
	}
}

// loadavg is the 1-minute load average ("?" off Linux).
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func must[T any](_ T, err error) {
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench-go:", err)
	os.Exit(1)
}
