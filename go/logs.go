package aerostack

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"sync"

	"github.com/aerostack/aerostack-sdk/go/internal/ffi"
)

// Where the engine's lines go: each client made with a Config.Logger adds a route (the engine
// client's identity, which its log lines carry -> its logger), removed when the client is
// garbage-collected. A line of a client without a Logger goes to slog.Default().
var (
	routesMu  sync.Mutex
	logRoutes = map[uint64]*slog.Logger{}
	logsOnce  sync.Once
)

func routeLogs(c *Client, l *slog.Logger) {
	id := c.h.ID()
	routesMu.Lock()
	logRoutes[id] = l
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

// loggerFor is the logger of the client whose call a line is about.
func loggerFor(client uint64) *slog.Logger {
	routesMu.Lock()
	defer routesMu.Unlock()
	if l, ok := logRoutes[client]; ok {
		return l
	}
	return slog.Default()
}

// startLogs drains the engine's log lines (retries) into the logger, on a goroutine of its own:
// the completion goroutine only signals, so a slow handler never delays a call.
func startLogs() {
	logsOnce.Do(func() {
		ffi.InstallLogs()
		go func() {
			for range ffi.LogsWaiting {
				var lines []struct {
					Client         uint64
					Level, Message string
				}
				if json.Unmarshal(ffi.DrainLogs(), &lines) != nil {
					continue
				}
				for _, line := range lines {
					l := loggerFor(line.Client)
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
