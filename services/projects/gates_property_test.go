package projects_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/services/projects"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

// TestGatesNeverDeadEnd drives random sequences of calls (start, submit, deliverables, passing
// and failing proofs, requests for changes, approvals, blocks and unblocks, by the owner, an
// editor, and the agents and documents services acting for the owner) through the service on a real store, and checks
// after every step that a way forward exists: a gate in review has everything its approval needs
// (so the owner can approve it), an open gate can take what it lacks, and the status, the gate
// and the refusals agree with each other. GATES_SEED repeats a run.
func TestGatesNeverDeadEnd(t *testing.T) {
	for name, steps := range map[string]int{"sqlite": 6000, "postgres": 1500} {
		if raceDetector {
			// Under -race (make test) each step costs ten times as much: a shorter walk, a new
			// seed every run; the full walk runs without -race.
			steps /= 4
		}
		t.Run(name, func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			if s := os.Getenv("GATES_SEED"); s != "" {
				var err error
				if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
					t.Fatal(err)
				}
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("repeat with GATES_SEED=%d", seed)
				}
			})
			svc, _ := newService(t, stores[name])
			w := &walker{t: t, svc: svc, rng: rand.New(rand.NewPCG(seed, 0))}
			w.newProject()
			for i := range steps {
				w.step = i
				w.act()
				w.check()
			}
			t.Logf("seed %d: %d steps, %d projects completed, highest gate reached G%d", seed, steps, w.completed, w.highest)
		})
	}
}

type walker struct {
	t         *testing.T
	svc       *projects.Service
	rng       *rand.Rand
	project   string
	step      int
	completed int
	highest   int
	log       []string // the calls on the current project, for the failure message
}

var (
	walkOwner  = owner
	walkEditor = ed
	walkAll    = []authn.Identity{walkOwner, walkEditor, agents}
)

func (w *walker) newProject() {
	ctx := context.Background()
	p, err := w.svc.CreateProject(ctx, walkOwner, fmt.Sprintf("Walk %d", w.step), "", workflow.Traditional, "")
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.svc.AddMember(ctx, walkOwner, p.ID, "ed@example.com", store.RoleEditor); err != nil {
		w.t.Fatal(err)
	}
	w.project, w.log = p.ID, nil
}

// state is what the service says of the current gate.
func (w *walker) state() (projects.Status, projects.GateDetail) {
	ctx := context.Background()
	st, err := w.svc.GetStatus(ctx, walkOwner, w.project)
	if err != nil {
		w.t.Fatal(err)
	}
	g, err := w.svc.GetGate(ctx, walkOwner, w.project, st.Project.CurrentGate)
	if err != nil {
		w.t.Fatal(err)
	}
	return st, g
}

func (w *walker) pick(ids []authn.Identity) authn.Identity { return ids[w.rng.IntN(len(ids))] }

// decider picks who decides on a gate: mostly the owner, so that projects move on.
func (w *walker) decider() authn.Identity {
	if w.rng.IntN(3) > 0 {
		return walkOwner
	}
	return w.pick(walkAll)
}

func who(id authn.Identity) string {
	if id.Delegated() {
		return id.Actor
	}
	return id.UserID
}

