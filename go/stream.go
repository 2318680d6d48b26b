package aerostack

import (
	"context"
	"encoding/json"
	"iter"
)

// streamOf runs streamed operation op as an iterator of T. The stream opens when iteration
// starts and closes when it ends (break included); an error ends it with (zero, err).
func streamOf[T any](ctx context.Context, c *Client, op string, a args) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		stop := func(err error) { yield(zero, err) }
		if err := ctx.Err(); err != nil {
			stop(ctxError(op, err))
			return
		}
		body, err := json.Marshal(a)
		if err != nil {
			stop(validation(op, "args", err.Error()))
			return
		}
		p, err := c.h.OpenStream(op, body)
		if err != nil {
			stop(fail(op, err))
			return
		}
		d, err := wait(ctx, op, p, nil)
		if err != nil {
			stop(err)
			return
		}
		s := d.Stream
		defer s.Free()
		for {
			p, err := s.Next()
			if err != nil {
				stop(fail(op, err))
				return
			}
			d, err := wait(ctx, op, p, nil)
			if err != nil {
				stop(err)
				return
			}
			if d.JSON == nil {
				return
			}
			var item T
			if err := decodeResult(d.JSON, &item); err != nil {
				stop(decodeError(op, err))
				return
			}
			if !yield(item, nil) {
				return
			}
		}
	}
}
