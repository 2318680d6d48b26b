package aerostack

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"strings"
	"sync"

	"github.com/aerostack/aerostack-sdk/go/internal/ffi"
)

// Where the engine's lines go: each client made with a Config.Logger adds a route (its base
// URL -> its logger), removed when the client is garbage-collected.
var (
	routesMu  sync.Mutex
	logRoutes = map[uint64]logRoute{}
	routeIDs  uint64
	logsOnce  sync.Once
)

type logRoute struct {
	prefix string
	l      *slog.Logger
	id     uint64
}

func routeLogs(c *Client, baseURL string, l *slog.Logger) {
	routesMu.Lock()
	routeIDs++
	id := routeIDs
	logRoutes[id] = logRoute{prefix: strings.TrimSuffix(baseURL, "/"), l: l, id: id}
	routesMu.Unlock()
	// The client sits in a cycle (c.DB.c == c); a finalizer on a fresh object it alone holds
	// runs when the client goes.
	tok := &routeToken{id}
	c.logToken = tok
	runtime.SetFinalizer(tok, func(t *routeToken) {
		routesMu.Lock()
		delete(logRoutes, t.id)
		routesMu.Unlock()
	})
}

type routeToken struct{ id uint64 }

// loggerFor is the logger of a line about url (the longest matching base URL, newest first).
func loggerFor(url string) *slog.Logger {
	routesMu.Lock()
	defer routesMu.Unlock()
	var best *logRoute
	for _, r := range logRoutes {
		if !strings.HasPrefix(url, r.prefix) {
			continue
		}
		if best == nil || len(r.prefix) > len(best.prefix) || (len(r.prefix) == len(best.prefix) && r.id > best.id) {
			r := r
			best = &r
		}
	}
	if best == nil {
		return slog.Default()
	}
	return best.l
}

// lineURL is the URL a line is about ("retrying POST http://... in 0.1 s ...").
func lineURL(message string) string {
	f := strings.Fields(message)
	if len(f) >= 3 && f[0] == "retrying" {
		return f[2]
	}
	return ""
}

// startLogs drains the engine's log lines (retries) into the logger, on a goroutine of its own:
// the completion goroutine only signals, so a slow handler never delays a call.
func startLogs() {
	logsOnce.Do(func() {
		ffi.InstallLogs()
		go func() {
			for range ffi.LogsWaiting {
				var lines []struct{ Level, Message string }
				if json.Unmarshal(ffi.DrainLogs(), &lines) != nil {
					continue
				}
				for _, line := range lines {
					l := loggerFor(lineURL(line.Message))
					level := slog.LevelDebug
					if line.Level == "warning" {
						level = slog.LevelWarn
					}
					l.Log(context.Background(), level, line.Message, "sdk", "aerostack")
				}
			}
		}()
	})
}
