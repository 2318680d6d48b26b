package aerostack

import "context"

// Socket is server-side broadcast to realtime rooms.
type Socket struct{ c *Client }

// Emit sends event with data to every subscriber of room; what was delivered
// ({id, topic, timestamp, delivered, persisted}).
func (s *Socket) Emit(ctx context.Context, event string, data any, room string) (Record, error) {
	return call[Record](ctx, s.c, "realtime.emit", args{}.s("event", event).v("data", data).s("room", room))
}

// Realtime is the realtime connection of a client.
type Realtime struct {
	c *Client
}

func (r *Realtime) close() {}
