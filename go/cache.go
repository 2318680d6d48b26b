package aerostack

import (
	"context"
	"iter"
	"time"
)

// Cache is the key-value cache with TTLs.
type Cache struct{ c *Client }

func ttlArgs(a args, ttl time.Duration) args {
	if ttl > 0 {
		secs := int64(ttl / time.Second)
		if secs == 0 {
			secs = 1
		}
		a["ttl"] = secs
	}
	return a
}

// Get is the value (any JSON value), or nil when the key is missing or expired.
func (c *Cache) Get(ctx context.Context, key string) (any, error) {
	return call[any](ctx, c.c, "cache.get", args{}.s("key", key))
}

// GetAs decodes the value into T; ok is false when the key is missing.
func GetAs[T any](ctx context.Context, c *Cache, key string) (v T, ok bool, err error) {
	p, err := call[*T](ctx, c.c, "cache.get", args{}.s("key", key))
	if err != nil || p == nil {
		return v, false, err
	}
	return *p, true, nil
}

// Set stores any JSON value, for ttl when positive (whole seconds).
func (c *Cache) Set(ctx context.Context, key string, value any, ttl time.Duration) error {
	a := args{}.s("key", key)
	a["value"] = value
	_, err := c.c.raw(ctx, "cache.set", ttlArgs(a, ttl))
	return err
}

// Has says whether the key exists.
func (c *Cache) Has(ctx context.Context, key string) (bool, error) {
	return call[bool](ctx, c.c, "cache.has", args{}.s("key", key))
}

// Delete deletes a key; whether it existed.
func (c *Cache) Delete(ctx context.Context, key string) (bool, error) {
	return call[bool](ctx, c.c, "cache.delete", args{}.s("key", key))
}

// GetMany is the values of the keys that exist.
func (c *Cache) GetMany(ctx context.Context, keys []string) (map[string]any, error) {
	return call[map[string]any](ctx, c.c, "cache.get_many", args{}.v("keys", nilIfEmpty(keys)))
}

// CacheEntry is one entry of SetMany.
type CacheEntry struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
	// TTL in whole seconds; 0 keeps it forever.
	TTL int64 `json:"ttl,omitempty"`
}

// SetMany stores entries; how many were stored.
func (c *Cache) SetMany(ctx context.Context, entries []CacheEntry) (int64, error) {
	a := args{}
	if entries != nil {
		a["entries"] = entries
	}
	return call[int64](ctx, c.c, "cache.set_many", a)
}

// DeleteMany deletes keys; Count requested, Deleted actually deleted.
func (c *Cache) DeleteMany(ctx context.Context, keys []string) (*DeleteManyResult, error) {
	return call[*DeleteManyResult](ctx, c.c, "cache.delete_many", args{}.v("keys", nilIfEmpty(keys)))
}

// List is one page of keys (Keys with their Expiration, ListComplete, Cursor).
func (c *Cache) List(ctx context.Context, prefix string, limit int, cursor string) (*CacheListPage, error) {
	return call[*CacheListPage](ctx, c.c, "cache.list", args{}.s("prefix", prefix).n("limit", limit).s("cursor", cursor))
}

// ListAll is every key under prefix (Key, Expiration), following the cursor page by page
// (pageSize keys a page; 0: 100):
//
//	for entry, err := range client.Cache.ListAll(ctx, "user:", 0) { ... }
func (c *Cache) ListAll(ctx context.Context, prefix string, pageSize int) iter.Seq2[CacheKey, error] {
	return streamOf[CacheKey](ctx, c.c, "cache.list_all", args{}.s("prefix", prefix).n("page_size", pageSize))
}

// Keys is every key name (with the prefix when given).
func (c *Cache) Keys(ctx context.Context, prefix string) ([]string, error) {
	return call[[]string](ctx, c.c, "cache.keys", args{}.s("prefix", prefix))
}

// Flush deletes every key (with the prefix when given); how many.
func (c *Cache) Flush(ctx context.Context, prefix string) (int64, error) {
	return call[int64](ctx, c.c, "cache.flush", args{}.s("prefix", prefix))
}

// Expire sets a key's time to live; whether the key exists.
func (c *Cache) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	a := ttlArgs(args{}.s("key", key), ttl)
	return call[bool](ctx, c.c, "cache.expire", a)
}

// IncrementOptions are the optional arguments of Increment.
type IncrementOptions struct {
	// InitialValue is the value a missing key starts from.
	InitialValue *int64
	TTL          time.Duration
}

// Increment adds amount (may be negative) and returns the new value.
func (c *Cache) Increment(ctx context.Context, key string, amount int64, opts *IncrementOptions) (int64, error) {
	a := args{}.s("key", key)
	a["amount"] = amount
	if opts != nil {
		a.v("initial_value", opts.InitialValue)
		if opts.InitialValue == nil {
			delete(a, "initial_value")
		}
		ttlArgs(a, opts.TTL)
	}
	return call[int64](ctx, c.c, "cache.increment", a)
}

func nilIfEmpty[T any](s []T) any {
	if s == nil {
		return nil
	}
	return s
}
