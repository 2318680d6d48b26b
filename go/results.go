package aerostack

import (
	"encoding/json"
	"time"
)

// The results the typed methods hand out. Every key the SDK owns is a Go field (its json tag is
// the surface's snake_case name, so json.Marshal gives back the wire shape); times are
// time.Time; the user's own data (rows, payloads, cached values, message data, tracked state,
// custom profile fields) stays Record/any exactly at the surface's user-data paths
// (bindings/common/src/user_data.rs, read from the library by userdata.go), keys as stored.
// TestResultTypesMatchTheSurface decodes what the local platform answers into these structs
// with DisallowUnknownFields, so a field the engine adds fails it.

// QueryMeta is what the database reported about a statement.
type QueryMeta struct {
	Changes    int64    `json:"changes"`
	LastRowID  int64    `json:"last_row_id"`
	DurationMs *float64 `json:"duration_ms"`
}

// QueryResult is the answer of a statement.
type QueryResult struct {
	// Results are the rows, each a column -> value object (column names as stored).
	Results []Record `json:"results"`
	// Count is the number of rows.
	Count int64      `json:"count"`
	Meta  *QueryMeta `json:"meta,omitempty"`
}

// BatchItem is one statement's outcome in a batch.
type BatchItem struct {
	Results []Record   `json:"results"`
	Success bool       `json:"success"`
	Error   *string    `json:"error,omitempty"`
	Meta    *QueryMeta `json:"meta,omitempty"`
}

// BatchResult is the answer of DB.Batch.
type BatchResult struct {
	Results []BatchItem `json:"results"`
	Success bool        `json:"success"`
}

// User is an end user. CustomFields and Metadata are the project's own data, as stored.
type User struct {
	ID              string     `json:"id"`
	Email           *string    `json:"email"`
	Phone           *string    `json:"phone,omitempty"`
	Name            *string    `json:"name"`
	EmailVerified   bool       `json:"email_verified"`
	EmailVerifiedAt *time.Time `json:"email_verified_at"`
	AvatarURL       *string    `json:"avatar_url"`
	CustomFields    Record     `json:"custom_fields,omitempty"`
	Metadata        Record     `json:"metadata,omitempty"`
	CreatedAt       *time.Time `json:"created_at"`
}

// AuthSession is a signed-in session; AccessToken is nil when the project wants the email
// verified first (RequiresVerification).
type AuthSession struct {
	AccessToken          *string    `json:"access_token"`
	RefreshToken         *string    `json:"refresh_token"`
	ExpiresAt            *time.Time `json:"expires_at"`
	User                 *User      `json:"user"`
	RequiresVerification bool       `json:"requires_verification"`
}

// OTPSent is the answer of Auth.SendOTP.
type OTPSent struct {
	Message       *string `json:"message,omitempty"`
	AccountExists *bool   `json:"account_exists,omitempty"`
}

// ActionResult is the answer of an action (verify email, reset password, logout...).
type ActionResult struct {
	Success bool    `json:"success"`
	Message *string `json:"message,omitempty"`
}

// CacheKey is a key of Cache.List / Cache.ListAll and when it expires (nil: never).
type CacheKey struct {
	Key        string     `json:"key"`
	Expiration *time.Time `json:"expiration"`
}

// CacheListPage is one page of Cache.List.
type CacheListPage struct {
	Keys         []CacheKey `json:"keys"`
	ListComplete bool       `json:"list_complete"`
	Cursor       *string    `json:"cursor"`
}

// DeleteManyResult is the answer of Cache.DeleteMany: keys requested, keys deleted.
type DeleteManyResult struct {
	Count   int64 `json:"count"`
	Deleted int64 `json:"deleted"`
}

// EnqueueResult is the answer of Queue.Send / Queue.Enqueue.
type EnqueueResult struct {
	JobID string `json:"job_id"`
}

// GatewayWallet is an AI-gateway consumer's wallet, in tokens.
type GatewayWallet struct {
	Balance        int64   `json:"balance"`
	TotalPurchased int64   `json:"total_purchased"`
	TotalConsumed  int64   `json:"total_consumed"`
	PlanType       *string `json:"plan_type"`
	HardLimit      *int64  `json:"hard_limit"`
	SoftLimit      *int64  `json:"soft_limit"`
}

// GatewayUsageDay is a consumer's usage on one UTC day (Date is YYYY-MM-DD).
type GatewayUsageDay struct {
	Date     string `json:"date"`
	Tokens   int64  `json:"tokens"`
	Requests int64  `json:"requests"`
}

// GatewayUsage is a consumer's usage over the last days; Days holds the days with usage, oldest first.
type GatewayUsage struct {
	TotalTokens   int64             `json:"total_tokens"`
	TotalRequests int64             `json:"total_requests"`
	Days          []GatewayUsageDay `json:"days"`
}

