package agents

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/pricing"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/offline"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// The harness is the agents service as it runs in production — its store on PostgreSQL or
// SQLite with the job queue working runs and reconciles, a real Redis bus, real providers (the
// offline one, or a client of a fake vendor server) — with in-memory doubles of the projects
// and documents services that keep the rules the agents rely on: the gate transitions, a
// deliverable recorded when a document is saved, and the idempotency keys of document and
// task batches. The owner's decisions (approve, request changes, unblock, attest a proof) are
// the harness's methods, and nudge a reconcile as their events on the bus would.

// eachDatabase runs f on PostgreSQL and on SQLite, as the store's own tests do.
func eachDatabase(t *testing.T, f func(t *testing.T, database string)) {
	for _, name := range []string{"postgres", "sqlite"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, name)
		})
	}
}

// harnessConfig shapes a harness; the zero value runs every role on the offline provider.
type harnessConfig struct {
	// model replaces every role's model ("" keeps the catalog's; "offline" by default).
	model string
	// vendor answers the catalog's Claude models (a client of a providertest server).
	vendor provider.Provider
	limits func(*Limits)
	// wrapProjects and wrapDocuments put something between the service and the doubles (faults).
	wrapProjects  func(Projects) Projects
	wrapDocuments func(Documents) Documents
	// idle leaves the job queue stopped: runs stay queued.
	idle bool
	// sameDatabase makes a second agents process of that harness: the same database, bus and
	// doubles of the other services, its own job queue and workers.
	sameDatabase *harness
	// busDown points the event bus at an address where no Redis listens.
	busDown bool
	// metrics records the service's metrics (h.metrics).
	metrics bool
	// wrapDSN changes the database's address (a proxy between the store and it, say).
	wrapDSN func(dsn string) string
	// logger is the service's logger (none by default).
	logger *slog.Logger
	// runner verifies the gates' code (none by default: the owner attests those proofs).
	runner sandbox.Runner
	// providers replaces the providers the harness builds (to change what a role answers).
	providers func(Providers) Providers
}

type harness struct {
	t         *testing.T
	s         *Service
	db        *store.DB
	dsn       string // the database: a PostgreSQL URL or an SQLite path
	metrics   *Metrics
	bus       *eventbus.Bus
	projects  *fakeProjects
	documents *fakeDocuments
	offline   *countingProvider
	evidence  *fakeEvidence
}

