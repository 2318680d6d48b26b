package aerostack

import (
	"context"
	"encoding/json"
)

// DB is the project's SQL database.
type DB struct{ c *Client }

// Statement is one statement of a batch.
type Statement struct {
	SQL    string `json:"sql"`
	Params []any  `json:"params,omitempty"`
}

func queryArgs(sql string, params []any) args {
	a := args{}.s("sql", sql)
	if len(params) > 0 {
		a["params"] = params
	}
	return a
}

// Query runs one statement with its parameters (? placeholders).
func (d *DB) Query(ctx context.Context, sql string, params ...any) (*QueryResult, error) {
	return call[*QueryResult](ctx, d.c, "db.query", queryArgs(sql, params))
}

// QueryOne is the first row, or nil.
func (d *DB) QueryOne(ctx context.Context, sql string, params ...any) (Record, error) {
	return call[Record](ctx, d.c, "db.query_one", queryArgs(sql, params))
}

// Batch runs up to 25 statements in one transaction: all or nothing.
func (d *DB) Batch(ctx context.Context, statements []Statement) (*BatchResult, error) {
	a := args{}
	if statements != nil {
		a["queries"] = statements
	}
	return call[*BatchResult](ctx, d.c, "db.batch", a)
}

// QueryAs runs a statement and decodes its rows into T (a struct with json tags, or a map):
//
//	type User struct{ ID int `json:"id"`; Email string `json:"email"` }
//	users, err := aerostack.QueryAs[User](ctx, client.DB, "SELECT id, email FROM users")
func QueryAs[T any](ctx context.Context, d *DB, sql string, params ...any) ([]T, error) {
	raw, err := d.c.raw(ctx, "db.query", queryArgs(sql, params))
	if err != nil {
		return nil, err
	}
	var out struct {
		Results []T `json:"results"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, decodeError("db.query", err)
	}
	return out.Results, nil
}

// QueryOneAs is QueryAs for the first row; ok is false when there is none.
func QueryOneAs[T any](ctx context.Context, d *DB, sql string, params ...any) (row T, ok bool, err error) {
	raw, err := d.c.raw(ctx, "db.query_one", queryArgs(sql, params))
	if err != nil || string(raw) == "null" {
		return row, false, err
	}
	if err := json.Unmarshal(raw, &row); err != nil {
		return row, false, decodeError("db.query_one", err)
	}
	return row, true, nil
}