// act makes one random call on the current gate and checks its outcome against the state before.
func (w *walker) act() {
	ctx := context.Background()
	st, g := w.state()
	if st.Project.Status == store.StatusCompleted {
		w.completed++
		w.newProject()
		return
	}
	n, def := g.Number, g.Def
	met := g.Requirements.Met()
	var (
		call  string
		by    authn.Identity
		err   error
		legal bool // whether the call must succeed
	)
	switch op := w.rng.IntN(100); {
	case op < 10:
		by = w.pick(walkAll)
		call, legal = "start", g.State == projects.GatePending || g.State == projects.GateChangesRequested
		_, err = w.svc.StartGate(ctx, by, w.project, n)
	case op < 22:
		by = w.pick(walkAll)
		call, legal = "submit", g.State == projects.GateInProgress && met
		_, err = w.svc.SubmitGate(ctx, by, w.project, n)
		if g.State == projects.GateInProgress && !met && !isReason(err, projects.ReasonRequirementsMissing) {
			w.fail("submit of a gate lacking %v %v: %v, want %s", g.Requirements.Deliverables, g.Requirements.ProofTypes(), err,
				projects.ReasonRequirementsMissing)
		}
	case op < 45:
		types := append(slices.Clone(def.Deliverables), workflow.DocOther)
		typ := types[w.rng.IntN(len(types))]
		id := fmt.Sprintf("%s-%d", typ, w.rng.IntN(2))
		// Only the documents service records deliverables; people and the agents are refused.
		by = documentsSvc
		if w.rng.IntN(5) == 0 {
			by = w.pick(walkAll)
		}
		call = fmt.Sprintf("deliver %s", id)
		legal = by == documentsSvc && takesEvidence(g.Gate)
		_, err = w.svc.RecordDeliverable(ctx, by, store.Deliverable{ProjectID: w.project, Gate: n, DocumentType: typ, DocumentID: id,
			Version: 1 + w.rng.IntN(3), ContentHash: contentHash(fmt.Sprint(w.rng.IntN(2))), Complete: w.rng.IntN(8) > 0})
	case op < 70:
		types := append(slices.Clone(def.Proofs), workflow.ProofLint, workflow.ProofSpecValidation)
		typ := types[w.rng.IntN(len(types))]
		result := projects.ProofPass
		if w.rng.IntN(5) == 0 {
			result = projects.ProofFail
		}
		by = w.pick(walkAll)
		call = fmt.Sprintf("prove %s %s", typ, result)
		open := takesEvidence(g.Gate)
		inRevision := 0
		for _, p := range g.Proofs {
			if p.Revision == g.Revision {
				inRevision++
			}
		}
		// Past 100 proofs in a revision, only a passing one of a required type the gate lacks.
		room := inRevision < 100 || result == projects.ProofPass && slices.Contains(g.Requirements.ProofTypes(), typ)
		legal = open && (typ != workflow.ProofSpecValidation || by.Delegated()) && room
		_, err = w.svc.RecordProof(ctx, by, store.Proof{ProjectID: w.project, Gate: n, Type: typ, Result: result, Summary: "walk"})
	case op < 78:
		by = w.decider()
		call, legal = "request changes", g.State == projects.GateInReview && by == walkOwner
		_, err = w.svc.RequestGateChanges(ctx, by, w.project, n, "again")
	case op < 90:
		by = w.decider()
		// No dead end: a gate in review can always be approved by its owner.
		call, legal = "approve", g.State == projects.GateInReview && by == walkOwner
		_, err = w.svc.ApproveGate(ctx, by, w.project, n, "")
	case op < 95:
		by = w.pick(walkAll)
		call, legal = "block", g.State != projects.GateBlocked && g.State != projects.GateApproved
		_, err = w.svc.BlockGate(ctx, by, w.project, n, "stuck")
	default:
		by = w.decider()
		call, legal = "unblock", g.State == projects.GateBlocked && by == walkOwner
		_, err = w.svc.UnblockGate(ctx, by, w.project, n)
	}
	w.log = append(w.log, fmt.Sprintf("G%d %s: %s by %s -> %v", n, g.State, call, who(by), err))
	switch {
	case legal && err != nil:
		w.fail("%s by %s refused: %v", call, who(by), err)
	case !legal && err == nil:
		w.fail("%s by %s succeeded", call, who(by))
	case err != nil && !apperr.IsKind(err, apperr.KindFailedPrecondition) && !apperr.IsKind(err, apperr.KindPermissionDenied) &&
		!apperr.IsKind(err, apperr.KindInvalid):
		w.fail("%s by %s: unexpected error %v", call, who(by), err)
	}
}

