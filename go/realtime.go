package aerostack

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/aerostack/aerostack-sdk/go/internal/ffi"
)

// Socket is server-side broadcast to realtime rooms.
type Socket struct{ c *Client }

// Emit sends event with data to every subscriber of room; what was delivered (ID, Topic,
// Timestamp, Delivered, Persisted).
func (s *Socket) Emit(ctx context.Context, event string, data any, room string) (*EmitResult, error) {
	return call[*EmitResult](ctx, s.c, "realtime.emit", args{}.s("event", event).v("data", data).s("room", room))
}

// RealtimeEvent is one event of a channel.
type RealtimeEvent struct {
	// Kind is db, broadcast, presence, subscribed, status, ...
	Kind  string `json:"kind"`
	Topic string `json:"topic"`
	// Event is INSERT/UPDATE/DELETE, a published name, presence:join, ...
	Event string `json:"event"`
	Data  any    `json:"data"`
	// Old is the row before an UPDATE or DELETE.
	Old       any    `json:"old"`
	UserID    string `json:"user_id"`
	ID        string `json:"id"`
	Persisted bool   `json:"persisted"`
	Replayed  bool   `json:"replayed"`
	// Status is the connection's status on a status event (connecting, connected,
	// reconnecting, disconnected).
	Status string `json:"status"`
	// Timestamp is when the platform sent it (zero when it did not say).
	Timestamp time.Time `json:"-"`
	// Presence is the platform's presence report of a presence event (Kind "presence"; nil
	// otherwise): the same value as Data, typed.
	Presence *PresenceReport `json:"-"`
	// Raw is the whole event.
	Raw Record `json:"-"`

	listeners []uint64
}

// Realtime is the realtime connection of a client (one WebSocket, opened on first use,
// reconnecting with catch-up by itself). Events are pulled by one goroutine per connection and
// handed to the channels' Go channels and listeners.
type Realtime struct {
	c        *Client
	mu       sync.Mutex
	opts     []byte
	h        *ffi.Realtime
	channels map[string]*Channel
	routes   map[uint64]func(RealtimeEvent)
	// conn are the listeners of the connection's own status and error events.
	conn     map[uint64]func(RealtimeEvent)
	nextConn uint64
	stop     chan struct{}
}

// gaveUp is the reason of the error event that ends the connection after MaxReconnectAttempts
// (the engine's realtime::GAVE_UP).
const gaveUp = "max_reconnect_attempts"

func (r *Realtime) handle() (*ffi.Realtime, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h != nil {
		return r.h, nil
	}
	h, err := r.c.h.Realtime(r.opts)
	if err != nil {
		return nil, fail("realtime", err)
	}
	r.h, r.channels, r.routes, r.stop = h, map[string]*Channel{}, map[uint64]func(RealtimeEvent){}, make(chan struct{})
	go r.pump(h, r.stop)
	return h, nil
}

// pump pulls the connection's events and routes them by listener id.
func (r *Realtime) pump(h *ffi.Realtime, stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		p, err := h.NextEvent(250)
		if err != nil {
			return
		}
		d := <-p.Done
		if d.Err != nil || d.JSON == nil {
			continue
		}
		ev, listeners, ok := decodeEvent(d.JSON)
		if !ok {
			continue
		}
		r.mu.Lock()
		var fns []func(RealtimeEvent)
		for _, id := range listeners {
			if f := r.routes[id]; f != nil {
				fns = append(fns, f)
			}
		}
		if ev.Kind == "status" || ev.Kind == "error" {
			for _, f := range r.conn {
				fns = append(fns, f)
			}
		}
		r.mu.Unlock()
		for _, f := range fns {
			f(ev)
		}
	}
}

// RealtimeOptions tune the realtime connection; zero fields keep the engine's defaults.
type RealtimeOptions struct {
	HeartbeatInterval time.Duration
	PongTimeout       time.Duration
	ConnectTimeout    time.Duration
	AckTimeout        time.Duration
	// BackoffInitial, BackoffMax and BackoffFactor shape the waits between reconnect attempts.
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	BackoffFactor  float64
	// MaxReconnectAttempts gives up after that many (0: never).
	MaxReconnectAttempts int
	// OutboxCapacity is how many publishes wait while disconnected.
	OutboxCapacity int
	// NoCatchUp turns off replaying persisted messages missed while disconnected.
	NoCatchUp bool
	// Token is an end user's access token to act as.
	Token string
}

