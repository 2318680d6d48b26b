package aerostack

import (
	"context"
	"iter"
	"time"
)

// Queue is background jobs, served by queue workers (aerostack.Serve with aerostack.Job).
type Queue struct{ c *Client }

// EnqueueOptions are the optional arguments of Enqueue.
type EnqueueOptions struct {
	DelaySeconds int
	MaxRetries   *int
}

// Enqueue enqueues a job of jobType with data; its JobID.
func (q *Queue) Enqueue(ctx context.Context, jobType string, data any, opts *EnqueueOptions) (*EnqueueResult, error) {
	a := args{}.s("type", jobType).v("data", data)
	if opts != nil {
		a.n("delay_seconds", opts.DelaySeconds)
		if opts.MaxRetries != nil {
			a["max_retries"] = *opts.MaxRetries
		}
	}
	return call[*EnqueueResult](ctx, q.c, "queue.enqueue", a)
}

// Send is Enqueue under seed 000's name.
func (q *Queue) Send(ctx context.Context, name string, data any, opts *EnqueueOptions) (*EnqueueResult, error) {
	return q.Enqueue(ctx, name, data, opts)
}

// Job is a job (Status, Attempts, Result, LastError, History...), or nil when there is none.
func (q *Queue) Job(ctx context.Context, jobID string) (*JobRecord, error) {
	return call[*JobRecord](ctx, q.c, "queue.job", args{}.s("job_id", jobID))
}

// JobFilter selects jobs; Limit is the page size.
type JobFilter struct {
	Status string
	Type   string
	Limit  int
	Cursor string
}

// Jobs is one page of jobs (Jobs, ListComplete, Cursor).
func (q *Queue) Jobs(ctx context.Context, f JobFilter) (*JobsPage, error) {
	return call[*JobsPage](ctx, q.c, "queue.jobs", args{}.s("status", f.Status).s("type", f.Type).n("limit", f.Limit).s("cursor", f.Cursor))
}

// JobsAll is every job matching the filter (from f.Cursor when given), page by page.
func (q *Queue) JobsAll(ctx context.Context, f JobFilter) iter.Seq2[JobRecord, error] {
	return streamOf[JobRecord](ctx, q.c, "queue.jobs_all", args{}.s("status", f.Status).s("type", f.Type).n("page_size", f.Limit).s("cursor", f.Cursor))
}

// Cancel cancels a queued job (Success).
func (q *Queue) Cancel(ctx context.Context, jobID string) (*CancelResult, error) {
	return call[*CancelResult](ctx, q.c, "queue.cancel", args{}.s("job_id", jobID))
}

// Wait waits until the job is over (completed, failed or cancelled), at most timeout, and
// returns its record with History.
func (q *Queue) Wait(ctx context.Context, jobID string, timeout time.Duration) (*JobRecord, error) {
	a := args{}.s("job_id", jobID)
	if timeout > 0 {
		a["timeout_ms"] = timeout.Milliseconds()
	}
	return call[*JobRecord](ctx, q.c, "queue.wait", a)
}
