package ffi

/*
#include "aerostack.h"
*/
import "C"

// UploadWriter is the host's end of a streamed upload: Write chunks, then Finish (or Abort).
type UploadWriter struct{ w *C.AerostackUploadWriter }

// UploadStream submits an upload whose body is written through the returned writer; size is
// the body's length or -1.
func (c *Client) UploadStream(args []byte, size int64, progress bool) (*Pending, *UploadWriter, error) {
	var w *C.AerostackUploadWriter
	p, err := submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		a, an := ptr(args)
		return C.aerostack_client_upload_stream(c.c, q, a, an, C.int64_t(size), C.bool(progress), id, &w, e)
	})
	if err != nil {
		return nil, nil, err
	}
	return p, &UploadWriter{w: w}, nil
}

// Write submits queuing a chunk (copied before it returns); done once queued.
func (u *UploadWriter) Write(chunk []byte) (*Pending, error) {
	return submit(func(q *C.AerostackCompletionQueue, id *C.uint64_t, e **C.char) C.int32_t {
		d, n := ptr(chunk)
		return C.aerostack_upload_write(u.w, q, d, n, id, e)
	})
}

// Finish ends the body.
func (u *UploadWriter) Finish() error {
	var e *C.char
	return status(C.aerostack_upload_finish(u.w, &e), e)
}

// Abort fails the upload with message.
func (u *UploadWriter) Abort(message string) error {
	m, n := sptr(message)
	var e *C.char
	return status(C.aerostack_upload_abort(u.w, m, n, &e), e)
}

// Free frees the writer (aborting a body not finished).
func (u *UploadWriter) Free() {
	if u.w != nil {
		C.aerostack_upload_writer_free(u.w)
		u.w = nil
	}
}