func newHarness(t *testing.T, database string, cfg harnessConfig) *harness {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	workers := river.NewWorkers()
	q := store.QueueConfig{Workers: workers, MaxWorkers: 4, JobTimeout: time.Minute, RescueAfter: time.Hour,
		PollInterval: 20 * time.Millisecond, Logger: logger}
	var db *store.DB
	var err error
	dsn := ""
	switch {
	case cfg.sameDatabase != nil:
		dsn = cfg.sameDatabase.dsn
	case database == "postgres":
		dsn = dbtest.NewPostgres(t)
	default:
		dsn = dbtest.NewSQLitePath(t)
	}
	openDSN := dsn
	if cfg.wrapDSN != nil {
		openDSN = cfg.wrapDSN(dsn)
	}
	if database == "postgres" {
		db, err = store.OpenPostgres(ctx, openDSN, q)
	} else {
		db, err = store.OpenSQLite(ctx, openDSN, q)
	}
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, dsn: dsn, offline: &countingProvider{Provider: offline.Provider{}}}
	if other := cfg.sameDatabase; other != nil {
		h.bus, h.projects, h.documents = other.bus, other.projects, other.documents
	} else {
		rdb, keys := redistest.New(t)
		if cfg.busDown {
			rdb = redis.NewClient(&redis.Options{Addr: unusedAddr(t)})
		}
		h.bus = &eventbus.Bus{Redis: rdb, Keys: keys}
		h.projects = &fakeProjects{projects: map[string]*fakeProject{}}
		h.documents = &fakeDocuments{projects: h.projects, batches: map[string][]store.Document{}}
	}
	if cfg.metrics {
		h.metrics = NewMetrics(prometheus.NewRegistry(), db)
	}
	limits := Limits{MaxAttempts: 3, RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		ContextPerDocument: 24 << 10, ContextTotal: 96 << 10}
	if cfg.limits != nil {
		cfg.limits(&limits)
	}
	var projects Projects = h.projects
	if cfg.wrapProjects != nil {
		projects = cfg.wrapProjects(projects)
	}
	var documents Documents = h.documents
	if cfg.wrapDocuments != nil {
		documents = cfg.wrapDocuments(documents)
	}
	model := cfg.model
	if model == "" && cfg.vendor == nil {
		model = "offline"
	}
	serviceLogger := logger
	if cfg.logger != nil {
		serviceLogger = cfg.logger
	}
	var providers Providers = Router{Offline: h.offline, Anthropic: cfg.vendor}
	if cfg.providers != nil {
		providers = cfg.providers(providers)
	}
	h.evidence = &fakeEvidence{fakeProjects: h.projects, documents: h.documents}
	h.s = &Service{Store: db, Projects: projects, Documents: documents, Providers: providers, Runner: cfg.runner, Evidence: h.evidence,
		Prices: pricing.Default(), Model: model, Limits: limits,
		Tokens: &authn.ServiceTokens{Client: fakeAuth{}, Service: "agents", Credential: "a test service credential"},
		Bus:    h.bus, EncodeRun: PublicRun, Metrics: h.metrics, Logger: serviceLogger}
	RegisterWorkers(workers, h.s)
	if cfg.idle {
		t.Cleanup(func() { _ = db.Close() })
		return h
	}
	runCtx, stop := context.WithCancel(ctx)
	if err := db.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = db.Stop(sctx)
		stop()
		_ = db.Close()
	})
	return h
}

// unusedAddr is a loopback address where nothing listens (a port bound and released).
func unusedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// fakeAuth issues delegated tokens (the doubles take any).
type fakeAuth struct{ authv1.AuthServiceClient }

func (fakeAuth) IssueServiceToken(_ context.Context, req *authv1.IssueServiceTokenRequest, _ ...grpc.CallOption) (*authv1.IssueServiceTokenResponse, error) {
	return &authv1.IssueServiceTokenResponse{AccessToken: "delegated:" + req.GetUserId(), ExpireTime: timestamppb.New(time.Now().Add(5 * time.Minute))}, nil
}

// countingProvider counts the model calls, per role and gate.
type countingProvider struct {
	provider.Provider
	mu    sync.Mutex
	calls map[string]int
}

func (p *countingProvider) Stream(ctx context.Context, req provider.Request, onText func(string) error) (provider.Response, error) {
	p.mu.Lock()
	if p.calls == nil {
		p.calls = map[string]int{}
	}
	p.calls[fmt.Sprintf("%s@G%d", req.Brief.Role, req.Brief.Gate)]++
	p.mu.Unlock()
	return p.Provider.Stream(ctx, req, onText)
}

func (p *countingProvider) callsOf(role string, gate int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[fmt.Sprintf("%s@G%d", role, gate)]
}

// owner is the user the harness's projects belong to.
const owner = "u-owner"

// newProject creates a traditional project at G1 (pending) and returns its id.
func (h *harness) newProject(name string) string {
	return h.projects.create(name)
}

// startWork starts the project's orchestration as its owner and returns the intake run.
func (h *harness) startWork(pid string) store.Run {
	h.t.Helper()
	r, err := h.s.StartProject(context.Background(), authn.Identity{UserID: owner}, pid, "Home cooks save recipes and plan weekly meals.")
	if err != nil || r == nil {
		h.t.Fatalf("start work: %v", err)
	}
	return *r
}

