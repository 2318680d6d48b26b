package ffi

/*
#include <string.h>
#include "aerostack.h"
*/
import "C"

import (
	"sync"
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
}

// Cancel drops the call's engine future (and its request); Done then never receives.
func (p *Pending) Cancel() {
	q := theQueue()
	C.aerostack_completion_cancel(q.q, C.uint64_t(p.ID), nil, nil)
	q.mu.Lock()
	delete(q.waiting, p.ID)
	q.mu.Unlock()
}

type queue struct {
	q       *C.AerostackCompletionQueue
	mu      sync.Mutex
	waiting map[uint64]*Pending
	// early holds items that arrived before their submitter registered the call.
	early map[uint64][]item
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
		theQ = &queue{q: q, waiting: map[uint64]*Pending{}, early: map[uint64][]item{}}
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
	early := q.early[p.ID]
	if early != nil {
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
			it.done = &d
		}
		C.aerostack_completion_release(&c)
		q.mu.Lock()
		if p, ok := q.waiting[id]; ok {
			if it.done != nil {
				delete(q.waiting, id)
			}
			p.deliver(it)
		} else {
			q.early[id] = append(q.early[id], it)
		}
		q.mu.Unlock()
	}
}
