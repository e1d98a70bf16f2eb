package agents

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/anthropic"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// dialFailure is what a gRPC client says when the service it calls is down: the address must not
// reach the owner.
var dialFailure = status.Error(codes.Unavailable,
	`connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:19092: connect: connection refused"`)

// outageSwitch takes the projects and documents services down for the calls a run makes: it
// starts when a run first asks for the project's open tasks (building its prompt, so nothing
// before the run is affected) and lasts for the next failures calls (every call, when failures
// is negative), of every method or only of the one named.
type outageSwitch struct {
	mu       sync.Mutex
	only     string
	armed    bool
	failures int
	failed   int
	// lasting, when set, ends the outage that long after it started instead (failures unused).
	lasting time.Duration
	// err is what a call fails with (dialFailure when nil).
	err     error
	started time.Time
}

func (o *outageSwitch) call(method string, do func() error) error {
	o.mu.Lock()
	if method == "OpenTasks" {
		o.armed = true
	}
	if o.armed && o.started.IsZero() {
		o.started = time.Now()
	}
	more := o.failures < 0 || o.failed < o.failures
	if o.lasting > 0 {
		more = time.Since(o.started) < o.lasting
	}
	down := o.armed && more && (o.only == "" || o.only == method)
	if down {
		o.failed++
	}
	o.mu.Unlock()
	if down && o.err != nil {
		return o.err
	} else if down {
		return dialFailure
	}
	return do()
}

func (o *outageSwitch) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failed
}

type downProjects struct {
	Projects
	o *outageSwitch
}

func (p downProjects) Project(ctx context.Context, id string) (out Project, err error) {
	err = p.o.call("Project", func() error { out, err = p.Projects.Project(ctx, id); return err })
	return out, err
}

func (p downProjects) OpenTasks(ctx context.Context, id string, limit int) (out []string, err error) {
	err = p.o.call("OpenTasks", func() error { out, err = p.Projects.OpenTasks(ctx, id, limit); return err })
	return out, err
}

func (p downProjects) CreateTasks(ctx context.Context, id string, tasks []NewTask, key string) (n int, err error) {
	err = p.o.call("CreateTasks", func() error { n, err = p.Projects.CreateTasks(ctx, id, tasks, key); return err })
	return n, err
}

func (p downProjects) AdvanceTasks(ctx context.Context, id string, gate int, role, st string, keys []string) (n int, err error) {
	err = p.o.call("AdvanceTasks", func() error { n, err = p.Projects.AdvanceTasks(ctx, id, gate, role, st, keys); return err })
	return n, err
}

type downDocuments struct {
	Documents
	o *outageSwitch
}

func (d downDocuments) Latest(ctx context.Context, id string, perDoc, total int) (out []provider.ContextDocument, err error) {
	err = d.o.call("Latest", func() error { out, err = d.Documents.Latest(ctx, id, perDoc, total); return err })
	return out, err
}

func (d downDocuments) Files(ctx context.Context, id string) (out []SourceFile, err error) {
	err = d.o.call("Files", func() error { out, err = d.Documents.Files(ctx, id); return err })
	return out, err
}

func (d downDocuments) Content(ctx context.Context, id, docID string, version int) (out []byte, err error) {
	err = d.o.call("Content", func() error { out, err = d.Documents.Content(ctx, id, docID, version); return err })
	return out, err
}

func (d downDocuments) Store(ctx context.Context, r store.Run, docs []output.Document, key string) (out []store.Document, err error) {
	err = d.o.call("Store", func() error { out, err = d.Documents.Store(ctx, r, docs, key); return err })
	return out, err
}

func withOutage(o *outageSwitch) harnessConfig {
	return harnessConfig{
		wrapProjects:  func(p Projects) Projects { return downProjects{Projects: p, o: o} },
		wrapDocuments: func(d Documents) Documents { return downDocuments{Documents: d, o: o} },
		metrics:       true,
	}
}

