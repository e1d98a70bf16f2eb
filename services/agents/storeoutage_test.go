package agents

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/fuzzyllama/fuzzyllama/platform/logging/logtest"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// tcpProxy stands between the store and its PostgreSQL server, so that a test can take the
// database away from one agents process (cut: its connections are closed and new ones refused)
// and give it back (restore), without touching the shared server.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

// newTCPProxy proxies to the host of the PostgreSQL URL dsn and returns the URL through it.
func newTCPProxy(t *testing.T, dsn string) (*tcpProxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: u.Host, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	go p.serve()
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			_ = c.Close() // the server is gone: the client reads EOF at once
			continue
		}
		go p.pipe(c)
	}
}

func (p *tcpProxy) pipe(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		_ = c.Close()
		_ = s.Close()
		return
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	copyHalf := func(dst, src net.Conn) { _, _ = io.Copy(dst, src); done <- struct{}{} }
	go copyHalf(s, c)
	go copyHalf(c, s)
	<-done
	_, _ = c.Close(), s.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	p.mu.Unlock()
}

// cut closes every connection and refuses new ones until restore.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *tcpProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// outageMidAnswer is a model that loses its worker's database halfway through its answer: after
// the first piece it has the test cut the database (for 2.5 s), streams the rest slowly (a
// piece every 120 ms, each a batch the store cannot take) and reports its usage.
type outageMidAnswer struct {
	provider.Provider
	cut func()
}

func (p outageMidAnswer) Stream(ctx context.Context, req provider.Request, onText func(string) error) (provider.Response, error) {
	pieces := 0
	resp, err := p.Provider.Stream(ctx, req, func(text string) error {
		pieces++
		switch {
		case pieces == 1:
			p.cut()
		case pieces <= 7:
			time.Sleep(120 * time.Millisecond)
		}
		return onText(text)
	})
	resp.Offline, resp.Model = false, "claude-sonnet-4-5"
	resp.Usage = provider.Usage{InputTokens: 1200, OutputTokens: 3400}
	return resp, err
}

