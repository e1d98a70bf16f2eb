package live_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
)

// TestReviewReplayDoesNotDisconnectASteadyReader: a replay is sent paced (it waits for room in
// the send queue), so while one subscription replays, the queue is kept full; a live message of
// another subscription of the socket (here a project followed live) finds no room — enqueue does
// not wait — and the client, which reads steadily, is closed as too slow (4008). It reconnects,
// resumes, replays again, and is closed again.
func TestReviewReplayDoesNotDisconnectASteadyReader(t *testing.T) {
	f := newFixture(t, live.Config{SendBuffer: 8})
	const notes = 400
	text := strings.Repeat("n", 64<<10)
	for i := int64(1); i <= notes; i++ {
		f.fake.notifications["ann"] = append(f.fake.notifications["ann"], asServed(&projectsv1.Notification{Id: i, UserId: "ann", ProjectId: "p1",
			Kind: projectsv1.NotificationKind_NOTIFICATION_KIND_GATE_READY_FOR_REVIEW, Message: text}))
	}
	c := f.connect(t, "ann")
	c.SetReadLimit(1 << 20)
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	send(t, c, map[string]any{"type": "subscribe", "notifications": true, "afterNotificationId": "0"})
	readSteadily(t, f, c, "notification", notes)
}

// readSteadily reads the socket at a steady pace until it has want messages of the kind, while
// a live event of p1 is published after every 25 of them (15 in all): the socket must deliver
// both without closing as too slow.
func readSteadily(t *testing.T, f *fixture, c *websocket.Conn, kind string, want int) {
	t.Helper()
	// Generous: the test is about being closed, not about speed (CI machines are busy).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got, gotEvents, published int
	for got < want || gotEvents < 15 {
		if got >= 25*(published+1) && published < 15 {
			published++
			f.publish(t, event("p1", int64(published), 1))
		}
		time.Sleep(time.Millisecond) // a steady reader
		b, err := read(t, ctx, c)
		if err != nil {
			t.Fatalf("after %d %s messages and %d events: closed with %v (%v)", got, kind, gotEvents, websocket.CloseStatus(err), err)
		}
		var m msg
		_ = json.Unmarshal(b, &m)
		switch m.Type {
		case kind:
			got++
		case "event":
			gotEvents++
		}
	}
}