// Configure sets the connection's options; call it before the first use of Realtime (an error
// after: the connection exists already).
func (r *Realtime) Configure(o RealtimeOptions) error {
	m := Record{}
	ms := func(k string, d time.Duration) {
		if d > 0 {
			m[k] = d.Milliseconds()
		}
	}
	ms("heartbeat_interval_ms", o.HeartbeatInterval)
	ms("pong_timeout_ms", o.PongTimeout)
	ms("connect_timeout_ms", o.ConnectTimeout)
	ms("ack_timeout_ms", o.AckTimeout)
	ms("backoff_initial_ms", o.BackoffInitial)
	ms("backoff_max_ms", o.BackoffMax)
	if o.BackoffFactor > 0 {
		m["backoff_factor"] = o.BackoffFactor
	}
	if o.MaxReconnectAttempts > 0 {
		m["max_reconnect_attempts"] = o.MaxReconnectAttempts
	}
	if o.OutboxCapacity > 0 {
		m["outbox_capacity"] = o.OutboxCapacity
	}
	if o.NoCatchUp {
		m["catch_up"] = false
	}
	if o.Token != "" {
		m["token"] = o.Token
	}
	b, _ := json.Marshal(m)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h != nil {
		return validation("realtime.configure", "options", "Realtime.Configure must come before the first use of client.Realtime (the connection exists already)")
	}
	r.opts = b
	return nil
}

// Disconnect closes the socket (the channels stay; Connect opens it again and catches up on
// the persisted messages missed meanwhile).
func (r *Realtime) Disconnect(ctx context.Context) error {
	h, err := r.handle()
	if err != nil {
		return err
	}
	p, err := h.Disconnect()
	if err != nil {
		return fail("realtime.disconnect", err)
	}
	_, err = wait(ctx, "realtime.disconnect", p, nil)
	return err
}

// Connect opens the socket and waits until connected.
func (r *Realtime) Connect(ctx context.Context) error {
	h, err := r.handle()
	if err != nil {
		return err
	}
	p, err := h.Connect()
	if err != nil {
		return fail("realtime.connect", err)
	}
	_, err = wait(ctx, "realtime.connect", p, nil)
	return err
}

// SetToken acts as the end user of token.
func (r *Realtime) SetToken(token string) error {
	h, err := r.handle()
	if err != nil {
		return err
	}
	return fail("realtime.set_token", h.SetToken(token))
}

// Status is idle, connecting, connected, reconnecting or disconnected.
func (r *Realtime) Status() string {
	h, err := r.handle()
	if err != nil {
		return "disconnected"
	}
	b, _ := h.Status()
	var s struct{ Status string }
	_ = json.Unmarshal(b, &s)
	return s.Status
}

// OnStatusChange calls fn(status) (connecting, connected, reconnecting, disconnected) on every
// change of the connection's status, on the connection's event goroutine; the returned function
// removes it.
func (r *Realtime) OnStatusChange(fn func(status string)) (remove func()) {
	return r.onConnection(func(ev RealtimeEvent) {
		if ev.Kind == "status" {
			fn(ev.Status)
		}
	})
}

// OnMaxRetriesExceeded calls fn once the connection gives up after
// RealtimeOptions.MaxReconnectAttempts failed reconnects; the returned function removes it.
func (r *Realtime) OnMaxRetriesExceeded(fn func()) (remove func()) {
	return r.onConnection(func(ev RealtimeEvent) {
		if ev.Kind == "error" && ev.Raw != nil {
			if d, ok := ev.Raw["data"].(map[string]any); ok && d["reason"] == gaveUp {
				fn()
			}
		}
	})
}

func (r *Realtime) onConnection(fn func(RealtimeEvent)) func() {
	if _, err := r.handle(); err != nil {
		return func() {}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn == nil {
		r.conn = map[uint64]func(RealtimeEvent){}
	}
	r.nextConn++
	id := r.nextConn
	r.conn[id] = fn
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.conn, id)
	}
}

// SendChat is the official clients' SendChat: text (and metadata, nil for none) as a persisted
// "message" event of chat room roomID, for every subscriber of the room (ChatRoom).
func (r *Realtime) SendChat(roomID, text string, metadata Record) error {
	h, err := r.handle()
	if err != nil {
		return err
	}
	b, err := json.Marshal(metadata)
	if err != nil {
		return fail("realtime.send_chat", err)
	}
	return fail("realtime.send_chat", h.SendChat(roomID, text, b))
}

