package live_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
	agentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	documentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
)

func (f *fixture) notify(t *testing.T, n *projectsv1.Notification) {
	t.Helper()
	b, _ := edge.JSON.Marshal(n)
	if err := f.bus.Publish(context.Background(), eventbus.UserTopic(n.GetUserId()), b); err != nil {
		t.Fatal(err)
	}
}

func notificationID(t *testing.T, m msg) int64 {
	t.Helper()
	var n projectsv1.Notification
	if m.Type != "notification" {
		t.Fatalf("want a notification, got %+v", m)
	}
	if err := protojson.Unmarshal(m.Notification, &n); err != nil {
		t.Fatalf("notification %s: %v", m.Notification, err)
	}
	return n.GetId()
}

func (f *fixture) connect(t *testing.T, user string) *websocket.Conn {
	t.Helper()
	c, _, err := f.dial(t, f.token(t, user, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// TestNotificationsResumeThenLive: a socket that follows its user's notifications from an id is
// sent the ones after it, then the live ones, each once, and never another user's.
func TestNotificationsResumeThenLive(t *testing.T) {
	f := newFixture(t, live.Config{})
	note := func(id int64, user string) *projectsv1.Notification {
		return asServed(&projectsv1.Notification{Id: id, UserId: user, ProjectId: "p1", Kind: projectsv1.NotificationKind_NOTIFICATION_KIND_GATE_READY_FOR_REVIEW,
			Message: "G1 Scope is ready for your review"})
	}
	f.fake.notifications["ann"] = []*projectsv1.Notification{note(1, "ann"), note(2, "ann")}
	c := f.connect(t, "ann")
	send(t, c, map[string]any{"type": "subscribe", "notifications": true, "afterNotificationId": "1"})
	if m := recv(t, c); m.Type != "subscribed" || !m.Notifications {
		t.Fatalf("subscribe: %+v", m)
	}
	if id := notificationID(t, recv(t, c)); id != 2 {
		t.Fatalf("replayed notification %d, want 2", id)
	}
	f.notify(t, note(2, "ann")) // already sent
	f.notify(t, note(3, "bob")) // not hers
	f.notify(t, note(4, "ann"))
	if id := notificationID(t, recv(t, c)); id != 4 {
		t.Fatalf("live notification %d, want 4 (2 was sent already, 3 is bob's)", id)
	}

	// A socket that does not follow notifications gets none; a project socket is told apart.
	other := f.connect(t, "ann")
	send(t, other, map[string]any{"type": "subscribe", "projectId": "p1"})
	if m := recv(t, other); m.Type != "subscribed" || m.ProjectID != "p1" || m.Notifications {
		t.Fatalf("subscribe: %+v", m)
	}
	f.notify(t, note(5, "ann"))
	if id := notificationID(t, recv(t, c)); id != 5 {
		t.Fatalf("notification %d, want 5", id)
	}
	// Notification 5 has been dispatched: the other socket, next given an event, got none.
	f.publish(t, event("p1", 1, 1))
	if m := recv(t, other); m.Type != "event" {
		t.Fatalf("a socket that did not ask for notifications got %+v", m)
	}
	send(t, c, map[string]any{"type": "unsubscribe", "notifications": true})
	if m := recv(t, c); m.Type != "unsubscribed" || !m.Notifications {
		t.Fatalf("unsubscribe: %+v", m)
	}
	sendRaw(t, c, `{"type":"subscribe","notifications":true,"afterNotificationId":"x"}`)
	if m := recv(t, c); m.Type != "error" || m.Code != "InvalidArgument" || !strings.Contains(m.Message, "afterNotificationId") {
		t.Fatalf("a bad id: %+v", m)
	}
}

// TestResumeCatchesUpOnRunsAndDocuments: a project subscription that resumes is sent, after the
// timeline, the state of the runs and documents that changed since the last event the client saw.
func TestResumeCatchesUpOnRunsAndDocuments(t *testing.T) {
	f := newFixture(t, live.Config{})
	seen := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i, at := range []time.Time{seen.Add(-time.Hour), seen, seen.Add(time.Minute)} {
		e := event("p1", int64(i+1), 1)
		e.CreateTime = timestamppb.New(at)
		f.fake.timeline["p1"] = append(f.fake.timeline["p1"], e)
	}
	f.runs.list = []*agentsv1.Run{asServed(&agentsv1.Run{Id: "r1", ProjectId: "p1", State: agentsv1.RunState_RUN_STATE_SUCCEEDED}), asServed(&agentsv1.Run{Id: "r9", ProjectId: "p2"})}
	f.docs.list = []*documentsv1.Document{asServed(&documentsv1.Document{Id: "d1", ProjectId: "p1", Version: 2})}

	c := f.connect(t, "ann")
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"}) // live only: no catch-up
	recv(t, c)
	send(t, c, map[string]string{"type": "unsubscribe", "projectId": "p1"})
	recv(t, c)
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1", "afterEventId": "2"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	if m := recv(t, c); m.Type != "event" || eventID(t, m) != 3 {
		t.Fatalf("want event 3 first, got %+v", m)
	}
	m := recv(t, c)
	var run agentsv1.Run
	if m.Type != "run" || protojson.Unmarshal(m.Run, &run) != nil || run.GetId() != "r1" {
		t.Fatalf("want run r1, got %+v", m)
	}
	m = recv(t, c)
	var saved documentsv1.SavedDocument
	if m.Type != "document" || protojson.Unmarshal(m.Document, &saved) != nil || saved.GetDocument().GetId() != "d1" ||
		saved.GetOutcome() != documentsv1.SaveOutcome_SAVE_OUTCOME_NEW_VERSION {
		t.Fatalf("want document d1 as a new version, got %+v", m)
	}
	f.runs.mu.Lock()
	asked := f.runs.changedSince
	f.runs.mu.Unlock()
	if len(asked) != 1 {
		t.Fatalf("ListRuns was called %d times, want once (only the resuming subscription catches up)", len(asked))
	}
	// The time of event 2, less a margin for other services' clocks.
	if got := asked[0].AsTime(); got.After(seen) || got.Before(seen.Add(-5*time.Minute)) {
		t.Fatalf("runs changed since %v, want shortly before %v", got, seen)
	}
}

func (f *fixture) stream(runID string) chan *agentsv1.WatchRunResponse {
	ch := make(chan *agentsv1.WatchRunResponse)
	f.runs.mu.Lock()
	f.runs.streams[runID] = ch
	f.runs.mu.Unlock()
	return ch
}

func feed(t *testing.T, ch chan *agentsv1.WatchRunResponse, m *agentsv1.WatchRunResponse) bool {
	t.Helper()
	select {
	case ch <- m:
		return true
	case <-time.After(time.Second):
		return false
	}
}

func runMessage(state agentsv1.RunState) *agentsv1.WatchRunResponse {
	return asServed(&agentsv1.WatchRunResponse{Event: &agentsv1.WatchRunResponse_Run{Run: &agentsv1.Run{Id: "r1", ProjectId: "p1", State: state, Attempt: 1}}})
}

func chunkMessage(seq int64, text string) *agentsv1.WatchRunResponse {
	return asServed(&agentsv1.WatchRunResponse{Event: &agentsv1.WatchRunResponse_Chunk{Chunk: &agentsv1.OutputChunk{Attempt: 1, Seq: seq, Text: text}}})
}

// TestWatchRunStreamsItsOutput: a socket watching a run gets the run, its chunks in order and
// the finished run, then "unwatched"; watches are bounded, and unwatching stops the stream.
func TestWatchRunStreamsItsOutput(t *testing.T) {
	f := newFixture(t, live.Config{MaxWatches: 2})
	r1 := f.stream("r1")
	c := f.connect(t, "ann")
	send(t, c, map[string]string{"type": "watchRun", "projectId": "p1", "runId": "r1"})
	for _, m := range []*agentsv1.WatchRunResponse{runMessage(agentsv1.RunState_RUN_STATE_RUNNING), chunkMessage(1, "# Scope"), chunkMessage(2, "\n...")} {
		if !feed(t, r1, m) {
			t.Fatal("the hub did not read the run's stream")
		}
	}
	if m := recv(t, c); m.Type != "run" || m.RunID != "r1" || m.ProjectID != "p1" || !strings.Contains(string(m.Run), "RUN_STATE_RUNNING") {
		t.Fatalf("first the run: %+v", m)
	}
	for _, want := range []string{"# Scope", "\n..."} {
		m := recv(t, c)
		var chunk agentsv1.OutputChunk
		if m.Type != "chunk" || m.RunID != "r1" || protojson.Unmarshal(m.Chunk, &chunk) != nil || chunk.GetText() != want {
			t.Fatalf("want chunk %q, got %+v", want, m)
		}
	}
	feed(t, r1, runMessage(agentsv1.RunState_RUN_STATE_SUCCEEDED))
	close(r1)
	if m := recv(t, c); m.Type != "run" || !strings.Contains(string(m.Run), "RUN_STATE_SUCCEEDED") {
		t.Fatalf("then the finished run: %+v", m)
	}
	if m := recv(t, c); m.Type != "unwatched" || m.RunID != "r1" {
		t.Fatalf("then unwatched: %+v", m)
	}

	send(t, c, map[string]string{"type": "watchRun", "projectId": "p1", "runId": "nope"})
	if m := recv(t, c); m.Type != "error" || m.Code != "NotFound" || m.RunID != "nope" {
		t.Fatalf("a run the service does not show: %+v", m)
	}
	r2, r3 := f.stream("r2"), f.stream("r3")
	send(t, c, map[string]string{"type": "watchRun", "projectId": "p1", "runId": "r2"})
	send(t, c, map[string]string{"type": "watchRun", "projectId": "p1", "runId": "r3"})
	send(t, c, map[string]string{"type": "watchRun", "projectId": "p1", "runId": "r4"})
	if m := recv(t, c); m.Type != "error" || m.Code != "ResourceExhausted" || m.RunID != "r4" {
		t.Fatalf("a third watch: %+v", m)
	}
	send(t, c, map[string]string{"type": "unwatchRun", "runId": "r2"})
	if m := recv(t, c); m.Type != "unwatched" || m.RunID != "r2" {
		t.Fatalf("unwatch: %+v", m)
	}
	if feed(t, r2, chunkMessage(1, "late")) {
		t.Fatal("an unwatched run's stream is still read")
	}

	// A member removed from the project loses the watches of its runs with the subscription.
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	f.publish(t, memberRemoved("p1", 9, "ann"))
	if m := recv(t, c); m.Type != "error" || m.ProjectID != "p1" || m.Code != "PermissionDenied" {
		t.Fatalf("removal: %+v", m)
	}
	if feed(t, r3, chunkMessage(1, "after removal")) {
		t.Fatal("the removed member's watch is still read")
	}
}

// sseEvent is one server-sent event.
type sseEvent struct {
	id, event, raw string
	data           msg
	closing        streamClose // the data of the last event, close
}

type streamClose struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// openStream GETs an event stream and returns its events as they come, each checked against the
// live contract (what does not conform fails the test when it ends).
func (f *fixture) openStream(t *testing.T, path, token string, header http.Header) (*http.Response, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.http+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	c := contract(t)
	events := make(chan sseEvent, 64)
	done := make(chan struct{})
	var stray []string
	t.Cleanup(func() {
		cancel()
		_ = resp.Body.Close()
		<-done
		for _, s := range stray {
			t.Error(s)
		}
	})
	go func() {
		defer close(done)
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.raw != "" {
					if err := checkStreamEvent(c, e); err != nil {
						stray = append(stray, fmt.Sprintf("%s: the stream sent %s %s, which is not in the live contract: %v", path, e.event, brief([]byte(e.raw)), err))
					}
					select {
					case events <- e:
					case <-ctx.Done():
						return
					}
				}
				e = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				e.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				e.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.raw = strings.TrimPrefix(line, "data: ")
				if e.event == live.StreamCloseEvent {
					_ = json.Unmarshal([]byte(e.raw), &e.closing)
				} else {
					_ = json.Unmarshal([]byte(e.raw), &e.data)
				}
			}
		}
	}()
	return resp, events
}

