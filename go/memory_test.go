package aerostack_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aerostack/aerostack-sdk/go/internal/ffi"
)

// rssBytes is the process's resident set (Go heap, Rust heap, stacks: everything).
func rssBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	pages, _ := strconv.ParseInt(strings.Fields(string(b))[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// Memory stays flat over 100k calls: after a warm-up, neither the Go heap nor the whole
// process (the engine's Rust heap included) grows with the number of calls. Bounded, not timed.
func TestMemoryFlatOver100kCalls(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Fatal("this test reads /proc/self/statm (linux)")
	}
	ctx := context.Background()
	c := newClient(t)
	if err := c.Cache.Set(ctx, "k", map[string]any{"v": strings.Repeat("x", 200)}, 0); err != nil {
		t.Fatal(err)
	}
	const workers = 64
	run := func(calls int) {
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < calls; i += workers {
					var err error
					if i%2 == 0 {
						_, err = c.Cache.Get(ctx, "k")
					} else {
						_, err = c.DB.Query(ctx, "SELECT ? AS n", i)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	measure := func() (heap uint64, rss int64) {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc, rssBytes(t)
	}
	run(20_000) // warm-up: pools, caches, the allocator's arenas
	heap0, rss0 := measure()
	run(100_000)
	heap1, rss1 := measure()
	t.Logf("after warm-up: heap %d KiB, rss %d MiB; after 100k more calls: heap %d KiB, rss %d MiB",
		heap0>>10, rss0>>20, heap1>>10, rss1>>20)
	if heap1 > heap0+8<<20 {
		t.Errorf("the Go heap grew by %d KiB over 100k calls", (heap1-heap0)>>10)
	}
	if rss1 > rss0+48<<20 {
		t.Errorf("the process grew by %d MiB over 100k calls", (rss1-rss0)>>20)
	}
	// Other tests' realtime connections keep an event pull waiting each: a few, never a number
	// that grows with the calls.
	if w, e, _ := ffi.Outstanding(); w > 10 || e != 0 {
		t.Errorf("the completion queue holds %d waiting and %d early entries after the calls", w, e)
	}
}

// Calls cancelled at every moment of their life (before, during, just as they complete) leave
// no entry in the completion queue's maps.
func TestCancelRacingCompletionLeavesNoEntry(t *testing.T) {
	c := newClient(t)
	var wg sync.WaitGroup
	for i := range 2000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(3000))*time.Microsecond)
			defer cancel()
			_, _ = c.Cache.Get(ctx, fmt.Sprint("k", i))
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w, e, _ := ffi.Outstanding()
		if w <= 10 && e == 0 { // other tests' realtime connections keep an event pull waiting each
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2000 calls cancelled mid-flight: %d waiting, %d early entries remain", w, e)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