// TestOutageIsWaitedOut: the projects and documents services refuse a run's calls as
// Unavailable for a while (12 calls, while it builds its prompt and then as it stores what it
// produced); the run waits, then succeeds on its one attempt, its model called once, and its
// gate goes to review without being blocked.
func TestOutageIsWaitedOut(t *testing.T) {
	eachDatabase(t, func(t *testing.T, database string) {
		o := &outageSwitch{failures: 12}
		h := newHarness(t, database, withOutage(o))
		pid := h.newProject("Recipes")
		intake := h.startWork(pid)
		h.waitGate(pid, 1, GateInReview)
		r, err := h.db.Run(context.Background(), intake.ID)
		if err != nil || r.State != store.StateSucceeded || r.Attempt != 1 || r.Error != "" || !r.WaitingSince.IsZero() {
			t.Fatalf("run after the outage: %+v, %v", r, err)
		}
		if calls := h.offline.callsOf("product_manager", 1); calls != 1 {
			t.Errorf("the model was called %d times, want 1", calls)
		}
		if o.count() != 12 {
			t.Errorf("the outage failed %d calls, want 12", o.count())
		}
		if waits := testutil.ToFloat64(h.metrics.waits.WithLabelValues("product_manager")); waits < 1 {
			t.Errorf("waits recorded: %v", waits)
		}
		if docs := h.documents.documentsOf(pid, 1); len(docs) != 1 || len(docs[0].Versions) != 1 {
			t.Errorf("the intake's documents: %+v", docs)
		}
	})
}

// TestEventBusDownDoesNotFailRuns: with no Redis to publish to, runs still succeed and the
// gates move; what could not be published is counted.
func TestEventBusDownDoesNotFailRuns(t *testing.T) {
	eachDatabase(t, func(t *testing.T, database string) {
		h := newHarness(t, database, harnessConfig{busDown: true, metrics: true})
		pid := h.newProject("Recipes")
		intake := h.startWork(pid)
		h.waitGate(pid, 1, GateInReview)
		h.approve(pid, 1)
		h.waitGate(pid, 2, GateInReview)
		r, err := h.db.Run(context.Background(), intake.ID)
		if err != nil || r.State != store.StateSucceeded || r.Attempt != 1 {
			t.Fatalf("run without a bus: %+v, %v", r, err)
		}
		if dropped := testutil.ToFloat64(h.metrics.dropped); dropped < 1 {
			t.Errorf("dropped events counted: %v", dropped)
		}
	})
}

// noInternals fails the test when an owner-facing message shows how things failed rather than
// what happened: an address, a port, a dial error or a gRPC error chain.
func noInternals(t *testing.T, what, msg string) {
	t.Helper()
	for _, bad := range []string{"127.0.0.1", "19092", "dial", "rpc error", "connection refused", "transport", "http://", "provider key"} {
		if strings.Contains(strings.ToLower(msg), bad) {
			t.Errorf("%s shows %q: %s", what, bad, msg)
		}
	}
}

// TestFailureMessagesAreForTheOwner: a run that outwaits an outage of the projects service (1 s
// here; only the run's own call fails, so that the orchestration can block the gate) fails saying which service was out and what to do, and so does its blocked gate; a
// provider that cannot be reached is named without its address. Neither shows an address, a
// dial error or advice about provider keys.
func TestFailureMessagesAreForTheOwner(t *testing.T) {
	t.Run("outage", func(t *testing.T) {
		cfg := withOutage(&outageSwitch{failures: -1, only: "OpenTasks"})
		cfg.limits = func(l *Limits) { l.OutageWait = time.Second }
		h := newHarness(t, "sqlite", cfg)
		pid := h.newProject("Recipes")
		intake := h.startWork(pid)
		g := h.waitGate(pid, 1, GateBlocked)
		r, err := h.db.Run(context.Background(), intake.ID)
		if err != nil || r.State != store.StateFailed || r.Attempt != 0 {
			t.Fatalf("run: %+v, %v", r, err)
		}
		if calls := h.offline.callsOf("product_manager", 1); calls != 0 {
			t.Errorf("the model was called %d times while its prompt could not be built", calls)
		}
		for _, want := range []string{"FuzzyLlama's projects service was unavailable", "run it again", "not at fault"} {
			if !strings.Contains(r.Error, want) {
				t.Errorf("the run's error lacks %q: %s", want, r.Error)
			}
		}
		noInternals(t, "the run's error", r.Error)
		fg, _ := h.projects.gate(pid, g.Number)
		if !strings.Contains(fg.blockedReason, "projects service was unavailable") || !strings.Contains(fg.blockedReason, "Unblock G1") {
			t.Errorf("the blocked reason: %s", fg.blockedReason)
		}
		noInternals(t, "the blocked reason", fg.blockedReason)
	})
	t.Run("provider unreachable", func(t *testing.T) {
		vendor := &anthropic.Client{APIKey: "sk-ant-test", BaseURL: "http://" + unusedAddr(t), HTTPClient: http.DefaultClient}
		h := newHarness(t, "sqlite", harnessConfig{vendor: vendor, limits: func(l *Limits) { l.MaxAttempts = 2 }})
		pid := h.newProject("Recipes")
		intake := h.startWork(pid)
		h.waitGate(pid, 1, GateBlocked)
		r, err := h.db.Run(context.Background(), intake.ID)
		if err != nil || r.State != store.StateFailed || r.Attempt != 2 {
			t.Fatalf("run: %+v, %v", r, err)
		}
		if !strings.Contains(r.Error, "could not reach the model provider (Anthropic)") || !strings.Contains(r.Error, "all 2 attempts") {
			t.Errorf("the run's error: %s", r.Error)
		}
		noInternals(t, "the run's error", r.Error)
	})
}

