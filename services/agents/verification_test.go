package agents

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/bwrap"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// TestMain lets the local sandbox runner re-execute this test binary as its helper.
func TestMain(m *testing.M) {
	bwrap.Init()
	os.Exit(m.Run())
}

// fakeEvidence is the projects service's side of verification, over the doubles: a gate's
// deliverables hash is that of its documents' latest contents, and a proof with how it ran is
// recorded as any proof (and kept, to be looked at).
type fakeEvidence struct {
	*fakeProjects
	documents *fakeDocuments
	mu        sync.Mutex
	recorded  []RunProof
}

func (e *fakeEvidence) GateEvidence(_ context.Context, projectID string, gate int) (GateEvidence, error) {
	var entries []sourcetree.Entry
	for _, d := range e.documents.documentsOf(projectID, gate) {
		entries = append(entries, sourcetree.Entry{Path: d.Type + "/" + d.Title, ContentHash: sourcetree.ContentHash([]byte(d.Versions[len(d.Versions)-1]))})
	}
	e.fakeProjects.mu.Lock()
	defer e.fakeProjects.mu.Unlock()
	p, err := e.project(projectID)
	if err != nil {
		return GateEvidence{}, err
	}
	g, err := p.gate(gate)
	if err != nil {
		return GateEvidence{}, err
	}
	wf := traditionalWorkflow[gate-1]
	ev := GateEvidence{Revision: g.Revision, State: g.State, DeliverablesHash: sourcetree.Hash(entries), Proofs: wf.Proofs,
		MissingProofs: absent(wf.Proofs, g.proven)}
	if gate == 6 {
		ev.CoverageThreshold = 80
	}
	return ev, nil
}

func (e *fakeEvidence) RecordRunProof(ctx context.Context, projectID string, gate int, p RunProof) error {
	if err := e.RecordProof(ctx, projectID, gate, p.Type, p.Pass, p.Summary); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recorded = append(e.recorded, p)
	return nil
}

func (e *fakeEvidence) proofs() []RunProof {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]RunProof(nil), e.recorded...)
}

// developerEdits answers as the offline provider, with the files of the developer roles'
// answers passed through edit first.
type developerEdits struct {
	Providers
	edit func(req provider.Request, files []output.File) []output.File
}

func (d developerEdits) For(model string) (provider.Provider, error) {
	p, err := d.Providers.For(model)
	return editedProvider{Provider: p, edit: d.edit}, err
}

type editedProvider struct {
	provider.Provider
	edit func(req provider.Request, files []output.File) []output.File
}

func (p editedProvider) Stream(ctx context.Context, req provider.Request, onText func(string) error) (provider.Response, error) {
	if req.Brief.Role != catalog.BackendDeveloper && req.Brief.Role != catalog.FrontendDeveloper {
		return p.Provider.Stream(ctx, req, onText)
	}
	var text strings.Builder
	resp, err := p.Provider.Stream(ctx, req, func(s string) error { text.WriteString(s); return nil })
	if err != nil {
		return resp, err
	}
	out, err := output.Parse(text.String())
	if err != nil {
		return resp, err
	}
	out.Files = p.edit(req, out.Files)
	return resp, onText(output.Format(out))
}

// breakingProviders answers as the offline provider, except that the backend developer's Go
// code never compiles (each answer refers to an undefined name of its own) and the frontend
// developer writes only its README (so the test builds no frontend).
type breakingProviders struct {
	mu      sync.Mutex
	answers int
	prompts []string // the backend developer's, in order
}

func (b *breakingProviders) edit(req provider.Request, in []output.File) []output.File {
	var files []output.File
	for _, f := range in {
		switch {
		case req.Brief.Role == catalog.FrontendDeveloper && f.Path == "frontend/README.md":
			files = append(files, f)
		case req.Brief.Role == catalog.BackendDeveloper:
			if f.Path == "backend/internal/api/api.go" {
				b.mu.Lock()
				b.answers++
				f.Content += fmt.Sprintf("\nvar _ = notDefined%d\n", b.answers)
				b.prompts = append(b.prompts, req.Messages[len(req.Messages)-1].Content)
				b.mu.Unlock()
			}
			files = append(files, f)
		}
	}
	return files
}

func (b *breakingProviders) backendPrompts() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.prompts...)
}

// newLocalRunner is the local sandbox runner, its caches in a directory of the test; without
// bubblewrap the test is skipped, except in CI, where it must run.
func newLocalRunner(t *testing.T) *bwrap.Runner {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	r, err := bwrap.New(bwrap.Config{CacheDir: filepath.Join(dir, "cache"), WorkDir: filepath.Join(dir, "work")})
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no local sandbox here: %v", err)
		}
		t.Fatalf("the local sandbox must run in CI: %v", err)
	}
	return r
}