// BillingLogged is the answer of Gateway.BillingLog.
type BillingLogged struct {
	Success     bool  `json:"success"`
	LoggedUnits int64 `json:"logged_units"`
}

// CollectionItem is an item of a collection; Data is the caller's, as stored.
type CollectionItem struct {
	ID         string `json:"id"`
	Collection string `json:"collection"`
	// Slug is data's "slug" when that is a string.
	Slug      *string    `json:"slug"`
	Data      Record     `json:"data"`
	CreatedAt *time.Time `json:"created_at"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// CollectionPage is one page of Collection.List; Cursor is nil on the last page.
type CollectionPage struct {
	Items  []CollectionItem `json:"items"`
	Count  int64            `json:"count"`
	Cursor *string          `json:"cursor"`
}

// JobAttempt is one attempt of a job.
type JobAttempt struct {
	Attempt   int64      `json:"attempt"`
	StartedAt *time.Time `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	Outcome   *string    `json:"outcome"`
	Error     *string    `json:"error"`
}

// JobRecord is a background job: Data is what it was sent with, Result what its handler
// answered (both as sent).
type JobRecord struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data any    `json:"data"`
	// Status is queued, running, completed, failed or cancelled.
	Status     string       `json:"status"`
	Attempts   int64        `json:"attempts"`
	MaxRetries *int64       `json:"max_retries"`
	LastError  *string      `json:"last_error"`
	Result     any          `json:"result"`
	ProjectID  *string      `json:"project_id,omitempty"`
	CreatedAt  *time.Time   `json:"created_at"`
	UpdatedAt  *time.Time   `json:"updated_at"`
	RunAt      *time.Time   `json:"run_at"`
	History    []JobAttempt `json:"history,omitempty"`
}

// JobsPage is one page of Queue.Jobs.
type JobsPage struct {
	Jobs         []JobRecord `json:"jobs"`
	ListComplete bool        `json:"list_complete"`
	Cursor       *string     `json:"cursor"`
}

// CancelResult is the answer of Queue.Cancel.
type CancelResult struct {
	Success bool    `json:"success"`
	Note    *string `json:"note,omitempty"`
}

// UploadResult is a stored object's URL and facts.
type UploadResult struct {
	URL         string  `json:"url"`
	Key         string  `json:"key"`
	Size        *int64  `json:"size"`
	ContentType *string `json:"content_type"`
	ETag        *string `json:"etag"`
}

// ObjectInfo describes a stored object (Storage.Metadata, Storage.List).
type ObjectInfo struct {
	Key          string     `json:"key"`
	Size         *int64     `json:"size"`
	ContentType  *string    `json:"content_type"`
	LastModified *time.Time `json:"last_modified"`
	ETag         *string    `json:"etag"`
}

// StoragePage is one page of Storage.List.
type StoragePage struct {
	Objects   []ObjectInfo `json:"objects"`
	Truncated bool         `json:"truncated"`
	Cursor    *string      `json:"cursor"`
}

// Usage is a completion's token counts.
type Usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// ChatResponse is the answer of AI.Chat.
type ChatResponse struct {
	Text         string  `json:"text"`
	Model        *string `json:"model"`
	Usage        *Usage  `json:"usage"`
	FinishReason *string `json:"finish_reason,omitempty"`
	ID           *string `json:"id,omitempty"`
}

// Completion is the answer of AI.Complete.
type Completion struct {
	Text  string  `json:"text"`
	Usage *Usage  `json:"usage"`
	Model *string `json:"model"`
}

// SearchResult is a document found by AI.Search.Query (Metadata is yours).
type SearchResult struct {
	ID       string   `json:"id"`
	Content  string   `json:"content"`
	Score    *float64 `json:"score"`
	Type     *string  `json:"type"`
	Metadata Record   `json:"metadata"`
}

// SearchDocument is a document of AI.Search.Get (Metadata is yours).
type SearchDocument = SearchResult

// IngestResult is the answer of AI.Search.Ingest.
type IngestResult struct {
	Success bool    `json:"success"`
	ID      *string `json:"id"`
}

// TypeCount is one document type of AI.Search.ListTypes.
type TypeCount struct {
	Type  string `json:"type"`
	Count int64  `json:"count"`
}

// InvokeResult is the answer of Services.Invoke: Result is what the service answered.
type InvokeResult struct {
	Success bool `json:"success"`
	Result  any  `json:"result"`
}

// EmitResult is the answer of Socket.Emit.
type EmitResult struct {
	ID        string     `json:"id"`
	Topic     string     `json:"topic"`
	Timestamp *time.Time `json:"timestamp"`
	Delivered int64      `json:"delivered"`
	Persisted bool       `json:"persisted"`
}

