package aerostack

import (
	"context"
	"io"
	"iter"
	"os"
	"time"

	"github.com/aerostack/aerostack-sdk/go/internal/ffi"
)

// Storage is file storage with public URLs.
type Storage struct{ c *Client }

// UploadInput says what to upload where: Body (streamed: read chunk by chunk as the request
// goes out, never whole in memory) or Path (streamed from disk by the engine), under Key.
type UploadInput struct {
	Key         string
	Body        io.Reader
	Path        string
	ContentType string
	// Size is Body's length when the reader cannot say (a *bytes.Reader, *strings.Reader,
	// *bytes.Buffer or regular *os.File can); it sets Content-Length and the progress total.
	// 0: unknown (or empty).
	Size int64
	// Progress is called on the uploading goroutine with the bytes sent so far and the total
	// (-1 when unknown).
	Progress func(sent, total int64)
	// Private stores a private object, served only through signed URLs (GetURL with an
	// expiry); its URL in the result is a signed one (1 h).
	Private bool
}

// uploadChunk is how much of Body is read per write.
const uploadChunk = 256 << 10

// bodySize is the length of what r has left, or -1.
func bodySize(r io.Reader, given int64) int64 {
	if given > 0 {
		return given
	}
	switch b := r.(type) {
	case interface{ Len() int }:
		return int64(b.Len())
	case *os.File:
		if st, err := b.Stat(); err == nil && st.Mode().IsRegular() {
			if off, err := b.Seek(0, io.SeekCurrent); err == nil {
				return st.Size() - off
			}
		}
	}
	return -1
}

// Upload uploads in.Body or the file at in.Path under in.Key.
func (s *Storage) Upload(ctx context.Context, in UploadInput) (*UploadResult, error) {
	const op = "storage.upload"
	if err := ctx.Err(); err != nil {
		return nil, ctxError(op, err)
	}
	a := args{}.s("key", in.Key).s("content_type", in.ContentType).s("path", in.Path)
	if in.Private {
		a["public"] = false
	}
	body, _ := jsonMarshal(a)
	var p *ffi.Pending
	var err error
	switch {
	case in.Body != nil && in.Path != "":
		return nil, validation(op, "path", "storage.upload takes either Body or Path, not both")
	case in.Body != nil:
		var w *ffi.UploadWriter
		p, w, err = s.c.h.UploadStream(body, bodySize(in.Body, in.Size), in.Progress != nil)
		if err == nil {
			go feed(ctx, op, in.Body, w)
		}
	default:
		p, err = s.c.h.Upload(body, nil, in.Progress != nil)
	}
	if err != nil {
		return nil, fail(op, err)
	}
	var report func(ffi.Progress)
	if in.Progress != nil {
		report = func(pr ffi.Progress) { in.Progress(int64(pr.Sent), pr.Total) }
	}
	d, err := wait(ctx, op, p, report)
	if err != nil {
		return nil, err
	}
	var out UploadResult
	if err := decodeResult(d.JSON, &out); err != nil {
		return nil, decodeError(op, err)
	}
	if in.Progress != nil && out.Size != nil {
		in.Progress(*out.Size, *out.Size) // the final figures, even when reports were coalesced
	}
	return &out, nil
}

// feed writes r to the upload chunk by chunk, each write waiting until the engine queued the
// previous one (so at most a few chunks are in memory). It owns w and frees it when done: a
// Read that blocks after the upload ended only delays that.
func feed(ctx context.Context, op string, r io.Reader, w *ffi.UploadWriter) {
	defer w.Free()
	buf := make([]byte, uploadChunk)
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			p, err := w.Write(buf[:n])
			if err != nil {
				return // the upload ended (failed or cancelled): its outcome says why
			}
			if _, err := wait(ctx, op, p, nil); err != nil {
				return
			}
		}
		if rerr == io.EOF {
			_ = w.Finish()
			return
		}
		if rerr != nil {
			_ = w.Abort("reading the upload's Body failed: " + rerr.Error())
			return
		}
	}
}

// Object is a stored object's content.
type Object struct {
	Data        []byte
	ContentType string
}

// Get is the object's content.
func (s *Storage) Get(ctx context.Context, key string) (*Object, error) {
	const op = "storage.get"
	if err := ctx.Err(); err != nil {
		return nil, ctxError(op, err)
	}
	body, _ := jsonMarshal(args{}.s("key", key))
	p, err := s.c.h.Download(body)
	if err != nil {
		return nil, fail(op, err)
	}
	d, err := wait(ctx, op, p, nil)
	if err != nil {
		return nil, err
	}
	var meta struct {
		ContentType *string `json:"content_type"`
	}
	_ = jsonUnmarshal(d.JSON, &meta)
	o := &Object{Data: d.Data}
	if o.Data == nil {
		o.Data = []byte{}
	}
	if meta.ContentType != nil {
		o.ContentType = *meta.ContentType
	}
	return o, nil
}

// GetURL is the object's URL.
//
// With expiresIn (whole seconds, up to 7 days) the URL is a signed one that works that long for
// anyone who has it; a private object always gets one (1 h when expiresIn is not given).
func (s *Storage) GetURL(ctx context.Context, key string, expiresIn ...time.Duration) (string, error) {
	a := args{}.s("key", key)
	if len(expiresIn) > 0 {
		a["expires_in"] = int64(expiresIn[0] / time.Second)
	}
	return call[string](ctx, s.c, "storage.get_url", a)
}

// List is one page of objects (Objects, Truncated, Cursor).
func (s *Storage) List(ctx context.Context, prefix string, limit int, cursor string) (*StoragePage, error) {
	return call[*StoragePage](ctx, s.c, "storage.list", args{}.s("prefix", prefix).n("limit", limit).s("cursor", cursor))
}

// ListAll is every object under prefix, following the cursor page by page.
func (s *Storage) ListAll(ctx context.Context, prefix string, pageSize int) iter.Seq2[ObjectInfo, error] {
	return streamOf[ObjectInfo](ctx, s.c, "storage.list_all", args{}.s("prefix", prefix).n("page_size", pageSize))
}

// Delete deletes an object; whether it existed.
func (s *Storage) Delete(ctx context.Context, key string) (bool, error) {
	return call[bool](ctx, s.c, "storage.delete", args{}.s("key", key))
}

// Exists says whether an object exists.
func (s *Storage) Exists(ctx context.Context, key string) (bool, error) {
	return call[bool](ctx, s.c, "storage.exists", args{}.s("key", key))
}

// Metadata is the object's Key, Size, ContentType, LastModified and ETag, or nil when missing.
func (s *Storage) Metadata(ctx context.Context, key string) (*ObjectInfo, error) {
	return call[*ObjectInfo](ctx, s.c, "storage.metadata", args{}.s("key", key))
}

// Copy copies an object; the new object's URL.
func (s *Storage) Copy(ctx context.Context, sourceKey, destKey string) (string, error) {
	return call[string](ctx, s.c, "storage.copy", args{}.s("source_key", sourceKey).s("dest_key", destKey))
}

// Move moves (renames) an object; the new URL.
func (s *Storage) Move(ctx context.Context, sourceKey, destKey string) (string, error) {
	return call[string](ctx, s.c, "storage.move", args{}.s("source_key", sourceKey).s("dest_key", destKey))
}
