package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
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
			Type, ProjectID, Code, RunID string
			Run                          struct {
				ID    string `json:"id"`
				Role  string `json:"role"`
				State string `json:"state"`
			}
			Document struct {
				Document struct {
					ID string `json:"id"`
				} `json:"document"`
			}
			Notification struct {
				ID   string `json:"id"`
				Kind string `json:"kind"`
				Gate int    `json:"gate"`
			}
			Chunk struct {
				Text string `json:"text"`
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
		intake := ""
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
				intake = msg.Run.ID
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
		// The intake run's states came too, from queued to succeeded, and the save of the intake
		// document it wrote.
		if len(runStates) < 2 || runStates[0] != "RUN_STATE_QUEUED" || runStates[len(runStates)-1] != "RUN_STATE_SUCCEEDED" {
			t.Fatalf("run states seen: %v; %d document saves", runStates, documents)
		}
		// A reconnect after an event id gets what followed it, from the timeline, then the runs
		// and documents that changed since.
		again := dial(tok)
		subscribe(again, "1")
		if msg := read(again); msg.Type != "subscribed" {
			t.Fatalf("resubscribe: %+v", msg)
		}
		for want := 2; want <= last; want++ {
			if msg := read(again); msg.Type != "event" || atoi(msg.Event.ID) != want {
				t.Fatalf("resume after 1: want event %d, got %+v", want, msg)
			}
		}
		if msg := read(again); msg.Type != "run" || msg.Run.ID != intake || msg.Run.State != "RUN_STATE_SUCCEEDED" {
			t.Fatalf("after the timeline, the intake run as it is now: %+v", msg)
		}
		if msg := read(again); msg.Type != "document" || msg.Document.Document.ID == "" {
			t.Fatalf("then the document it saved: %+v", msg)
		}

		// The owner's notifications: G1 awaits their review.
		send := func(c *websocket.Conn, v any) {
			b, _ := json.Marshal(v)
			if err := c.Write(context.Background(), websocket.MessageText, b); err != nil {
				t.Fatal(err)
			}
		}
		send(again, map[string]any{"type": "subscribe", "notifications": true, "afterNotificationId": "0"})
		if msg := read(again); msg.Type != "subscribed" {
			t.Fatalf("subscribe to notifications: %+v", msg)
		}
		if msg := read(again); msg.Type != "notification" || msg.Notification.Kind != "NOTIFICATION_KIND_GATE_READY_FOR_REVIEW" || msg.Notification.Gate != 1 {
			t.Fatalf("want G1's review notification, got %+v", msg)
		}

		// A finished run's output over the socket: the run, its output, then unwatched.
		send(again, map[string]any{"type": "watchRun", "projectId": p.ID, "runId": intake})
		if msg := read(again); msg.Type != "run" || msg.RunID != intake {
			t.Fatalf("watch: first the run, got %+v", msg)
		}
		var output strings.Builder
		for msg := read(again); msg.Type != "unwatched"; msg = read(again) {
			if msg.Type != "chunk" || msg.RunID != intake {
				t.Fatalf("watch: want chunks until unwatched, got %+v", msg)
			}
			output.WriteString(msg.Chunk.Text)
		}
		if out := output.String(); !strings.Contains(out, "<document") || !strings.Contains(out, "</handoff>") {
			t.Fatalf("the intake's whole output (its documents and handoff), got %d bytes: %.200q", len(out), out)
		}
		send(other, map[string]any{"type": "watchRun", "projectId": p.ID, "runId": intake})
		if msg := read(other); msg.Type != "error" || msg.Code != "NotFound" {
			t.Fatalf("a stranger watching the run: %+v", msg)
		}

		// The event-stream fallback, through the whole edge: resumed with Last-Event-ID.
		req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/projects/"+p.ID+"/events:stream", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Last-Event-ID", strconv.Itoa(last-1))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("event stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		checkEvent := s.checkStream(req, resp)
		lines := bufio.NewScanner(resp.Body)
		want := "id: " + strconv.Itoa(last)
		for lines.Scan() && lines.Text() != want {
			if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				checkEvent("", []byte(data))
			}
		}
		if lines.Text() != want {
			t.Fatalf("the event stream never sent %q (%v)", want, lines.Err())
		}
	})
}
