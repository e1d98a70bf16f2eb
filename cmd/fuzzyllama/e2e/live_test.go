package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
)

// TestLiveEvents follows a project over the gateway's WebSocket, as a browser does (the token as
// a subprotocol): the timeline so far is replayed, then the agents' work arrives live — the
// timeline's events in order up to G1 going to review, the intake run's states and the save of
// its document; a stranger cannot follow the project.
func TestLiveEvents(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"AGENT_QUEUE_POLL_INTERVAL": "20ms", "OFFLINE_CHUNK_DELAY": "2ms"})
		tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		stranger := s.register(t, "stranger@example.com", goodPassword, "Stranger").AccessToken
		p := s.createProject(t, tok, "Live", "PROJECT_TYPE_TRADITIONAL")
		url := "ws" + strings.TrimPrefix(s.base, "http") + "/api/v1/ws"
		dial := func(token string) *websocket.Conn {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{live.Subprotocol, "bearer." + token}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.CloseNow() })
			c.SetReadLimit(1 << 20)
			return c
		}
		type message struct {
			Type, ProjectID, Code string
			Run                   struct {
				Role  string `json:"role"`
				State string `json:"state"`
			}
			Event struct {
				ID          string `json:"id"`
				GateChanged *struct {
					Gate int    `json:"gate"`
					To   string `json:"to"`
				} `json:"gateChanged"`
			}
		}
		read := func(c *websocket.Conn) message {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, b, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			var msg message
			if err := json.Unmarshal(b, &msg); err != nil {
				t.Fatal(err)
			}
			return msg
		}
		subscribe := func(c *websocket.Conn, after string) {
			b, _ := json.Marshal(map[string]string{"type": "subscribe", "projectId": p.ID, "afterEventId": after})
			if err := c.Write(context.Background(), websocket.MessageText, b); err != nil {
				t.Fatal(err)
			}
		}

		other := dial(stranger)
		subscribe(other, "")
		if msg := read(other); msg.Type != "error" || msg.Code != "NotFound" {
			t.Fatalf("a stranger subscribing: %+v", msg)
		}

		c := dial(tok)
		subscribe(c, "0")
		if msg := read(c); msg.Type != "subscribed" {
			t.Fatalf("subscribe: %+v", msg)
		}
		// The project's creation is replayed from the timeline.
		if msg := read(c); msg.Type != "event" || msg.Event.ID != "1" {
			t.Fatalf("first replayed event: %+v", msg)
		}
		s.startWork(t, tok, p.ID)
		last := 1
		var runStates []string
		documents := 0
		inReview, succeeded := false, false
		// Three subscriptions feed the socket (timeline, runs, documents): their messages may
		// interleave in any order, so wait for all three kinds.
		for !inReview || !succeeded || documents == 0 {
			msg := read(c)
			if msg.Type == "document" {
				documents++
				continue
			}
			if msg.Type == "run" {
				runStates = append(runStates, msg.Run.State)
				succeeded = succeeded || msg.Run.State == "RUN_STATE_SUCCEEDED"
				continue
			}
			if msg.Type != "event" {
				t.Fatalf("message %+v (run states so far %v)", msg, runStates)
			}
			if id := atoi(msg.Event.ID); id != last+1 {
				t.Fatalf("event %d after %d: events must come in order, once", id, last)
			}
			last++
			if g := msg.Event.GateChanged; g != nil && g.Gate == 1 && g.To == "GATE_STATE_IN_REVIEW" {
				inReview = true
			}
		}
		// The intake run's states came too (queued or running, then succeeded), and the save of
		// the intake document it wrote.
		if len(runStates) < 2 {
			t.Fatalf("run states seen: %v; %d document saves", runStates, documents)
		}
		// A reconnect after an event id gets what followed it, from the timeline.
		again := dial(tok)
		subscribe(again, "1")
		if msg := read(again); msg.Type != "subscribed" {
			t.Fatalf("resubscribe: %+v", msg)
		}
		if msg := read(again); msg.Event.ID != "2" {
			t.Fatalf("resume after 1: %+v", msg)
		}
	})
}
