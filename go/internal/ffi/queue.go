package ffi

/*
#include <string.h>
#include "aerostack.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Completion is a finished call's outcome.
type Completion struct {
	// JSON answer; nil at the end of a stream.
	JSON []byte
	// Err is the error object as JSON when the call failed.
	Err []byte
	// Data are a download's bytes.
	Data []byte
	// Stream is an opened stream.
	Stream *Stream
	// Worker is a connected worker.
	Worker *Worker
	// Invocation is a pulled invocation (nil: none came in time, or the worker stopped).
	Invocation *Invocation
	// GatewaySocket is an opened gateway chat socket.
	GatewaySocket *GatewaySocket
}

// free frees the handles an outcome carries (one nobody will take).
func (d *Completion) free() {
	if d.Stream != nil {
		d.Stream.Free()
	}
	if d.Worker != nil {
		d.Worker.Free()
	}
	if d.Invocation != nil {
		d.Invocation.Free()
	}
	if d.GatewaySocket != nil {
		d.GatewaySocket.Free()
	}
}

// Progress is an upload's progress report.
type Progress struct {
	Sent  uint64
	Total int64 // -1 when unknown
}

// Pending is a submitted call.
type Pending struct {
	ID       uint64
	Done     chan Completion // receives the outcome once
	Progress chan Progress   // progress reports (dropped when nobody reads)
	// cancelled: the waiter is gone; an outcome that arrives is freed, not delivered (q.mu).
	cancelled bool
}

// Cancel drops the call's engine future (and its request); nobody reads Done afterwards.
func (p *Pending) Cancel() {
	q := theQueue()
	var running C.bool
	q.mu.Lock()
	defer q.mu.Unlock()
	C.aerostack_completion_cancel(q.q, C.uint64_t(p.ID), &running, nil)
	if running {
		// It will never complete: forget it now. Progress it pushed before the cancel may still
		// be queued; those items are dropped by id (cancelled) rather than kept as early.
		delete(q.waiting, p.ID)
		delete(q.early, p.ID)
		q.cancelled[p.ID] = time.Now()
		return
	}
	// It finished already: its outcome is queued (or was delivered). Leaving the entry lets
	// route take it out when the outcome arrives, instead of parking it in early for good.
	p.cancelled = true
	select {
	case d := <-p.Done:
		d.free()
	default:
	}
}

type queue struct {
	q       *C.AerostackCompletionQueue
	mu      sync.Mutex
	waiting map[uint64]*Pending
	// early holds items that arrived before their submitter registered the call (a submitter
	// registers right after the C call returns its id, so an entry older than orphanAge has no
	// submitter and is swept).
	early map[uint64]*earlyItems
	// cancelled are the calls cancelled while running, whose stray progress items are dropped.
	cancelled map[uint64]time.Time
	swept     time.Time
}

type earlyItems struct {
	at    time.Time
	items []item
}

// orphanAge is how long an item may wait for its submitter, and a cancelled id for strays.
var orphanAge = 10 * time.Second

// Outstanding is how many calls wait for their outcome, how many ids hold early items, and how
// many cancelled ids are remembered (for tests: all go back to 0 when nothing runs).
func Outstanding() (waiting, early, cancelled int) {
	q := theQueue()
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting), len(q.early), len(q.cancelled)
}

type item struct {
	done     *Completion
	progress *Progress
}

var (
	once sync.Once
	theQ *queue
	// LogsWaiting receives a value (non-blocking) when engine log lines wait.
	LogsWaiting = make(chan struct{}, 1)
)

func theQueue() *queue {
	once.Do(func() {
		var q *C.AerostackCompletionQueue
		var e *C.char
		if st := C.aerostack_completion_new(&q, &e); st != C.AEROSTACK_OK {
			panic("aerostack: could not create the completion queue: " + string(take(e)))
		}
		theQ = &queue{q: q, waiting: map[uint64]*Pending{}, early: map[uint64]*earlyItems{}, cancelled: map[uint64]time.Time{}}
		go theQ.pull()
	})
	return theQ
}

func submit(f func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t) (*Pending, error) {
	q := theQueue()
	var id C.uint64_t
	var e *C.char
	if err := status(f(q.q, &id, &e), e); err != nil {
		return nil, err
	}
	p := &Pending{ID: uint64(id), Done: make(chan Completion, 1), Progress: make(chan Progress, 16)}
	q.mu.Lock()
	var early []item
	if e := q.early[p.ID]; e != nil {
		early = e.items
		delete(q.early, p.ID)
	}
	done := false
	for _, it := range early {
		done = done || it.done != nil
		p.deliver(it)
	}
	if !done {
		q.waiting[p.ID] = p
	}
	q.mu.Unlock()
	return p, nil
}

func (p *Pending) deliver(it item) {
	if it.done != nil {
		p.Done <- *it.done
		return
	}
	select {
	case p.Progress <- *it.progress:
	default:
	}
}

// pull is the one goroutine that blocks in aerostack_completion_next (one OS thread).
func (q *queue) pull() {
	var c C.AerostackCompletion
	for {
		st := C.aerostack_completion_next(q.q, 1000, &c, nil)
		if C.aerostack_logs_pending() {
			select {
			case LogsWaiting <- struct{}{}:
			default:
			}
		}
		if st == C.AEROSTACK_CLOSED {
			return
		}
		if st != C.AEROSTACK_OK {
			continue
		}
		id := uint64(c.call_id)
		var it item
		if c.kind == C.AEROSTACK_PROGRESS {
			it.progress = &Progress{Sent: uint64(c.sent), Total: int64(c.total)}
		} else {
			d := Completion{}
			if c.json != nil {
				d.JSON = C.GoBytes(unsafe.Pointer(c.json), C.int(C.strlen(c.json)))
			}
			if c.error != nil {
				d.Err = C.GoBytes(unsafe.Pointer(c.error), C.int(C.strlen(c.error)))
			}
			if c.data != nil {
				d.Data = C.GoBytes(unsafe.Pointer(c.data), C.int(c.data_len))
			}
			if c.stream != nil {
				d.Stream = &Stream{s: c.stream}
			}
			if c.worker != nil {
				d.Worker = &Worker{w: c.worker}
			}
			if c.invocation != nil {
				d.Invocation = &Invocation{i: c.invocation}
			}
			if c.gateway_socket != nil {
				d.GatewaySocket = &GatewaySocket{s: c.gateway_socket}
			}
			it.done = &d
		}
		C.aerostack_completion_release(&c)
		q.route(id, it, time.Now())
		// The goroutine just readied sits in this P's runnext; blocking in C now would leave it
		// there until the scheduler notices. Yield first so it runs at once.
		runtime.Gosched()
	}
}

// route hands an item to the call waiting for it, keeps it for a submitter that has not
// registered yet, or drops it (a cancelled call's stray progress); and sweeps orphans.
func (q *queue) route(id uint64, it item, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch p, ok := q.waiting[id]; {
	case ok:
		if it.done != nil {
			delete(q.waiting, id)
			if p.cancelled {
				it.done.free()
				break
			}
		}
		p.deliver(it)
	case !q.cancelled[id].IsZero():
		// dropped
	default:
		e := q.early[id]
		if e == nil {
			e = &earlyItems{at: now}
			q.early[id] = e
		}
		e.items = append(e.items, it)
	}
	q.sweep(now)
}

// sweep forgets early items nobody registered for and old cancelled ids (at most once a second).
func (q *queue) sweep(now time.Time) {
	if now.Sub(q.swept) < time.Second {
		return
	}
	q.swept = now
	for id, e := range q.early {
		if now.Sub(e.at) > orphanAge {
			for _, it := range e.items {
				if it.done != nil {
					it.done.free()
				}
			}
			delete(q.early, id)
		}
	}
	for id, at := range q.cancelled {
		if now.Sub(at) > orphanAge {
			delete(q.cancelled, id)
		}
	}
}