// takesEvidence is the model of when a gate takes deliverables and proofs: while it is worked on,
// or paused by a block while it was (a block in review keeps the record frozen).
func takesEvidence(g store.Gate) bool {
	switch g.State {
	case projects.GatePending, projects.GateInProgress, projects.GateChangesRequested:
		return true
	case projects.GateBlocked:
		return g.BlockedFrom != projects.GateInReview
	}
	return false
}

func isReason(err error, reason string) bool {
	e, ok := apperr.As(err)
	return ok && e.Reason == reason
}

// check asserts that the project is not at a dead end and that its views agree.
func (w *walker) check() {
	st, g := w.state()
	w.highest = max(w.highest, g.Number)
	if st.Project.Status == store.StatusCompleted {
		if st.Next.Kind != projects.NextProjectComplete {
			w.fail("completed project's next step: %+v", st.Next)
		}
		return
	}
	r := g.Requirements
	if !slices.Equal(st.MissingDocs, r.Deliverables) || !slices.Equal(st.MissingProofs, r.ProofTypes()) ||
		!slices.Equal(st.Next.MissingDocs, r.Deliverables) || !slices.Equal(st.Next.MissingProofs, r.ProofTypes()) {
		w.fail("status lacks %v %v, the gate %v %v", st.MissingDocs, st.MissingProofs, r.Deliverables, r.ProofTypes())
	}
	// The state the gate is in, or returns to when unblocked.
	state := g.State
	if state == projects.GateBlocked {
		state = g.BlockedFrom
		if st.Next.Kind != projects.NextUnblockGate {
			w.fail("blocked gate's next step: %+v", st.Next)
		}
	}
	switch state {
	case projects.GatePending, projects.GateChangesRequested:
		want := projects.NextStartGate
		if g.Number == 1 && state == projects.GatePending {
			want = projects.NextStartWork // nothing has started yet
		}
		if g.State != projects.GateBlocked && st.Next.Kind != want {
			w.fail("next step of a %s gate: %+v", g.State, st.Next)
		}
	case projects.GateInProgress:
		// Open: every missing item can be recorded by someone (deliverables by the documents
		// service, spec validation by the agents, the rest by the owner or an editor).
		want := projects.NextSubmitGate
		switch {
		case len(r.Deliverables) > 0:
			want = projects.NextProduceDeliverables
		case slices.ContainsFunc(r.Proofs, func(m projects.MissingProof) bool { return m.Type != workflow.ProofSpecValidation }):
			want = projects.NextRecordProofs
		case len(r.Proofs) > 0:
			want = projects.NextWaitForAgents
		}
		if g.State != projects.GateBlocked && st.Next.Kind != want {
			w.fail("next step of an in-progress gate lacking %v %v: %+v, want %s", r.Deliverables, r.ProofTypes(), st.Next, want)
		}
	case projects.GateInReview:
		// The dead end this rules out: in review (where nothing can be recorded) with something
		// missing, so that the owner can neither approve it nor complete it.
		if !r.Met() {
			w.fail("G%d is %s (from %s) lacking %v %v", g.Number, g.State, g.BlockedFrom, r.Deliverables, r.ProofTypes())
		}
		if g.State != projects.GateBlocked && st.Next.Kind != projects.NextReviewGate {
			w.fail("next step of a gate in review: %+v", st.Next)
		}
	default:
		w.fail("current gate G%d is %s (blocked from %q)", g.Number, g.State, g.BlockedFrom)
	}
}

func (w *walker) fail(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("step %d: %s\ncalls on this project:\n%s", w.step, fmt.Sprintf(format, args...), joinLines(w.log))
}

func joinLines(lines []string) string {
	if len(lines) > 40 {
		lines = append([]string{fmt.Sprintf("… %d earlier", len(lines)-40)}, lines[len(lines)-40:]...)
	}
	out := ""
	for _, l := range lines {
		out += "  " + l + "\n"
	}
	return out
}