// ChatRoom is the channel of chat room roomID ("chat/{roomID}"), where SendChat messages arrive
// as "message" events.
func (r *Realtime) ChatRoom(roomID string) *Channel {
	return r.Channel("chat/" + roomID)
}

// Channel is the channel of name: a table ("orders": its INSERT/UPDATE/DELETE events) or a
// room path ("chat/general"). The same *Channel for the same name.
//
// An optional filter (a table's row filter, the official Channel(topic, filter)) lets only the
// rows it matches arrive: a map of column to value or "op.value" (eq, neq, gt, gte, lt, lte,
// "in.(1,2)", "is.null"), e.g. map[string]any{"status": "open", "priority": "gte.3"}, or a
// string like "status=eq.open". It replaces the channel's filter (an empty map removes it); nil
// leaves it. The platform refuses an unknown column: Subscribe returns its error.
func (r *Realtime) Channel(name string, filter ...any) *Channel {
	h, err := r.handle()
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.channels[name]
	var f any
	if len(filter) > 0 {
		f = filter[0]
	}
	if ok && f == nil && len(filter) <= 1 {
		return ch
	}
	if !ok {
		ch = &Channel{rt: r, name: name}
		r.channels[name] = ch
	}
	ch.err = err
	if err == nil {
		ch.err = ch.open(h, f, len(filter))
	}
	return ch
}

// open subscribes with filter f (nil: keep the channel's); the channel keeps its first handle.
func (ch *Channel) open(h *ffi.Realtime, f any, count int) error {
	if count > 1 {
		return validation("realtime.channel", "filter", "realtime.channel takes at most one filter: one map (or string), e.g. map[string]any{\"status\": \"open\"}")
	}
	b, err := json.Marshal(f)
	if err != nil {
		return validation("realtime.channel", "filter", "the channel filter cannot be sent as JSON: "+err.Error())
	}
	n, err := h.Channel(ch.name, b)
	if err != nil {
		return fail("realtime.channel", err)
	}
	if ch.h == nil {
		ch.h = n
	} else {
		n.Free()
	}
	return nil
}

func (r *Realtime) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h == nil {
		return
	}
	close(r.stop)
	if p, err := r.h.Disconnect(); err == nil {
		go func() { <-p.Done }()
	}
}

// Channel is one topic: events (Events, On), Publish, presence (Track), History.
type Channel struct {
	rt        *Realtime
	name      string
	h         *ffi.Channel
	err       error
	mu        sync.Mutex
	events    chan RealtimeEvent
	listeners []ListenerID
}

// Subscribe waits until the platform confirmed the subscription (at most ctx's deadline, or
// 10 s). The subscription itself started with Realtime.Channel.
func (c *Channel) Subscribe(ctx context.Context) error {
	if c.err != nil {
		return c.err
	}
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	p, err := c.h.WaitSubscribed(uint64(max(timeout.Milliseconds(), 1)))
	if err != nil {
		return fail("realtime.subscribe", err)
	}
	_, err = wait(ctx, "realtime.subscribe", p, nil)
	return err
}

// ListenerID names a listener added with On, for Off.
type ListenerID uint64

// On calls fn for every event matching event (a published name, INSERT/UPDATE/DELETE,
// presence:join/leave/sync, presence:*, or * for all), on the connection's event goroutine
// (keep it short); Off(id) removes it.
func (c *Channel) On(event string, fn func(RealtimeEvent)) (ListenerID, error) {
	if c.err != nil {
		return 0, c.err
	}
	id, err := c.on(event, fn)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.listeners = append(c.listeners, ListenerID(id))
	c.mu.Unlock()
	return ListenerID(id), nil
}

func (c *Channel) on(event string, fn func(RealtimeEvent)) (uint64, error) {
	id, err := c.h.On(event)
	if err != nil {
		return 0, fail("realtime.on", err)
	}
	c.rt.mu.Lock()
	c.rt.routes[id] = fn
	c.rt.mu.Unlock()
	return id, nil
}

