package aerostack

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/aerostack/aerostack-sdk/go/internal/ffi"
)

// The logger the engine's lines go to: the Config.Logger of the latest client that set one.
var (
	logger   atomic.Pointer[slog.Logger]
	logsOnce sync.Once
)

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
				l := logger.Load()
				if l == nil {
					l = slog.Default()
				}
				for _, line := range lines {
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