// TestVerificationRepairsThenBlocks: code that does not compile gives a failing build proof
// carrying the compiler's error (produced by the sandbox, with its log), the developer who
// wrote it runs again with that error in the prompt, and once the repairs are spent the gate
// blocks with the error as its reason.
func TestVerificationRepairsThenBlocks(t *testing.T) {
	runner := newLocalRunner(t)
	breaking := &breakingProviders{}
	h := newHarness(t, "sqlite", harnessConfig{runner: runner,
		providers: func(p Providers) Providers { return developerEdits{Providers: p, edit: breaking.edit} },
		limits:    func(l *Limits) { l.VerifyRepairs = 1 }})
	pid := h.newProject("Recipes")
	h.startWork(pid)
	for n := 1; n <= 4; n++ {
		h.waitGate(pid, n, GateInReview)
		h.approve(pid, n)
	}
	// Two verifications (the first, and the one after the repair), each building in the sandbox.
	deadline := time.Now().Add(3 * time.Minute)
	var g fakeGate
	for {
		g, _ = h.projects.gate(pid, 5)
		if g.State == GateBlocked {
			break
		}
		if time.Now().After(deadline) {
			list, _ := h.db.Verifications(context.Background(), pid, 5, 10)
			t.Fatalf("G5 is %s after 3 minutes; verifications %+v", g.State, list)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(g.blockedReason, "undefined: notDefined2") || !strings.Contains(g.blockedReason, "1 repairs did not fix it") {
		t.Fatalf("G5 blocked: %s", g.blockedReason)
	}
	// The first verification's failure was in the backend developer's repair prompt.
	prompts := breaking.backendPrompts()
	if len(prompts) != 2 || strings.Contains(prompts[0], "notDefined1") || !strings.Contains(prompts[1], "undefined: notDefined1") ||
		!strings.Contains(prompts[1], "build failed in backend") {
		t.Fatalf("%d backend prompts; the repair's:\n%s", len(prompts), prompts[len(prompts)-1])
	}
	// Only the backend developer was sent back: the frontend's files did not fail.
	if n := h.offline.callsOf(catalog.FrontendDeveloper, 5); n != 1 {
		t.Errorf("the frontend developer ran %d times at G5, want 1", n)
	}
	// The proofs came from the sandbox: a failing build with the compiler's error and its log.
	var builds []RunProof
	for _, p := range h.evidence.proofs() {
		if p.Type == "build" {
			builds = append(builds, p)
		}
	}
	if len(builds) != 2 {
		t.Fatalf("build proofs: %+v", builds)
	}
	for _, b := range builds {
		if b.Pass || b.ExitCode != 1 || b.Runner != "local" || !strings.HasPrefix(b.TreeHash, "sha256:") ||
			b.Command != "cd backend && go build ./..." || !strings.Contains(b.Summary, "undefined: notDefined") || len(b.Artifacts) != 1 {
			t.Fatalf("build proof: %+v", b)
		}
		log, err := h.db.Artifact(context.Background(), pid, b.Artifacts[0].ID)
		if err != nil || !strings.Contains(string(log.Content), "api.go") || !strings.Contains(string(log.Content), "[exit 1 after") {
			t.Fatalf("build log: %v\n%s", err, log.Content)
		}
	}
	list, err := h.db.Verifications(context.Background(), pid, 5, 10)
	if err != nil || len(list) != 2 || list[0].State != store.VerificationFailed || list[0].Repair != 1 || !list[1].RepairStarted {
		t.Fatalf("verifications: %+v, %v", list, err)
	}
}

// onlyREADMEs keeps the developers' READMEs: a tree with nothing to build.
func onlyREADMEs(_ provider.Request, in []output.File) []output.File {
	var readmes []output.File
	for _, f := range in {
		if strings.HasSuffix(f.Path, "/README.md") {
			readmes = append(readmes, f)
		}
	}
	return readmes
}

// TestNothingToVerifyLeavesTheProofsToTheOwner: a tree the sandbox has nothing to build in does
// not block the gate: the verification is skipped, saying why, and the gate waits in progress
// for the owner's proofs.
func TestNothingToVerifyLeavesTheProofsToTheOwner(t *testing.T) {
	runner := newLocalRunner(t)
	h := newHarness(t, "sqlite", harnessConfig{runner: runner,
		providers: func(p Providers) Providers { return developerEdits{Providers: p, edit: onlyREADMEs} }})
	pid := h.newProject("Recipes")
	h.startWork(pid)
	for n := 1; n <= 4; n++ {
		h.waitGate(pid, n, GateInReview)
		h.approve(pid, n)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		list, err := h.db.Verifications(context.Background(), pid, 5, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) > 0 && !list[0].Active() {
			if len(list) != 1 || list[0].State != store.VerificationSkipped || !strings.Contains(list[0].Error, "nothing to build") {
				t.Fatalf("verifications: %+v", list)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verification of G5 ended in a minute: %+v", list)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A later look changes nothing: no block, no second verification.
	for i := 0; ; i++ {
		err := h.s.Reconcile(context.Background(), pid)
		if err == nil {
			break
		}
		if i == 50 { // held by the queue's own reconcile each time
			t.Fatalf("reconcile: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if g, _ := h.projects.gate(pid, 5); g.State != GateInProgress {
		t.Fatalf("G5 is %s (%s), want in progress for the owner's proofs", g.State, g.blockedReason)
	}
	if list, _ := h.db.Verifications(context.Background(), pid, 5, 10); len(list) != 1 {
		t.Fatalf("verifications after another look: %+v", list)
	}
}