// Off removes the listeners ids (added with On); with none, every listener added with On
// (the Events feed stays).
func (c *Channel) Off(ids ...ListenerID) {
	if c.err != nil {
		return
	}
	c.mu.Lock()
	if len(ids) == 0 {
		ids = c.listeners
	}
	gone := map[ListenerID]bool{}
	for _, id := range ids {
		gone[id] = true
	}
	kept := c.listeners[:0:0]
	for _, id := range c.listeners {
		if !gone[id] {
			kept = append(kept, id)
		}
	}
	c.listeners = kept
	c.mu.Unlock()
	for id := range gone {
		c.h.Off(uint64(id))
		c.rt.mu.Lock()
		delete(c.rt.routes, uint64(id))
		c.rt.mu.Unlock()
	}
}

// Events is every event of the channel on a Go channel (buffered 1024; when the reader falls
// behind, the newest events are dropped).
func (c *Channel) Events() <-chan RealtimeEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.events == nil {
		c.events = make(chan RealtimeEvent, 1024)
		_, _ = c.on("*", func(ev RealtimeEvent) {
			select {
			case c.events <- ev:
			default:
			}
		})
	}
	return c.events
}

// PublishOptions are the options of Publish.
type PublishOptions struct {
	// Persist keeps the message for History and catch-up.
	Persist bool
	Timeout time.Duration
}

// Publish sends event with data to the other subscribers; the platform's ack (ID, Timestamp,
// Persisted).
func (c *Channel) Publish(ctx context.Context, event string, data any, o *PublishOptions) (*PublishAck, error) {
	if c.err != nil {
		return nil, c.err
	}
	db, err := json.Marshal(data)
	if err != nil {
		return nil, validation("realtime.publish", "data", err.Error())
	}
	opts := Record{}
	if o != nil {
		opts["persist"] = o.Persist
		if o.Timeout > 0 {
			opts["timeout_ms"] = o.Timeout.Milliseconds()
		}
	}
	ob, _ := json.Marshal(opts)
	p, err := c.h.Publish(event, db, ob)
	if err != nil {
		return nil, fail("realtime.publish", err)
	}
	d, err := wait(ctx, "realtime.publish", p, nil)
	if err != nil {
		return nil, err
	}
	var ack PublishAck
	if err := decodeResult(d.JSON, &ack); err != nil {
		return nil, decodeError("realtime.publish", err)
	}
	return &ack, nil
}

// Track is being present here with state; others get presence:join. Kept across reconnects.
func (c *Channel) Track(state Record) error {
	if c.err != nil {
		return c.err
	}
	b, _ := json.Marshal(state)
	return fail("realtime.track", c.h.Track(b))
}

// Untrack stops being present.
func (c *Channel) Untrack() error {
	if c.err != nil {
		return c.err
	}
	return fail("realtime.untrack", c.h.Untrack())
}

// Presence is everyone present (Key, State, UserID, JoinedAt), oldest first.
func (c *Channel) Presence() []PresenceEntry {
	if c.err != nil {
		return nil
	}
	b, _ := c.h.Presence()
	var out []PresenceEntry
	if err := decodeResult(b, &out); err != nil && strictResults {
		panic("realtime.presence: " + err.Error()) // the tests' strict decoding: a struct is behind the surface
	}
	return out
}

// History is the persisted messages, newest first; page back with before = the last
// message's CreatedAt (the zero time: from the newest). limit 0: the
// platform's default.
func (c *Channel) History(ctx context.Context, limit int, before time.Time) ([]HistoryMessage, error) {
	if c.err != nil {
		return nil, c.err
	}
	l, b := int64(limit), int64(-1)
	if l <= 0 {
		l = -1
	}
	if !before.IsZero() {
		b = before.UnixMilli()
	}
	p, err := c.h.History(l, b)
	if err != nil {
		return nil, fail("realtime.history", err)
	}
	d, err := wait(ctx, "realtime.history", p, nil)
	if err != nil {
		return nil, err
	}
	var out []HistoryMessage
	if err := decodeResult(d.JSON, &out); err != nil {
		return nil, decodeError("realtime.history", err)
	}
	return out, nil
}

// Topic is the full topic (table/orders/<projectId>, ...).
func (c *Channel) Topic() string {
	if c.err != nil {
		return ""
	}
	return c.h.Topic()
}

// Unsubscribe leaves the topic.
func (c *Channel) Unsubscribe() error {
	if c.err != nil {
		return c.err
	}
	return fail("realtime.unsubscribe", c.h.Unsubscribe())
}