// TestStoreOutageDuringModelCall: the agents' own database is away for 2.5 s while a model
// answers. The complete answer is kept (saved once the database is back), so the model is called
// once and no attempt is spent; its usage is counted; and the streamed pieces the store could not
// take are logged once for the outage (its end at INFO), not once per batch.
func TestStoreOutageDuringModelCall(t *testing.T) {
	var proxy *tcpProxy
	logs := &logtest.Buffer{}
	h := newHarness(t, "postgres", harnessConfig{
		wrapDSN: func(dsn string) string {
			var through string
			proxy, through = newTCPProxy(t, dsn)
			return through
		},
		logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	var once sync.Once
	// The worker may stream before StartWork has finished its own writes: cut only after it has.
	started := make(chan struct{})
	var startOnce sync.Once
	markStarted := func() { startOnce.Do(func() { close(started) }) }
	t.Cleanup(markStarted) // before the harness stops, should StartWork fail
	h.offline.Provider = outageMidAnswer{Provider: h.offline.Provider, cut: func() {
		once.Do(func() {
			<-started
			proxy.cut()
			time.AfterFunc(2500*time.Millisecond, proxy.restore)
		})
	}}
	pid := h.newProject("Recipes")
	intake := h.startWork(pid)
	markStarted()
	// The run is watched (through the same database: its reads fail during the outage), not its
	// gate: a reconcile the outage cut off holds the project's reconcile lease until it lapses.
	ctx := context.Background()
	r, err := h.db.Run(ctx, intake.ID)
	for deadline := time.Now().Add(30 * time.Second); (err != nil || r.Active()) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		r, err = h.db.Run(ctx, intake.ID)
	}
	if err != nil || r.State != store.StateSucceeded || r.Attempt != 1 || r.Output == "" {
		t.Fatalf("run: %+v, %v", r, err)
	}
	if calls := h.offline.callsOf("product_manager", 1); calls != 1 {
		t.Errorf("the model was called %d times, want 1", calls)
	}
	if docs := h.documents.documentsOf(pid, 1); len(docs) != 1 || len(docs[0].Versions) != 1 {
		t.Errorf("the intake's documents: %+v", docs)
	}
	if r.InputTokens != 1200 || r.OutputTokens != 3400 || r.CostMicros == 0 {
		t.Errorf("usage recorded: %d in, %d out, %d µ$; want 1200, 3400 and its cost", r.InputTokens, r.OutputTokens, r.CostMicros)
	}
	if warns := logs.Matching("WARN", "streamed output", "agents database"); len(warns) != 1 {
		t.Errorf("%d WARN lines about the store's outage, want 1: %v", len(warns), warns)
	}
	if infos := logs.Matching("INFO", "agents database"); len(infos) != 1 {
		t.Errorf("%d INFO lines about the store's return, want 1: %v", len(infos), infos)
	}
}

// cutWhileStoring is a documents service that, the first time a run stores its documents, has
// the test cut the database and then answers only when the run gives up the call (its worker
// lost its lease): a worker cut off mid-run by an outage of the database longer than its lease.
type cutWhileStoring struct {
	Documents
	cut  func()
	once sync.Once
}

func (d *cutWhileStoring) Store(ctx context.Context, r store.Run, docs []output.Document, key string) ([]store.Document, error) {
	first := false
	d.once.Do(func() { first = true })
	if first {
		d.cut()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return d.Documents.Store(ctx, r, docs, key)
}

// TestOutageRescueIsNotCounted: the agents database is out for twice the lease (1.2 s, lease
// 0.6 s) while a run's worker stores its documents: the worker loses its lease and stops, and
// once the database is back the run is handed on and completed. That rescue is the outage's,
// not a worker the run stopped: it is not counted (repeated outages must not fail a run with
// "the worker running it stopped 6 times"), and the run says why it was resumed.
func TestOutageRescueIsNotCounted(t *testing.T) {
	var proxy *tcpProxy
	docs := &cutWhileStoring{}
	h := newHarness(t, "postgres", harnessConfig{
		wrapDSN: func(dsn string) string {
			var through string
			proxy, through = newTCPProxy(t, dsn)
			return through
		},
		wrapDocuments: func(d Documents) Documents { docs.Documents = d; return docs },
		limits:        func(l *Limits) { l.LeaseTTL = 600 * time.Millisecond },
	})
	docs.cut = func() {
		proxy.cut()
		time.AfterFunc(1200*time.Millisecond, proxy.restore)
	}
	pid := h.newProject("Recipes")
	intake := h.startWork(pid)
	ctx := context.Background()
	r, err := h.db.Run(ctx, intake.ID)
	for deadline := time.Now().Add(30 * time.Second); (err != nil || r.Active()) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		r, err = h.db.Run(ctx, intake.ID)
	}
	if err != nil || r.State != store.StateSucceeded || r.Attempt != 1 || r.JobID == intake.JobID {
		t.Fatalf("run: %+v, %v", r, err)
	}
	if r.Rescues != 0 || !r.RescuedAt.IsZero() {
		t.Errorf("the outage's rescue was counted: %d rescues, at %s", r.Rescues, r.RescuedAt)
	}
	if calls := h.offline.callsOf("product_manager", 1); calls != 1 {
		t.Errorf("the model was called %d times, want 1", calls)
	}
}

// TestLeaseRunOutKeepsTheJob: a worker whose lease ran out (it could not renew it during an
// outage of the database) stops without writing, but its job is not ended: when the database
// is back before the rescuer hands the run on, the worker's release puts the run back to queued
// under that same job, which must then work it again (ended, it would leave the run queued
// with no job, for the sweep to fail as an orphan).
func TestLeaseRunOutKeepsTheJob(t *testing.T) {
	h := newHarness(t, "sqlite", harnessConfig{idle: true})
	ctx := context.Background()
	r, _, err := h.db.CreateRun(ctx, store.Run{ID: "r1", ProjectID: h.newProject("P"), Gate: 1, Role: "product_manager",
		UserID: owner, Model: "offline", MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	l := store.Lease{RunID: r.ID, Token: "a worker"}
	if r, err = h.db.Claim(ctx, r.ID, r.JobID, l.Token, time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancelCause(ctx)
	cancel(errLeaseLost) // what holdLease does when the lease ran out before a renewal succeeded
	err = h.s.settle(wctx, l, r, wctx.Err())
	var snooze *river.JobSnoozeError
	if !errors.As(err, &snooze) {
		t.Fatalf("settle after the lease ran out: %v, want the job snoozed", err)
	}
	if err := h.db.ReleaseLease(ctx, l); err != nil { // the worker's release, the database back
		t.Fatal(err)
	}
	if err := h.s.execute(ctx, r.ID, r.JobID); err != nil {
		t.Fatalf("the job worked again: %v", err)
	}
	if done, err := h.db.Run(ctx, r.ID); err != nil || done.State != store.StateSucceeded || done.Attempt != 1 {
		t.Fatalf("run: %+v, %v", done, err)
	}
}
