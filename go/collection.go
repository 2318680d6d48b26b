package aerostack

import (
	"context"
	"iter"
)

// Collection is JSON documents by name (client.DB.Collection("posts"), the official SDK's
// db.collection(name)). An item's Data is the caller's, as stored. Changes reach realtime
// subscribers of the collection (client.Realtime.Channel("posts")) as INSERT, UPDATE and DELETE.
type Collection struct {
	c *Client
	// Name is the collection's name.
	Name string
}

// Collection is the collection name (1-64 letters, digits, _ or -; the engine checks it on the
// first call).
func (d *DB) Collection(name string) *Collection { return &Collection{c: d.c, Name: name} }

// CollectionQuery selects items: Filter keeps those whose data fields equal the given values
// (strings, numbers, booleans); Limit is the page size (platform default 50); Order is "asc"
// (oldest first, the default) or "desc".
type CollectionQuery struct {
	Filter map[string]any
	Limit  int
	Cursor string
	Order  string
}

func (col *Collection) args(q CollectionQuery) args {
	a := args{}.s("collection", col.Name).s("cursor", q.Cursor).s("order", q.Order)
	if len(q.Filter) > 0 {
		a["filter"] = q.Filter
	}
	return a
}

// List is one page of items (Items, Count, Cursor: nil on the last page).
func (col *Collection) List(ctx context.Context, q CollectionQuery) (*CollectionPage, error) {
	return call[*CollectionPage](ctx, col.c, "db.collection.list", col.args(q).n("limit", q.Limit))
}

// ListAll is every matching item, page by page (q.Limit items a page, from q.Cursor when given).
func (col *Collection) ListAll(ctx context.Context, q CollectionQuery) iter.Seq2[CollectionItem, error] {
	return streamOf[CollectionItem](ctx, col.c, "db.collection.list_all", col.args(q).n("page_size", q.Limit))
}

// Get is the item, or nil when there is no item id.
func (col *Collection) Get(ctx context.Context, id string) (*CollectionItem, error) {
	return call[*CollectionItem](ctx, col.c, "db.collection.get", args{"collection": col.Name, "id": id})
}

// Create adds an item whose data is data (a map or a struct: a JSON object); the stored item.
func (col *Collection) Create(ctx context.Context, data any) (*CollectionItem, error) {
	return call[*CollectionItem](ctx, col.c, "db.collection.create", args{"collection": col.Name, "data": data})
}

// Update replaces the data of item id; the updated item (ErrNotFound when there is none).
func (col *Collection) Update(ctx context.Context, id string, data any) (*CollectionItem, error) {
	return call[*CollectionItem](ctx, col.c, "db.collection.update", args{"collection": col.Name, "id": id, "data": data})
}

// Delete deletes item id; whether it existed.
func (col *Collection) Delete(ctx context.Context, id string) (bool, error) {
	return call[bool](ctx, col.c, "db.collection.delete", args{"collection": col.Name, "id": id})
}
