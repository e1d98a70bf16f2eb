package agents

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
)

// runFeed collects what a project's live clients receive on its runs topic: each run's states,
// in the order they arrived.
type runFeed struct {
	mu     sync.Mutex
	states map[string][]pb.RunState
	order  []string // run ids, in the order first seen
}

// followRuns subscribes to the projects' runs topics (as the gateway's hub does) until the
// test ends.
func (h *harness) followRuns(projectIDs ...string) *runFeed {
	h.t.Helper()
	topics := make([]string, len(projectIDs))
	for i, id := range projectIDs {
		topics[i] = eventbus.ProjectRunsTopic(id)
	}
	sub, err := h.bus.Subscribe(context.Background(), topics...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = sub.Close() })
	f := &runFeed{states: map[string][]pb.RunState{}}
	go func() {
		for msg := range sub.C {
			var r pb.Run
			if err := protojson.Unmarshal(msg, &r); err != nil {
				h.t.Errorf("a message on the runs topic is not a Run: %v: %s", err, msg)
				continue
			}
			f.mu.Lock()
			if _, seen := f.states[r.GetId()]; !seen {
				f.order = append(f.order, r.GetId())
			}
			f.states[r.GetId()] = append(f.states[r.GetId()], r.GetState())
			f.mu.Unlock()
		}
	}()
	return f
}

// wait returns the states of the run once its last one is want (or after 10 s).
func (f *runFeed) wait(runID string, want pb.RunState) []pb.RunState {
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		states := slices.Clone(f.states[runID])
		f.mu.Unlock()
		if len(states) > 0 && states[len(states)-1] == want || time.Now().After(deadline) {
			return states
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *runFeed) runs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.order)
}

// TestQueuedRunsArePublished: every run reaches its project's live subscribers queued first,
// then running, then succeeded: the intake StartProject queues, the runs the orchestration
// queues when the next gate opens, and a run a person starts. Queued is published after the
// commit that created the run, and before a worker can publish it running.
func TestQueuedRunsArePublished(t *testing.T) {
	eachDatabase(t, func(t *testing.T, database string) {
		h := newHarness(t, database, harnessConfig{})
		ctx := context.Background()
		pid, byHand := h.newProject("Recipes"), h.newProject("Notes")
		feed := h.followRuns(pid, byHand)

		intake := h.startWork(pid)
		h.waitGate(pid, 1, GateInReview)
		h.approve(pid, 1) // G2 opens: the orchestration queues its run
		h.waitGate(pid, 2, GateInReview)
		g2 := h.waitRuns(pid, 2, 1)[0]

		if err := h.projects.transition(byHand, 1, "start", ""); err != nil {
			t.Fatal(err)
		}
		manual, created, err := h.s.StartRun(ctx, authn.Identity{UserID: owner}, RunRequest{ProjectID: byHand, Gate: 1, Role: "product_manager"})
		if err != nil || !created {
			t.Fatalf("start run: created=%v, %v", created, err)
		}

		want := []pb.RunState{pb.RunState_RUN_STATE_QUEUED, pb.RunState_RUN_STATE_RUNNING, pb.RunState_RUN_STATE_SUCCEEDED}
		for name, id := range map[string]string{"intake (StartProject)": intake.ID, "G2 (orchestration)": g2.ID, "by hand (StartRun)": manual.ID} {
			if got := feed.wait(id, pb.RunState_RUN_STATE_SUCCEEDED); !slices.Equal(got, want) {
				t.Errorf("%s run %s reached live clients as %v, want %v", name, id, got, want)
			}
		}
		if got := feed.runs(); len(got) != 3 {
			t.Errorf("runs published: %v, want the 3 runs", got)
		}

		// Queued is published when the run is created, not when a worker gets to it: with no
		// worker running, both kinds of run are seen queued.
		idle := newHarness(t, database, harnessConfig{idle: true})
		pid, byHand = idle.newProject("Recipes"), idle.newProject("Notes")
		feed = idle.followRuns(pid, byHand)
		intake = idle.startWork(pid)
		if err := idle.projects.transition(byHand, 1, "start", ""); err != nil {
			t.Fatal(err)
		}
		manual, _, err = idle.s.StartRun(ctx, authn.Identity{UserID: owner}, RunRequest{ProjectID: byHand, Gate: 1, Role: "product_manager"})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{intake.ID, manual.ID} {
			if got := feed.wait(id, pb.RunState_RUN_STATE_QUEUED); !slices.Equal(got, want[:1]) {
				t.Errorf("run %s, waiting for a worker, reached live clients as %v, want %v", id, got, want[:1])
			}
		}
	})
}
