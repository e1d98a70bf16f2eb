// Package barefanout is the floor the live fan-out of gateway/live is measured against
// (docs/PERFORMANCE.md, scripts/bench-fanout.sh): one Redis subscriber, a map of sockets, and a
// coder/websocket writer per socket with a bounded queue — the shape of coder/websocket's own
// chat example. It has none of the product's work: no authentication, authorisation, routing by
// project, resume ids, replays or revocation checks; a message is written as it came from Redis.
package barefanout

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
)

// Hub fans every message of one Redis channel out to every connected socket.
type Hub struct {
	// Buffer is how many messages wait for a socket before it is dropped as too slow.
	Buffer int
	// WriteTimeout bounds one write.
	WriteTimeout time.Duration

	mu    sync.Mutex
	conns map[*conn]struct{}
}

type conn struct {
	ws   *websocket.Conn
	msgs chan []byte
}

// New returns a hub; Run feeds it.
func New(buffer int, writeTimeout time.Duration) *Hub {
	return &Hub{Buffer: buffer, WriteTimeout: writeTimeout, conns: map[*conn]struct{}{}}
}

// Run subscribes to channel and forwards its messages until ctx ends. It returns once the
// subscription is confirmed and keeps forwarding in the background.
func (h *Hub) Run(ctx context.Context, rdb *redis.Client, channel string) error {
	ps := rdb.Subscribe(ctx, channel)
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return err
	}
	context.AfterFunc(ctx, func() { _ = ps.Close() })
	go func() {
		for m := range ps.Channel() {
			h.broadcast([]byte(m.Payload))
		}
	}()
	return nil
}

func (h *Hub) broadcast(msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		select {
		case c.msgs <- msg:
		default: // too slow: drop it rather than stall the others
			delete(h.conns, c)
			go c.ws.Close(websocket.StatusPolicyViolation, "too slow")
		}
	}
}

// Len is the number of connected sockets.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// ServeHTTP accepts a socket and writes it every message until it goes.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	// The client sends nothing; reading in the background answers pings and sees the close.
	ctx := ws.CloseRead(context.WithoutCancel(r.Context()))
	c := &conn{ws: ws, msgs: make(chan []byte, h.Buffer)}
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-c.msgs:
			wctx, cancel := context.WithTimeout(ctx, h.WriteTimeout)
			err := ws.Write(wctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				return
			}
		}
	}
}