// stalledProvider answers a little, then nothing until its call is cancelled: a worker that is
// about to die mid-answer.
type stalledProvider struct{ calls atomic.Int32 }

func (p *stalledProvider) Name() string { return "stalled" }

func (p *stalledProvider) Stream(ctx context.Context, _ provider.Request, onText func(string) error) (provider.Response, error) {
	p.calls.Add(1)
	_ = onText("<document")
	<-ctx.Done()
	return provider.Response{}, ctx.Err()
}

// TestDeadWorkersRunIsResumedOnce: a worker loses its database in the middle of a run's model call
// (as when its process is killed: it renews nothing, releases nothing and its job stays running
// in the queue). Another process's rescuer finds the run's lease expired (0.6 s here) and hands it
// on; that process's worker completes it in a new attempt, once: the model called once more, its
// documents stored once, the rescue recorded on the run and shown by the API. The dead worker's job, when the queue
// works it again, finds itself superseded and changes nothing.
func TestDeadWorkersRunIsResumedOnce(t *testing.T) {
	eachDatabase(t, func(t *testing.T, database string) {
		lease := func(l *Limits) { l.LeaseTTL = 600 * time.Millisecond }
		dying := newHarness(t, database, harnessConfig{limits: lease})
		stalled := &stalledProvider{}
		dying.offline.Provider = stalled
		pid := dying.newProject("Recipes")
		intake := dying.startWork(pid)
		for deadline := time.Now().Add(30 * time.Second); stalled.calls.Load() == 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the first worker never called its model")
			}
		}
		if err := dying.db.Close(); err != nil {
			t.Fatal(err)
		}

		// The run is watched, not its gate: the dying worker may have held the project's
		// reconcile lease, which lapses only after a minute.
		h := newHarness(t, database, harnessConfig{limits: lease, sameDatabase: dying})
		ctx := context.Background()
		r, err := h.db.Run(ctx, intake.ID)
		for deadline := time.Now().Add(30 * time.Second); err == nil && r.Active() && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			r, err = h.db.Run(ctx, intake.ID)
		}
		if err != nil || r.State != store.StateSucceeded || r.Attempt != 2 || r.Rescues != 1 || r.RescuedAt.IsZero() || r.JobID == intake.JobID {
			t.Fatalf("resumed run: %+v, %v", r, err)
		}
		if pb := runPB(r); pb.GetRescues() != 1 || pb.GetRescueTime() == nil {
			t.Errorf("the API does not show the rescue: %+v", pb)
		}
		if calls := h.offline.callsOf("product_manager", 1); calls != 1 || stalled.calls.Load() != 1 {
			t.Errorf("model calls: %d by the second worker, %d by the first; want 1 each", calls, stalled.calls.Load())
		}
		if docs := h.documents.documentsOf(pid, 1); len(docs) != 1 || len(docs[0].Versions) != 1 {
			t.Errorf("the intake's documents: %+v", docs)
		}

		// The queue's own rescuer eventually hands the dead worker's job back: worked again, it
		// finds the run is another job's now.
		if err := h.s.execute(ctx, intake.ID, intake.JobID); err != nil {
			t.Fatalf("the stale job: %v", err)
		}
		again, err := h.db.Run(ctx, intake.ID)
		if err != nil || again.State != store.StateSucceeded || again.Attempt != 2 || h.offline.callsOf("product_manager", 1) != 1 {
			t.Fatalf("after the stale job: %+v, %v, %d model calls", again, err, h.offline.callsOf("product_manager", 1))
		}
	})
}

