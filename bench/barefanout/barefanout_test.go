package barefanout

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
)

// TestEverySocketGetsEveryMessageInOrder: what is published on the channel reaches every
// connected socket, in order, as it was published; a socket that leaves is unregistered.
func TestEverySocketGetsEveryMessageInOrder(t *testing.T) {
	rdb, keys := redistest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub := New(8, 5*time.Second)
	channel := keys.Key("bare")
	if err := hub.Run(ctx, rdb, channel); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hub)
	defer srv.Close()
	conns := make([]*websocket.Conn, 3)
	for i := range conns {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		conns[i] = c
	}
	for hub.Len() < len(conns) {
		if ctx.Err() != nil {
			t.Fatalf("%d of %d sockets registered", hub.Len(), len(conns))
		}
		time.Sleep(5 * time.Millisecond)
	}
	want := []string{`{"n":1}`, `{"n":2}`}
	for _, m := range want {
		if err := rdb.Publish(ctx, channel, m).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range conns {
		for _, w := range want {
			_, got, err := c.Read(ctx)
			if err != nil || string(got) != w {
				t.Fatalf("socket %d: got %q (%v), want %q", i, got, err, w)
			}
		}
	}
	_ = conns[0].Close(websocket.StatusNormalClosure, "")
	for hub.Len() != len(conns)-1 {
		if ctx.Err() != nil {
			t.Fatalf("%d sockets registered after one of %d left", hub.Len(), len(conns))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
