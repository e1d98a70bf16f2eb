package agents

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// fault fails one call of a side effect once: the nth call of method, either before it reaches
// the other service (down: the network failed on the way) or after the service did it (lost:
// the answer never came back, which is what the process dying between a remote call and
// recording it in the run looks like to the retry).
type fault struct {
	method string
	nth    int
	lost   bool

	mu      sync.Mutex
	calls   int
	fired   bool
	reached map[string]int // calls that reached the other service, by method
}

func (f *fault) String() string {
	how := "down"
	if f.lost {
		how = "lost"
	}
	return fmt.Sprintf("%s#%d %s", f.method, f.nth, how)
}

// around makes the call do, failing it as planned.
func (f *fault) around(method string, do func() error) error {
	f.mu.Lock()
	hit := false
	if method == f.method {
		f.calls++
		hit = f.calls == f.nth && !f.fired
		f.fired = f.fired || hit
	}
	if !hit || f.lost {
		if f.reached == nil {
			f.reached = map[string]int{}
		}
		f.reached[method]++
	}
	f.mu.Unlock()
	if !hit {
		return do()
	}
	if !f.lost {
		return apperr.Unavailable("injected fault: %s did not reach the service", method)
	}
	if err := do(); err != nil {
		return err
	}
	return apperr.Unavailable("injected fault: the answer to %s was lost", method)
}

func (f *fault) hasFired() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fired
}

func (f *fault) reachedOf(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reached[method]
}

// faultyProjects and faultyDocuments put a fault between the service and the side effects of a
// run's output processing (every other call passes through).
type faultyProjects struct {
	Projects
	f *fault
}

func (p faultyProjects) CreateTasks(ctx context.Context, projectID string, tasks []NewTask, key string) (n int, err error) {
	err = p.f.around("CreateTasks", func() error { n, err = p.Projects.CreateTasks(ctx, projectID, tasks, key); return err })
	return n, err
}

func (p faultyProjects) RecordProof(ctx context.Context, projectID string, gate int, proofType string, pass bool, summary string) error {
	return p.f.around("RecordProof", func() error { return p.Projects.RecordProof(ctx, projectID, gate, proofType, pass, summary) })
}

func (p faultyProjects) AdvanceTasks(ctx context.Context, projectID string, gate int, role, status string, keys []string) (n int, err error) {
	err = p.f.around("AdvanceTasks:"+status, func() error {
		n, err = p.Projects.AdvanceTasks(ctx, projectID, gate, role, status, keys)
		return err
	})
	return n, err
}

type faultyDocuments struct {
	Documents
	f *fault
}

func (d faultyDocuments) Store(ctx context.Context, r store.Run, docs []output.Document, key string) (out []store.Document, err error) {
	err = d.f.around("Store", func() error { out, err = d.Documents.Store(ctx, r, docs, key); return err })
	return out, err
}

