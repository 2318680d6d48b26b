package ffi

import (
	"testing"
	"time"
)

// A completion racing with Cancel leaves nothing behind: an outcome of a cancelled call that
// had finished is taken out of waiting; an item nobody registers for is swept; a cancelled
// call's stray progress is dropped.
func TestCancelRacesLeaveNothingBehind(t *testing.T) {
	q := theQueue()
	now := time.Now()
	w0, e0, _ := Outstanding()

	// Finished before the cancel (the engine no longer runs it): its outcome comes afterwards.
	p := &Pending{ID: 1 << 62, Done: make(chan Completion, 1), Progress: make(chan Progress, 1)}
	q.mu.Lock()
	q.waiting[p.ID] = p
	q.mu.Unlock()
	p.Cancel() // not running in the engine: was_running false
	q.route(p.ID, item{done: &Completion{JSON: []byte("1")}}, now)
	if w, _, _ := Outstanding(); w != w0 {
		t.Fatalf("the cancelled call is still waiting: %d (was %d)", w, w0)
	}
	select {
	case <-p.Done:
		t.Fatal("an outcome was delivered to a cancelled call")
	default:
	}

	// An outcome for an id nobody registers (the old leak): kept as early, then swept.
	q.route(1<<62+1, item{done: &Completion{JSON: []byte("2")}}, now)
	if _, e, _ := Outstanding(); e != e0+1 {
		t.Fatalf("early: %d, want %d", e, e0+1)
	}
	q.route(1<<62+2, item{progress: &Progress{Sent: 1}}, now.Add(orphanAge+2*time.Second))
	if _, e, _ := Outstanding(); e > e0+1 {
		t.Fatalf("the orphan was not swept: %d early (was %d)", e, e0)
	}

	// A cancelled running call's stray progress is dropped, not kept.
	q.mu.Lock()
	q.cancelled[1<<62+3] = now
	q.mu.Unlock()
	_, e1, _ := Outstanding()
	q.route(1<<62+3, item{progress: &Progress{Sent: 1}}, now)
	if _, e, _ := Outstanding(); e != e1 {
		t.Fatalf("a cancelled call's progress was kept: %d early (was %d)", e, e1)
	}
}