// slowProvider takes its time before it answers: a long model call.
type slowProvider struct {
	provider.Provider
	delay time.Duration
}

func (p slowProvider) Stream(ctx context.Context, req provider.Request, onText func(string) error) (provider.Response, error) {
	select {
	case <-ctx.Done():
		return provider.Response{}, ctx.Err()
	case <-time.After(p.delay):
	}
	return p.Provider.Stream(ctx, req, onText)
}

// TestProgressResetsTheOutageWait: progress clears an earlier wait for good. The projects
// service is down for 1.5 s while the run builds its prompt (it waits), then its model takes
// 2 s, then the documents service fails once as it stores the answer: 3.5 s after the first wait
// began, but the run has progressed since, so it waits again from zero (AGENT_OUTAGE_WAIT 3 s)
// and succeeds rather than fail for a wait it never made.
func TestProgressResetsTheOutageWait(t *testing.T) {
	projectsDown := &outageSwitch{lasting: 1500 * time.Millisecond}
	documentsDown := &outageSwitch{armed: true, only: "Store", failures: 1}
	cfg := harnessConfig{
		wrapProjects:  func(p Projects) Projects { return downProjects{Projects: p, o: projectsDown} },
		wrapDocuments: func(d Documents) Documents { return downDocuments{Documents: d, o: documentsDown} },
		limits:        func(l *Limits) { l.OutageWait = 3 * time.Second },
	}
	h := newHarness(t, "sqlite", cfg)
	h.offline.Provider = slowProvider{Provider: h.offline.Provider, delay: 2 * time.Second}
	pid := h.newProject("Recipes")
	intake := h.startWork(pid)
	h.waitGate(pid, 1, GateInReview)
	r, err := h.db.Run(context.Background(), intake.ID)
	if err != nil || r.State != store.StateSucceeded || r.Attempt != 1 {
		t.Fatalf("run: %+v, %v", r, err)
	}
	if projectsDown.count() == 0 || documentsDown.count() != 1 {
		t.Fatalf("the outages failed %d and %d calls", projectsDown.count(), documentsDown.count())
	}
}

// TestServiceBugFailsTheRun: a service that answers INTERNAL (a bug in it, not an outage: every
// service answers UNAVAILABLE when its database or Redis is out) fails the run at once, with no
// model call repeated, saying which service failed and to run it again; the gate is blocked
// with that reason. The run does not wait AGENT_OUTAGE_WAIT (1 minute here) for it to mend.
func TestServiceBugFailsTheRun(t *testing.T) {
	bug := &outageSwitch{armed: true, only: "Store", failures: -1, err: status.Error(codes.Internal, "internal error")}
	h := newHarness(t, "sqlite", harnessConfig{
		wrapDocuments: func(d Documents) Documents { return downDocuments{Documents: d, o: bug} },
		limits:        func(l *Limits) { l.OutageWait = time.Minute },
	})
	pid := h.newProject("Recipes")
	intake := h.startWork(pid)
	start := time.Now()
	h.waitGate(pid, 1, GateBlocked)
	r, err := h.db.Run(context.Background(), intake.ID)
	if err != nil || r.State != store.StateFailed || r.Attempt != 1 || h.offline.callsOf("product_manager", 1) != 1 {
		t.Fatalf("run: %+v, %v; %d model calls", r, err, h.offline.callsOf("product_manager", 1))
	}
	if bug.count() != 1 || time.Since(start) > 20*time.Second {
		t.Errorf("the documents service was asked %d times in %s: the run waited for a bug to mend", bug.count(), time.Since(start))
	}
	for _, want := range []string{"FuzzyLlama's documents service failed on the run's request", "run it again", "not at fault"} {
		if !strings.Contains(r.Error, want) {
			t.Errorf("the run's error lacks %q: %s", want, r.Error)
		}
	}
	noInternals(t, "the run's error", r.Error)
	if fg, _ := h.projects.gate(pid, 1); !strings.Contains(fg.blockedReason, "documents service failed") {
		t.Errorf("the blocked reason: %s", fg.blockedReason)
	}
}