// TestCrashBetweenSideEffects: a run's output processing has side effects in steps — its
// documents in one batch (key run:<id>), its handoff's tasks in one batch (same key), the spec
// validation proof, its tasks marked done — each recorded in the run once done. A fault at each step, before the call
// reaches the other service or after it was done there (the answer lost, as when the process
// dies before recording the step), is an outage of that service: the run waits it out and,
// without calling the model again or spending an attempt, completes the rest exactly once:
// every document stored once at version 1 (a replayed batch returns the first one's versions),
// the tasks created once, the proof recorded once, the run succeeded on its first attempt, and
// the gates move on to G3's review.
func TestCrashBetweenSideEffects(t *testing.T) {
	cases := []struct {
		step   string
		gate   int    // of the run that meets the fault
		role   string // its role
		method string
		nth    int // the nth call of method in the journey
		lost   bool
	}{
		{"documents", 1, "product_manager", "Store", 1, false},
		{"documents", 1, "product_manager", "Store", 1, true},
		{"tasks", 1, "product_manager", "CreateTasks", 1, false},
		{"tasks", 1, "product_manager", "CreateTasks", 1, true},
		{"documents", 3, "architect", "Store", 3, true},
		// A proof has no key: one recorded and lost is recorded again (see the known trade-offs);
		// one that never reached the projects service is recorded once.
		{"proof", 3, "architect", "RecordProof", 1, false},
		// The last step, the run's tasks marked done (tasks.go): the steps before it are not
		// done again.
		{"tasks done", 1, "product_manager", "AdvanceTasks:done", 1, false},
		{"tasks done", 3, "architect", "AdvanceTasks:done", 3, false},
		{"tasks done", 3, "architect", "AdvanceTasks:done", 3, true},
	}
	eachDatabase(t, func(t *testing.T, database string) {
		for _, c := range cases {
			f := &fault{method: c.method, nth: c.nth, lost: c.lost}
			t.Run(fmt.Sprintf("%s at G%d (%s)", c.step, c.gate, f), func(t *testing.T) {
				h := newHarness(t, database, harnessConfig{
					wrapProjects:  func(p Projects) Projects { return faultyProjects{Projects: p, f: f} },
					wrapDocuments: func(d Documents) Documents { return faultyDocuments{Documents: d, f: f} },
				})
				ctx := context.Background()
				pid := h.newProject("Recipes")
				h.startWork(pid)
				for n := 1; n <= 3; n++ {
					h.waitGate(pid, n, GateInReview)
					if n < 3 {
						h.approve(pid, n)
					}
				}
				if !f.hasFired() {
					t.Fatal("the fault was never met")
				}

				runs, err := h.db.Runs(ctx, pid, store.RunPage{Limit: 50})
				if err != nil || len(runs) != 3 {
					t.Fatalf("runs: %d (%v), want one per gate", len(runs), err)
				}
				for _, r := range runs {
					r, err := h.db.Run(ctx, r.ID)
					if err != nil {
						t.Fatal(err)
					}
					const attempts = 1 // an outage of another service spends no attempt
					if r.State != store.StateSucceeded || r.Attempt != attempts || h.offline.callsOf(r.Role, r.Gate) != 1 ||
						!r.Result.DocumentsStored || !r.Result.TasksStored {
						t.Fatalf("G%d's run: %s after %d attempts (want %d), the model called %d times; result %+v",
							r.Gate, r.State, r.Attempt, attempts, h.offline.callsOf(r.Role, r.Gate), r.Result)
					}
					// Every document the run wrote is stored once, at version 1, as the run says.
					role, _ := catalog.Get(r.Role)
					docs := h.documents.documentsOf(pid, r.Gate)
					want := len(role.OutputsFor(r.Gate))
					if r.Role == catalog.Architect {
						want++ // and fuzzyllama.json, the tree's manifest
					}
					if len(docs) != want || len(r.Result.Documents) != len(docs) {
						t.Fatalf("G%d: %d documents stored, the run recorded %d, the role writes %d", r.Gate, len(docs),
							len(r.Result.Documents), want)
					}
					for _, d := range docs {
						if len(d.Versions) != 1 || !slices.Contains(r.Result.Documents, store.Document{ID: d.ID, Type: d.Type, Title: d.Title, Version: 1}) {
							t.Fatalf("G%d's document %q has %d versions; the run recorded %+v", r.Gate, d.Title, len(d.Versions), r.Result.Documents)
						}
					}
					if r.Gate == 1 {
						tasks, batches := h.projects.tasksOf(pid)
						if r.Result.TasksCreated == 0 || len(tasks) != r.Result.TasksCreated || batches != 1 {
							t.Fatalf("tasks: %d created in %d batches; the run recorded %d", len(tasks), batches, r.Result.TasksCreated)
						}
					}
				}
				if proofs := h.projects.proofsOf(pid, 3); len(proofs) != 1 || proofs[0].Type != proofSpecValidation || !proofs[0].Pass {
					t.Fatalf("G3's proofs: %+v, want one passing spec validation", proofs)
				}
				// Each step reached the other service once per run that has it, and once more only
				// when its answer was lost (the replay, which the key makes harmless); a step
				// recorded in the run is not done again.
				for method, want := range map[string]int{"Store": 3, "CreateTasks": 1, "RecordProof": 1, "AdvanceTasks:done": 3} {
					if c.method == method && c.lost {
						want++
					}
					if got := f.reachedOf(method); got != want {
						t.Errorf("%s reached the service %d times, want %d", method, got, want)
					}
				}
				if got, want := h.documents.batchCalls(), f.reachedOf("Store"); got != want {
					t.Fatalf("the documents service got %d batches, %d were sent", got, want)
				}
			})
		}
	})
}