// PublishAck is the platform's ack of Channel.Publish.
type PublishAck struct {
	ID        string     `json:"id"`
	Timestamp *time.Time `json:"timestamp"`
	Persisted bool       `json:"persisted"`
}

// PresenceEntry is one connection present on a channel (State is what it tracked).
type PresenceEntry struct {
	Key      string     `json:"key"`
	State    Record     `json:"state"`
	UserID   *string    `json:"user_id"`
	JoinedAt *time.Time `json:"joined_at"`
}

// HistoryMessage is a persisted realtime message (Data as published).
type HistoryMessage struct {
	ID        *string   `json:"id"`
	RoomID    *string   `json:"room_id"`
	UserID    *string   `json:"user_id"`
	Event     string    `json:"event"`
	Data      any       `json:"data"`
	CreatedAt time.Time `json:"created_at"`
	// Seq is the order of storage: with CreatedAt a strict total order.
	Seq *int64 `json:"seq"`
}

// OutboxMessage is an email the local platform "sent" (OTP codes, verification and reset
// tokens).
type OutboxMessage struct {
	ID        string     `json:"id"`
	To        string     `json:"to"`
	Kind      string     `json:"kind"`
	Subject   string     `json:"subject"`
	Body      string     `json:"body"`
	Code      *string    `json:"code"`
	Token     *string    `json:"token"`
	CreatedAt *time.Time `json:"created_at"`
}

// ServedNow is what the project's connected workers serve now.
type ServedNow struct {
	Workers int64    `json:"workers"`
	Modules []string `json:"modules"`
	Events  []string `json:"events"`
	Jobs    []string `json:"jobs"`
}

// PresenceReport is the data of a presence event (RealtimeEvent.Presence): one connection that
// joined, left or changed its state (Key, State, UserID, JoinedAt), or the channel's whole
// presence (Presences), or what changed (Joins, Leaves). State is what the connection tracked.
type PresenceReport struct {
	Key       string          `json:"key,omitempty"`
	State     Record          `json:"state,omitempty"`
	UserID    *string         `json:"user_id,omitempty"`
	JoinedAt  *time.Time      `json:"joined_at,omitempty"`
	Presences []PresenceEntry `json:"presences,omitempty"`
	Joins     []PresenceEntry `json:"joins,omitempty"`
	Leaves    []PresenceEntry `json:"leaves,omitempty"`
}

// eventWire is a realtime event as the surface hands it out; the tests' strict decoding checks
// each event against it, so a key the engine adds to events fails them until RealtimeEvent has it.
type eventWire struct {
	Kind      string          `json:"kind"`
	Topic     *string         `json:"topic"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Old       json.RawMessage `json:"old"`
	UserID    *string         `json:"user_id"`
	ID        *string         `json:"id"`
	Persisted bool            `json:"persisted"`
	Replayed  bool            `json:"replayed"`
	Timestamp *time.Time      `json:"timestamp"`
	Status    *string         `json:"status"`
	Listeners []uint64        `json:"listeners"`
}

// decodeEvent reads a pulled event: its typed fields (checked strictly under the tests: a
// panic names the key RealtimeEvent lacks), Raw (the whole event, times converted, with Data and
// Old taken from it) and the listeners it is for. ok is false for an event that is not JSON.
func decodeEvent(b []byte) (ev RealtimeEvent, listeners []uint64, ok bool) {
	var w eventWire
	if err := decodeResult(b, &w); err != nil {
		if strictResults {
			panic("realtime.event: RealtimeEvent is behind the surface (" + err.Error() + "): " + string(b))
		}
		return ev, nil, false
	}
	if json.Unmarshal(b, &ev.Raw) != nil {
		return ev, nil, false
	}
	withTimes("realtime.event", ev.Raw)
	if w.Kind == "presence" {
		withTimes("realtime.presence_event", ev.Raw)
		if len(w.Data) > 0 && string(w.Data) != "null" {
			var pr PresenceReport
			if err := decodeResult(w.Data, &pr); err == nil {
				ev.Presence = &pr
			} else if strictResults {
				panic("realtime.presence_event: the PresenceReport struct is behind the surface: " + string(w.Data))
			}
		}
	}
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	ev.Kind, ev.Topic, ev.Event, ev.Status = w.Kind, deref(w.Topic), w.Event, deref(w.Status)
	ev.Data, ev.Old = ev.Raw["data"], ev.Raw["old"] // the same values, with presence times converted
	ev.UserID, ev.ID, ev.Persisted, ev.Replayed = deref(w.UserID), deref(w.ID), w.Persisted, w.Replayed
	if w.Timestamp != nil {
		ev.Timestamp = w.Timestamp.UTC()
	}
	return ev, w.Listeners, true
}