func next(t *testing.T, events <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case e, ok := <-events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return sseEvent{}
}

// TestEventStreamFallback: a project's live messages and the user's notifications also come as
// server-sent events, resumed with Last-Event-ID; refusals are JSON errors before the stream.
func TestEventStreamFallback(t *testing.T) {
	f := newFixture(t, live.Config{})
	f.fake.timeline["p1"] = []*projectsv1.Event{event("p1", 1, 1), event("p1", 2, 1), event("p1", 3, 1)}
	ann := f.token(t, "ann", time.Minute)

	for _, c := range []struct {
		path, lastID string
		status       int
	}{
		{"/api/v1/projects/p2/events:stream", "", http.StatusNotFound},
		{"/api/v1/projects/p1/events:stream", "x", http.StatusBadRequest},
		{"/api/v1/projects/p1/events:stream", "99", http.StatusBadRequest}, // no such event
	} {
		resp, _ := f.openStream(t, c.path, ann, http.Header{"Last-Event-ID": {c.lastID}})
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s with Last-Event-ID %q: %d %s, want %d", c.path, c.lastID, resp.StatusCode, resp.Header.Get("Content-Type"), c.status)
		}
	}

	resp, events := f.openStream(t, "/api/v1/projects/p1/events:stream", ann, http.Header{"Last-Event-ID": {"1"}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if e := next(t, events); e.data.Type != "subscribed" || e.data.ProjectID != "p1" {
		t.Fatalf("first: %+v", e)
	}
	for _, want := range []string{"2", "3"} {
		if e := next(t, events); e.id != want || e.data.Type != "event" {
			t.Fatalf("want event %s with its id, got %+v", want, e)
		}
	}
	f.publish(t, event("p1", 4, 1))
	if e := next(t, events); e.id != "4" {
		t.Fatalf("live event: %+v", e)
	}
	run, _ := edge.JSON.Marshal(asServed(&agentsv1.Run{Id: "r1", ProjectId: "p1"}))
	if err := f.bus.Publish(context.Background(), eventbus.ProjectRunsTopic("p1"), run); err != nil {
		t.Fatal(err)
	}
	if e := next(t, events); e.data.Type != "run" || e.id != "" {
		t.Fatalf("a run carries no event id (it is no resume point): %+v", e)
	}

	f.fake.notifications["ann"] = []*projectsv1.Notification{asServed(&projectsv1.Notification{Id: 1, UserId: "ann"}), asServed(&projectsv1.Notification{Id: 2, UserId: "ann"})}
	_, notes := f.openStream(t, "/api/v1/notifications:stream?afterNotificationId=1", ann, nil)
	if e := next(t, notes); e.data.Type != "subscribed" || !e.data.Notifications {
		t.Fatalf("first: %+v", e)
	}
	if e := next(t, notes); e.id != "2" || e.data.Type != "notification" {
		t.Fatalf("want notification 2, got %+v", e)
	}

	// A member removed from the project: the stream says why (an error), then closes, in that
	// order, every time.
	for i := range 5 {
		_, removed := f.openStream(t, "/api/v1/projects/p1/events:stream", ann, nil)
		next(t, removed) // subscribed
		f.publish(t, memberRemoved("p1", int64(10+i), "ann"))
		e := next(t, removed)
		for e.data.Type == "event" { // the removal itself may come first
			e = next(t, removed)
		}
		if e.data.Type != "error" || e.data.Code != "PermissionDenied" {
			t.Fatalf("removal %d: want the error before the close, got %+v", i, e)
		}
		if e := next(t, removed); e.event != live.StreamCloseEvent || !strings.Contains(e.raw, `"code":4010`) {
			t.Fatalf("removal %d: want the close event after the error, got %+v", i, e)
		}
	}

	// The token's expiry ends the stream with a close event saying so.
	_, short := f.openStream(t, "/api/v1/notifications:stream", f.token(t, "ann", time.Second), nil)
	next(t, short) // subscribed
	if e := next(t, short); e.event != "close" || !strings.Contains(e.raw, `"code":4001`) {
		t.Fatalf("want a close event, got %+v", e)
	}
}

// TestAQuietStreamStillGetsItsCloseEvent: a stream quiet for longer than the write timeout
// still delivers its closing frame — the close gets a write deadline of its own rather than
// the one the last event set, long passed.
func TestAQuietStreamStillGetsItsCloseEvent(t *testing.T) {
	f := newFixture(t, live.Config{WriteTimeout: 200 * time.Millisecond, Heartbeat: time.Minute})
	_, events := f.openStream(t, "/api/v1/notifications:stream", f.token(t, "ann", 2*time.Second), nil)
	if e := next(t, events); e.data.Type != "subscribed" {
		t.Fatalf("first: %+v", e)
	}
	// Nothing more is sent until the token expires, well past the write timeout.
	if e := next(t, events); e.event != live.StreamCloseEvent || !strings.Contains(e.raw, `"code":4001`) {
		t.Fatalf("want the close event after a quiet spell, got %+v", e)
	}
}
