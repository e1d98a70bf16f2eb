package live_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
	agentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
)

// readFor reads messages until nothing arrives for the given time (or the socket closes).
func readFor(t testing.TB, c *websocket.Conn, quiet time.Duration) ([]msg, error) {
	t.Helper()
	var out []msg
	for {
		ctx, cancel := context.WithTimeout(context.Background(), quiet)
		b, err := read(t, ctx, c)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return out, nil
			}
			return out, err
		}
		var m msg
		_ = json.Unmarshal(b, &m)
		out = append(out, m)
	}
}

// TestReviewWatchEndsWhenMemberRemovedWithoutSubscription: a member removed from a project
// keeps receiving the output of a run of that project when the socket watches the run without
// also being subscribed to the project. The agents service authorises WatchRun once, at its
// start, and the hub only ends watches of sockets subscribed to the project (dispatchEvent →
// drop → unwatchProject), so nothing ends this watch.
func TestReviewWatchEndsWhenMemberRemovedWithoutSubscription(t *testing.T) {
	f := newFixture(t, live.Config{})
	r1 := f.stream("r1")
	c := f.connect(t, "ann")
	send(t, c, map[string]string{"type": "watchRun", "projectId": "p1", "runId": "r1"})
	if !feed(t, r1, runMessage(agentsv1.RunState_RUN_STATE_RUNNING)) {
		t.Fatal("the hub did not read the run's stream")
	}
	if m := recv(t, c); m.Type != "run" || m.RunID != "r1" {
		t.Fatalf("first the run: %+v", m)
	}
	// Ann is removed from p1 (the projects service would refuse her now).
	f.fake.mu.Lock()
	delete(f.fake.readers["p1"], "ann")
	f.fake.mu.Unlock()
	f.publish(t, memberRemoved("p1", 1, "ann"))
	time.Sleep(200 * time.Millisecond) // let the hub see the removal

	go feed(t, r1, chunkMessage(1, "output written after ann was removed"))
	got, _ := readFor(t, c, 700*time.Millisecond)
	for _, m := range got {
		if m.Type == "chunk" {
			var chunk agentsv1.OutputChunk
			_ = protojson.Unmarshal(m.Chunk, &chunk)
			t.Fatalf("ann, removed from p1, still received the output of its run r1: %q", chunk.GetText())
		}
	}
}

// TestReviewRemovalTellsTheWatchesItEnds: when a removed member's subscription is dropped, its
// watches of the project's runs are cancelled (unwatchProject) without a word: no "unwatched"
// nor error with the runId, so a browser keeps showing the run as followed and waits for output
// that never comes (it cannot tell it must not simply watch again later).
func TestReviewRemovalTellsTheWatchesItEnds(t *testing.T) {
	f := newFixture(t, live.Config{})
	r1 := f.stream("r1")
	c := f.connect(t, "ann")
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	send(t, c, map[string]string{"type": "watchRun", "projectId": "p1", "runId": "r1"})
	if !feed(t, r1, runMessage(agentsv1.RunState_RUN_STATE_RUNNING)) {
		t.Fatal("the hub did not read the run's stream")
	}
	if m := recv(t, c); m.Type != "run" || m.RunID != "r1" {
		t.Fatalf("first the run: %+v", m)
	}
	f.publish(t, memberRemoved("p1", 1, "ann"))
	got, err := readFor(t, c, 700*time.Millisecond)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var dropped, told bool
	for _, m := range got {
		if m.Type == "error" && m.ProjectID == "p1" && m.RunID == "" {
			dropped = true
		}
		if m.RunID == "r1" && (m.Type == "unwatched" || m.Type == "error") {
			told = true
		}
	}
	if !dropped {
		t.Fatalf("the subscription was not dropped: %+v", got)
	}
	if !told {
		t.Errorf("the watch of r1 ended with the removal but the client was not told (no unwatched/error with runId r1): got %+v", got)
	}
}

// TestReviewWatchBurstDoesNotDisconnectASteadyReader: a watched run's output is sent paced
// (sendPaced waits for room), so a burst of output — WatchRun replays the attempt's output from
// the start — keeps the send queue full; a live event of a subscribed project then finds no
// room (enqueue does not wait) and the client, which reads steadily, is closed as too slow
// (4008).
func TestReviewWatchBurstDoesNotDisconnectASteadyReader(t *testing.T) {
	f := newFixture(t, live.Config{SendBuffer: 8})
	r1 := f.stream("r1")
	c := f.connect(t, "ann")
	c.SetReadLimit(1 << 20)
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	send(t, c, map[string]string{"type": "watchRun", "projectId": "p1", "runId": "r1"})
	const chunks = 400
	text := strings.Repeat("o", 8<<10) // enough to keep the queue full; small enough for a busy machine
	go func() {
		if !feed(t, r1, runMessage(agentsv1.RunState_RUN_STATE_RUNNING)) {
			return
		}
		for i := int64(1); i <= chunks; i++ {
			if !feed(t, r1, chunkMessage(i, text)) {
				return
			}
		}
		close(r1)
	}()
	readSteadily(t, f, c, "chunk", chunks)
}