// waitGate waits until gate n is in state want; it fails on an unexpected block, or after 30 s.
func (h *harness) waitGate(pid string, n int, want string) Gate {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		g, ok := h.projects.gate(pid, n)
		if ok && g.State == want {
			return g.Gate
		}
		if ok && g.State == GateBlocked && want != GateBlocked {
			h.t.Fatalf("G%d blocked: %s", n, g.blockedReason)
		}
		if time.Now().After(deadline) {
			runs, _ := h.db.Runs(context.Background(), pid, store.RunPage{Gate: n, Limit: 50})
			h.t.Fatalf("G%d is %+v after 30 s, want %s; runs: %+v", n, g, want, runs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitRuns waits until gate n has want succeeded runs and nothing queued or running.
func (h *harness) waitRuns(pid string, n, want int) []store.Run {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		runs, err := h.db.Runs(context.Background(), pid, store.RunPage{Gate: n, Limit: 50})
		if err != nil {
			h.t.Fatal(err)
		}
		done, active := 0, 0
		for _, r := range runs {
			if r.State == store.StateSucceeded {
				done++
			}
			if r.Active() {
				active++
			}
		}
		if done == want && active == 0 {
			return runs
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("G%d runs after 30 s: %+v", n, runs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// decide is one of the owner's decisions on a gate, followed by the nudge its event gives.
func (h *harness) decide(pid string, n int, trans string, notes string) {
	h.t.Helper()
	if err := h.projects.decide(pid, n, trans, notes); err != nil {
		h.t.Fatalf("%s G%d: %v", trans, n, err)
	}
	if err := h.db.EnqueueReconcile(context.Background(), pid); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) approve(pid string, n int) { h.decide(pid, n, "approve", "") }
func (h *harness) requestChanges(pid string, n int, notes string) {
	h.decide(pid, n, "request changes", notes)
}
func (h *harness) unblock(pid string, n int) { h.decide(pid, n, "unblock", "") }

// attest records, as the owner, a passing proof the agents do not produce.
func (h *harness) attest(pid string, n int, proofType string) {
	h.t.Helper()
	if err := h.projects.RecordProof(context.Background(), pid, n, proofType, true, "checked by the owner"); err != nil {
		h.t.Fatalf("attest %s at G%d: %v", proofType, n, err)
	}
	if err := h.db.EnqueueReconcile(context.Background(), pid); err != nil {
		h.t.Fatal(err)
	}
}

// waitAcknowledged waits until the orchestration has seen gate n blocked (and recorded its
// allowance): what the owner unblocks after.
func (h *harness) waitAcknowledged(pid string, n int, after time.Time) store.Allowance {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		a, err := h.db.Allowance(context.Background(), pid, n)
		if err != nil {
			h.t.Fatal(err)
		}
		if a.AcknowledgedAt.After(after) {
			return a
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("G%d's block was not acknowledged after 30 s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// traditionalWorkflow is the projects service's workflow of traditional projects (a copy of
// services/projects/workflow, as the catalog's tests keep one).
var traditionalWorkflow = []WorkflowGate{
	{1, "Scope", []string{"product_manager"}, []string{"intake"}, nil},
	{2, "PRD", []string{"product_manager"}, []string{"requirements", "user_story"}, nil},
	{3, "Architecture", []string{"architect"}, []string{"architecture", "api_spec", "database_schema"}, []string{"spec_validation"}},
	{4, "Design", []string{"ux_designer"}, []string{"design"}, nil},
	{5, "Development", []string{"frontend_developer", "backend_developer"}, []string{"code"}, []string{"build", "lint"}},
	{6, "Testing", []string{"qa_engineer"}, []string{"test_plan"}, []string{"unit_tests", "coverage"}},
	{7, "Security", []string{"security_engineer"}, []string{"security_audit"}, []string{"security_scan"}},
	{8, "Staging", []string{"devops_engineer"}, []string{"deployment_guide"}, []string{"deployment", "smoke_test"}},
	{9, "Production", []string{"devops_engineer"}, []string{"runbook"}, []string{"deployment", "smoke_test", "manual_verification"}},
}

// fakeProjects is the projects service, in memory: projects of the traditional workflow, their
// gates' state machine, deliverables, proofs and tasks. Every method is safe for concurrent use
// (the queue's workers call it).
type fakeProjects struct {
	mu       sync.Mutex
	projects map[string]*fakeProject
}

var _ Projects = (*fakeProjects)(nil)

type fakeProject struct {
	Project
	gates    []*fakeGate
	tasks    []NewTask
	taskKeys map[string]int // idempotency key -> tasks the batch created
	statuses map[int]string // index in tasks -> status, when not todo (AdvanceTasks, tasks_test.go)
	proofs   []fakeProof
}

type fakeGate struct {
	Gate
	// delivered are the document types recorded, proven the proof types that passed.
	delivered, proven          []string
	blockedFrom, blockedReason string
}

type fakeProof struct {
	Gate int
	Type string
	Pass bool
}

func (f *fakeProjects) create(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := uuid.NewString()
	f.projects[id] = &fakeProject{Project: Project{ID: id, Name: name, Type: catalog.Traditional, Role: "owner", CurrentGate: 1},
		gates: []*fakeGate{{Gate: Gate{Number: 1, State: GatePending}}}, taskKeys: map[string]int{}}
	return id
}

func (f *fakeProjects) project(id string) (*fakeProject, error) {
	p, ok := f.projects[id]
	if !ok {
		return nil, apperr.NotFound("project %s not found", id)
	}
	return p, nil
}

func (p *fakeProject) gate(n int) (*fakeGate, error) {
	if n < 1 || n > len(p.gates) {
		return nil, apperr.FailedPrecondition("gate G%d has not been reached", n)
	}
	return p.gates[n-1], nil
}

// gate returns a copy of one gate.
func (f *fakeProjects) gate(pid string, n int) (fakeGate, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.project(pid)
	if err != nil {
		return fakeGate{}, false
	}
	g, err := p.gate(n)
	if err != nil {
		return fakeGate{}, false
	}
	c := *g
	c.delivered, c.proven = slices.Clone(g.delivered), slices.Clone(g.proven)
	return c, true
}

// tasksOf returns the project's tasks and the number of batches that created any.
func (f *fakeProjects) tasksOf(pid string) ([]NewTask, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.projects[pid]
	return slices.Clone(p.tasks), len(p.taskKeys)
}

// proofsOf returns the proofs recorded at a gate, oldest first.
func (f *fakeProjects) proofsOf(pid string, n int) []fakeProof {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeProof
	for _, pr := range f.projects[pid].proofs {
		if pr.Gate == n {
			out = append(out, pr)
		}
	}
	return out
}

// transition moves a gate as the projects service would, refusing what its state machine does.
func (f *fakeProjects) transition(pid string, n int, trans, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.project(pid)
	if err != nil {
		return err
	}
	g, err := p.gate(n)
	if err != nil {
		return err
	}
	from := g.State
	legal := map[string][]string{
		"start":           {GatePending, GateChangesRequested},
		"submit":          {GateInProgress},
		"approve":         {GateInReview},
		"request changes": {GateInReview},
		"block":           {GatePending, GateInProgress, GateInReview, GateChangesRequested},
		"unblock":         {GateBlocked},
	}
	if !slices.Contains(legal[trans], from) {
		return apperr.FailedPrecondition("cannot %s gate G%d: it is %s", trans, n, from)
	}
	wf := traditionalWorkflow[n-1]
	switch trans {
	case "start":
		g.State = GateInProgress
	case "submit", "approve":
		if missing := absent(wf.Deliverables, g.delivered); len(missing) > 0 {
			return apperr.FailedPrecondition("G%d lacks deliverables %v", n, missing)
		}
		if missing := absent(wf.Proofs, g.proven); len(missing) > 0 {
			return apperr.FailedPrecondition("G%d lacks proofs %v", n, missing)
		}
		g.State = GateInReview
		if trans == "approve" {
			g.State = GateApproved
			if n == len(traditionalWorkflow) {
				p.Completed = true
			} else {
				p.CurrentGate = n + 1
				p.gates = append(p.gates, &fakeGate{Gate: Gate{Number: n + 1, State: GatePending}})
			}
		}
	case "request changes":
		g.State, g.ChangeNotes = GateChangesRequested, reason
		g.Revision++
	case "block":
		g.State, g.blockedFrom, g.blockedReason = GateBlocked, from, reason
	case "unblock":
		g.State, g.blockedFrom, g.blockedReason = g.blockedFrom, "", ""
	}
	return nil
}

// decide is the owner's decision: approve, request changes (with notes) or unblock.
func (f *fakeProjects) decide(pid string, n int, trans, notes string) error {
	return f.transition(pid, n, trans, notes)
}

// deliver records a deliverable, as the documents service does when it saves a document.
func (f *fakeProjects) deliver(pid string, n int, docType string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g, err := f.projects[pid].gate(n); err == nil && !slices.Contains(g.delivered, docType) {
		g.delivered = append(g.delivered, docType)
	}
}

func (f *fakeProjects) Authorize(_ context.Context, projectID string, _ bool) (Project, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.project(projectID)
	if err != nil {
		return Project{}, err
	}
	return p.Project, nil
}

func (f *fakeProjects) Project(ctx context.Context, projectID string) (Project, error) {
	return f.Authorize(ctx, projectID, false)
}

func (f *fakeProjects) SetDescription(_ context.Context, projectID, description string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.project(projectID)
	if err == nil {
		p.Description = description
	}
	return err
}

func (f *fakeProjects) Workflow(_ context.Context, projectType string) ([]WorkflowGate, error) {
	if projectType != catalog.Traditional {
		return nil, apperr.InvalidField("projectType", "the doubles know the traditional workflow only")
	}
	return traditionalWorkflow, nil
}

func (f *fakeProjects) Gates(_ context.Context, projectID string) ([]Gate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.project(projectID)
	if err != nil {
		return nil, err
	}
	var out []Gate
	for _, g := range p.gates {
		c := g.Gate
		wf := traditionalWorkflow[g.Number-1]
		c.MissingDeliverables, c.MissingProofs = absent(wf.Deliverables, g.delivered), absent(wf.Proofs, g.proven)
		out = append(out, c)
	}
	return out, nil
}

func (f *fakeProjects) StartGate(_ context.Context, projectID string, gate int) error {
	return f.transition(projectID, gate, "start", "")
}

func (f *fakeProjects) SubmitGate(_ context.Context, projectID string, gate int) error {
	return f.transition(projectID, gate, "submit", "")
}

func (f *fakeProjects) BlockGate(_ context.Context, projectID string, gate int, reason string) error {
	return f.transition(projectID, gate, "block", reason)
}

func (f *fakeProjects) RecordProof(_ context.Context, projectID string, gate int, proofType string, pass bool, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.project(projectID)
	if err != nil {
		return err
	}
	g, err := p.gate(gate)
	if err != nil {
		return err
	}
	if g.State != GateInProgress {
		return apperr.FailedPrecondition("gate G%d is %s: proofs are recorded while it is worked on", gate, g.State)
	}
	p.proofs = append(p.proofs, fakeProof{Gate: gate, Type: proofType, Pass: pass})
	if pass && !slices.Contains(g.proven, proofType) {
		g.proven = append(g.proven, proofType)
	}
	return nil
}

func (f *fakeProjects) CreateTasks(_ context.Context, projectID string, tasks []NewTask, idempotencyKey string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.project(projectID)
	if err != nil {
		return 0, err
	}
	if n, ok := p.taskKeys[idempotencyKey]; ok {
		return n, nil
	}
	p.tasks = append(p.tasks, tasks...)
	p.taskKeys[idempotencyKey] = len(tasks)
	return len(tasks), nil
}

func (f *fakeProjects) TaskIDs(_ context.Context, projectID string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.project(projectID)
	if err != nil {
		return nil, err
	}
	ids := map[string]string{}
	for i, t := range p.tasks {
		if _, seen := ids[t.Key]; !seen {
			ids[t.Key] = fmt.Sprintf("task-%d", i)
		}
	}
	return ids, nil
}

func (f *fakeProjects) OpenTasks(_ context.Context, projectID string, limit int) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.project(projectID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range p.tasks {
		if len(out) < limit {
			out = append(out, t.Title)
		}
	}
	return out, nil
}

// fakeDocuments is the documents service, in memory: a batch adds versions of documents of the
// same type and title, records each as its gate's deliverable, and a repeat of a batch's key
// stores nothing and returns what the first did.
type fakeDocuments struct {
	projects *fakeProjects
	mu       sync.Mutex
	docs     []*fakeDocument
	batches  map[string][]store.Document // by idempotency key
	calls    int                         // batches received (replays included)
}

var _ Documents = (*fakeDocuments)(nil)

type fakeDocument struct {
	ID, ProjectID, Type, Title string
	Gate                       int
	Versions                   []string // contents, version n at n-1
}

func (d *fakeDocuments) Latest(_ context.Context, projectID string, perDoc, total int) ([]provider.ContextDocument, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []provider.ContextDocument
	for i := len(d.docs) - 1; i >= 0 && total > 0; i-- {
		doc := d.docs[i]
		if doc.ProjectID != projectID || doc.Type == "code" && sourcetree.IsPath(doc.Title) {
			continue
		}
		content := cut(doc.Versions[len(doc.Versions)-1], min(perDoc, total))
		total -= len(content)
		out = append(out, provider.ContextDocument{Type: doc.Type, Title: doc.Title, Version: len(doc.Versions), Content: content})
	}
	return out, nil
}

func (d *fakeDocuments) Files(_ context.Context, projectID string) ([]SourceFile, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []SourceFile
	for _, doc := range d.docs {
		if doc.ProjectID == projectID && doc.Type == "code" && sourcetree.IsPath(doc.Title) {
			latest := []byte(doc.Versions[len(doc.Versions)-1])
			out = append(out, SourceFile{Path: doc.Title, DocumentID: doc.ID, Version: len(doc.Versions), Gate: doc.Gate,
				ContentHash: sourcetree.ContentHash(latest), Size: int64(len(latest))})
		}
	}
	slices.SortFunc(out, func(a, b SourceFile) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

func (d *fakeDocuments) Content(_ context.Context, projectID, documentID string, version int) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, doc := range d.docs {
		if doc.ProjectID == projectID && doc.ID == documentID && version >= 1 && version <= len(doc.Versions) {
			return []byte(doc.Versions[version-1]), nil
		}
	}
	return nil, apperr.NotFound("version %d of document %q not found", version, documentID)
}

func (d *fakeDocuments) Store(_ context.Context, r store.Run, docs []output.Document, idempotencyKey string) ([]store.Document, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if saved, ok := d.batches[idempotencyKey]; ok {
		return saved, nil
	}
	var out []store.Document
	for _, in := range docs {
		i := slices.IndexFunc(d.docs, func(o *fakeDocument) bool {
			return o.ProjectID == r.ProjectID && o.Type == in.Type && o.Title == in.Title
		})
		if i < 0 {
			d.docs = append(d.docs, &fakeDocument{ID: uuid.NewString(), ProjectID: r.ProjectID, Type: in.Type, Title: in.Title, Gate: r.Gate})
			i = len(d.docs) - 1
		}
		doc := d.docs[i]
		doc.Versions = append(doc.Versions, in.Content)
		out = append(out, store.Document{ID: doc.ID, Type: doc.Type, Title: doc.Title, Version: len(doc.Versions)})
		d.projects.deliver(r.ProjectID, r.Gate, in.Type)
	}
	d.batches[idempotencyKey] = out
	return out, nil
}

// documentsOf returns the project's documents at a gate, as (id, type, title, versions).
func (d *fakeDocuments) documentsOf(pid string, gate int) []fakeDocument {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []fakeDocument
	for _, doc := range d.docs {
		if doc.ProjectID == pid && doc.Gate == gate {
			c := *doc
			c.Versions = slices.Clone(doc.Versions)
			out = append(out, c)
		}
	}
	return out
}

func (d *fakeDocuments) batchCalls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

// absent lists the entries of want missing from have.
func absent(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}
