package projects_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/protoenum"
	"github.com/fuzzyllama/fuzzyllama/services/projects"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

// documentsSvc is the documents service recording a saved version for the owner (a delegated
// token): how deliverables are recorded.
var documentsSvc = authn.Identity{UserID: "u-owner", Actor: "documents"}

// deliver records document id at version with content as a deliverable of gate, as the
// documents service does when it saves the version.
func deliver(t *testing.T, svc *projects.Service, projectID string, gate int, docType, id string, version int, content string) {
	t.Helper()
	mustDo(t, func() error {
		_, err := svc.RecordDeliverable(context.Background(), documentsSvc, store.Deliverable{ProjectID: projectID, Gate: gate,
			DocumentType: docType, DocumentID: id, Version: version, ContentHash: contentHash(content), Complete: true})
		return err
	})
}

// contentHash is the content hash of a version with content, as the documents service writes it.
func contentHash(content string) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(content)))
}

// prove records a proof of gate, as a person (owner) or the agents (delegated).
func prove(t *testing.T, svc *projects.Service, who authn.Identity, projectID string, gate int, typ, result string) {
	t.Helper()
	mustDo(t, func() error {
		_, err := svc.RecordProof(context.Background(), who, store.Proof{ProjectID: projectID, Gate: gate, Type: typ, Result: result, Summary: "checked"})
		return err
	})
}

// projectAt creates a traditional project whose gates before n are approved, and gate n pending.
func projectAt(t *testing.T, svc *projects.Service, n int) store.ProjectWithRole {
	t.Helper()
	p, err := svc.CreateProject(context.Background(), owner, "Shop", "", workflow.Traditional, "")
	if err != nil {
		t.Fatal(err)
	}
	for gate := 1; gate < n; gate++ {
		completeGate(t, svc, p.ID, gate)
	}
	return p
}

// wantMissing fails unless err is the refusal of a gate lacking exactly the fields named.
func wantMissing(t *testing.T, what string, err error, fields ...string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindFailedPrecondition || e.Reason != projects.ReasonRequirementsMissing {
		t.Fatalf("%s: %v, want FAILED_PRECONDITION %s", what, err, projects.ReasonRequirementsMissing)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field)
	}
	if !slices.Equal(got, fields) {
		t.Fatalf("%s: refused naming %v, want %v (%v)", what, got, fields, err)
	}
}

func status(t *testing.T, h *projects.Handler, projectID string) *pb.GetProjectStatusResponse {
	t.Helper()
	st, err := h.GetProjectStatus(authn.NewContext(context.Background(), owner), &pb.GetProjectStatusRequest{ProjectId: projectID})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func getGate(t *testing.T, h *projects.Handler, projectID string, gate int) *pb.Gate {
	t.Helper()
	g, err := h.GetGate(authn.NewContext(context.Background(), owner), &pb.GetGateRequest{ProjectId: projectID, Gate: int32(gate)})
	if err != nil {
		t.Fatal(err)
	}
	return g.GetGate()
}

// TestEvidenceIsBoundToRevisionAndContent: a request for changes starts a new revision, in which
// the evidence of the earlier one no longer counts (it stays in the gate's history and in the
// review of its time); within a revision, a proof counts only while the deliverables are the
// content it was recorded for.
func TestEvidenceIsBoundToRevisionAndContent(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		h := &projects.Handler{Service: svc}
		ctx := context.Background()
		p := projectAt(t, svc, 5)
		mustDo(t, func() error { _, err := svc.StartGate(ctx, owner, p.ID, 5); return err })
		deliver(t, svc, p.ID, 5, workflow.DocCode, "backend", 1, "sha256:b1")
		prove(t, svc, owner, p.ID, 5, workflow.ProofBuild, projects.ProofPass)
		prove(t, svc, owner, p.ID, 5, workflow.ProofLint, projects.ProofPass)
		mustDo(t, func() error { _, err := svc.SubmitGate(ctx, owner, p.ID, 5); return err })
		mustDo(t, func() error { _, err := svc.RequestGateChanges(ctx, owner, p.ID, 5, "Handle errors"); return err })
		mustDo(t, func() error { _, err := svc.StartGate(ctx, owner, p.ID, 5); return err })

		// Revision 1 has nothing yet: revision 0's deliverable and proofs do not count.
		_, err := svc.SubmitGate(ctx, owner, p.ID, 5)
		wantMissing(t, "submit in revision 1", err, "deliverables.code", "proofs.build", "proofs.lint")
		st := status(t, h, p.ID)
		if !slices.Equal(st.GetMissingProofs(), mapProofs(workflow.ProofBuild, workflow.ProofLint)) || len(st.GetMissingDeliverables()) != 1 {
			t.Fatalf("status in revision 1: %v", st)
		}
		// They stay in the gate's history and in the review record of their revision.
		g := getGate(t, h, p.ID, 5)
		if g.GetRevision() != 1 || len(g.GetProofs()) != 2 || g.GetProofs()[0].GetRevision() != 0 || g.GetDeliverables()[0].GetRevision() != 0 {
			t.Fatalf("G5 in revision 1: %v", g)
		}
		if r := g.GetReviews()[0]; r.GetRevision() != 0 || len(r.GetProofs()) != 2 || r.GetProofs()[0].GetRevision() != 0 ||
			len(r.GetReviewedDeliverables()) != 1 {
			t.Fatalf("the request for changes' record: %v", r)
		}

		// The re-run saves the code again; the proofs are recorded again for it.
		deliver(t, svc, p.ID, 5, workflow.DocCode, "backend", 2, "sha256:b2")
		prove(t, svc, owner, p.ID, 5, workflow.ProofBuild, projects.ProofPass)
		prove(t, svc, owner, p.ID, 5, workflow.ProofLint, projects.ProofPass)
		if st := status(t, h, p.ID); st.GetNextStep().GetKind() != pb.NextActionKind_NEXT_ACTION_KIND_SUBMIT_GATE {
			t.Fatalf("with everything recorded again: %v", st)
		}
		// The same content saved again changes nothing; new content makes the proofs stale.
		deliver(t, svc, p.ID, 5, workflow.DocCode, "backend", 2, "sha256:b2")
		if st := status(t, h, p.ID); len(st.GetMissingProofs()) != 0 {
			t.Fatalf("the same content again: %v", st)
		}
		deliver(t, svc, p.ID, 5, workflow.DocCode, "backend", 3, "sha256:b3")
		_, err = svc.SubmitGate(ctx, owner, p.ID, 5)
		wantMissing(t, "submit after the code changed", err, "proofs.build", "proofs.lint")
		if e, _ := apperr.As(err); !strings.Contains(e.Fields[0].Description, "deliverables last changed") {
			t.Errorf("why the build proof does not count: %q", e.Fields[0].Description)
		}
		prove(t, svc, owner, p.ID, 5, workflow.ProofBuild, projects.ProofPass)
		prove(t, svc, owner, p.ID, 5, workflow.ProofLint, projects.ProofPass)
		mustDo(t, func() error { _, err := svc.SubmitGate(ctx, owner, p.ID, 5); return err })
		a, err := svc.ApproveGate(ctx, owner, p.ID, 5, "")
		if err != nil {
			t.Fatal(err)
		}
		last := a.Gate.Reviews[len(a.Gate.Reviews)-1]
		if last.Revision != 1 || len(last.Proofs) != 2 || last.Proofs[0].Revision != 1 || last.Proofs[0].DeliverablesHash != a.Gate.Requirements.DeliverablesHash ||
			len(last.Deliverables) != 1 || last.Deliverables[0].Version != 3 {
			t.Fatalf("approval record: %+v (gate digest %s)", last, a.Gate.Requirements.DeliverablesHash)
		}
	})
}

func mapProofs(types ...string) []commonv1.ProofType {
	out := make([]commonv1.ProofType, len(types))
	for i, typ := range types {
		out[i] = protoenum.Value[commonv1.ProofType](typ, commonv1.ProofType_value, "PROOF_TYPE_")
	}
	return out
}

// TestSubmitNeedsWhatApprovalNeeds: a gate goes to review only with what its approval needs,
// and the refusal names each missing item; a failing proof keeps it out of review too.
func TestSubmitNeedsWhatApprovalNeeds(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		p := projectAt(t, svc, 1)
		mustDo(t, func() error { _, err := svc.StartGate(ctx, owner, p.ID, 1); return err })
		_, err := svc.SubmitGate(ctx, owner, p.ID, 1)
		wantMissing(t, "submit G1 without its intake", err, "deliverables.intake")
		if g, _ := svc.GetGate(ctx, owner, p.ID, 1); g.State != projects.GateInProgress {
			t.Fatalf("refused submit moved the gate to %s", g.State)
		}
		// The agents' submit (delegated) follows the same rule.
		_, err = svc.SubmitGate(ctx, agents, p.ID, 1)
		wantMissing(t, "the agents' submit", err, "deliverables.intake")
		deliver(t, svc, p.ID, 1, workflow.DocIntake, "intake", 1, "sha256:i")
		mustDo(t, func() error { _, err := svc.SubmitGate(ctx, owner, p.ID, 1); return err })

		q := projectAt(t, svc, 3)
		mustDo(t, func() error { _, err := svc.StartGate(ctx, owner, q.ID, 3); return err })
		for _, doc := range []string{workflow.DocArchitecture, workflow.DocAPISpec, workflow.DocDatabaseSchema} {
			deliver(t, svc, q.ID, 3, doc, doc, 1, "sha256:"+doc)
		}
		prove(t, svc, agents, q.ID, 3, workflow.ProofSpecValidation, projects.ProofFail)
		_, err = svc.SubmitGate(ctx, owner, q.ID, 3)
		wantMissing(t, "submit G3 with a failed spec validation", err, "proofs.spec_validation")
		if e, _ := apperr.As(err); !strings.Contains(e.Fields[0].Description, "fail, not pass") {
			t.Errorf("why: %q", e.Fields[0].Description)
		}
		prove(t, svc, agents, q.ID, 3, workflow.ProofSpecValidation, projects.ProofPass)
		mustDo(t, func() error { _, err := svc.SubmitGate(ctx, agents, q.ID, 3); return err })
		mustDo(t, func() error { _, err := svc.ApproveGate(ctx, owner, q.ID, 3, ""); return err })
	})
}

// TestNextStep: the status says what to do, as data and in words, in every state; at G5 with its
// code recorded and its proofs missing it is the owner's build and lint attestations, not
// "agents are working".
func TestNextStep(t *testing.T) {
	svc, _ := newService(t, stores["sqlite"])
	h := &projects.Handler{Service: svc}
	ctx := context.Background()
	want := func(what string, p store.ProjectWithRole, kind pb.NextActionKind, summary string, check func(*pb.NextAction) bool) {
		t.Helper()
		st := status(t, h, p.ID)
		n := st.GetNextStep()
		if n.GetKind() != kind || !strings.Contains(n.GetSummary(), summary) || st.GetNextAction() != n.GetSummary() ||
			n.GetGate() != st.GetCurrentGate() || (check != nil && !check(n)) {
			t.Errorf("%s: next step %v (next action %q), want %s with %q", what, n, st.GetNextAction(), kind, summary)
		}
	}
	p := projectAt(t, svc, 5)
	want("pending", p, pb.NextActionKind_NEXT_ACTION_KIND_START_GATE, "Start G5 Development", nil)
	mustDo(t, func() error { _, err := svc.StartGate(ctx, agents, p.ID, 5); return err })
	want("nothing saved yet", p, pb.NextActionKind_NEXT_ACTION_KIND_PRODUCE_DELIVERABLES, "still needs its code document",
		func(n *pb.NextAction) bool {
			return len(n.GetMissingDeliverables()) == 1 && len(n.GetMissingProofs()) == 2
		})
	deliver(t, svc, p.ID, 5, workflow.DocCode, "frontend", 1, "sha256:f")
	deliver(t, svc, p.ID, 5, workflow.DocCode, "backend", 1, "sha256:b")
	want("runs done, proofs missing", p, pb.NextActionKind_NEXT_ACTION_KIND_RECORD_PROOFS, "G5 Development has all its deliverables and needs passing build and lint proofs",
		func(n *pb.NextAction) bool {
			return len(n.GetMissingDeliverables()) == 0 && slices.Equal(n.GetMissingProofs(), mapProofs(workflow.ProofBuild, workflow.ProofLint))
		})
	prove(t, svc, owner, p.ID, 5, workflow.ProofBuild, projects.ProofPass)
	prove(t, svc, owner, p.ID, 5, workflow.ProofLint, projects.ProofFail)
	want("lint failed", p, pb.NextActionKind_NEXT_ACTION_KIND_RECORD_PROOFS, "needs passing lint proof",
		func(n *pb.NextAction) bool { return slices.Equal(n.GetMissingProofs(), mapProofs(workflow.ProofLint)) })
	prove(t, svc, owner, p.ID, 5, workflow.ProofLint, projects.ProofPass)
	want("everything there", p, pb.NextActionKind_NEXT_ACTION_KIND_SUBMIT_GATE, "submit it for review", nil)
	mustDo(t, func() error { _, err := svc.SubmitGate(ctx, agents, p.ID, 5); return err })
	want("in review", p, pb.NextActionKind_NEXT_ACTION_KIND_REVIEW_GATE, "Review G5 Development", nil)
	mustDo(t, func() error { _, err := svc.RequestGateChanges(ctx, owner, p.ID, 5, "Smaller functions"); return err })
	want("changes requested", p, pb.NextActionKind_NEXT_ACTION_KIND_START_GATE, "Changes were requested on G5 Development", nil)
	mustDo(t, func() error { _, err := svc.StartGate(ctx, agents, p.ID, 5); return err })
	mustDo(t, func() error {
		_, err := svc.BlockGate(ctx, agents, p.ID, 5, "the frontend developer's run r1 failed: invalid x-api-key.")
		return err
	})
	want("blocked", p, pb.NextActionKind_NEXT_ACTION_KIND_UNBLOCK_GATE, "G5 Development is blocked: the frontend developer's run r1 failed: invalid x-api-key. Once",
		func(n *pb.NextAction) bool {
			return strings.HasPrefix(n.GetBlockedReason(), "the frontend") && len(n.GetMissingDeliverables()) == 1
		})

	q := projectAt(t, svc, 3)
	mustDo(t, func() error { _, err := svc.StartGate(ctx, agents, q.ID, 3); return err })
	for _, doc := range []string{workflow.DocArchitecture, workflow.DocAPISpec, workflow.DocDatabaseSchema} {
		deliver(t, svc, q.ID, 3, doc, doc, 1, "sha256:"+doc)
	}
	want("spec not validated yet", q, pb.NextActionKind_NEXT_ACTION_KIND_WAIT_FOR_AGENTS, "spec_validation check", nil)

	done := projectAt(t, svc, 10)
	want("complete", done, pb.NextActionKind_NEXT_ACTION_KIND_PROJECT_COMPLETE, "complete", nil)
	mustDo(t, func() error { _, err := svc.ArchiveProject(ctx, owner, q.ID); return err })
	want("archived", q, pb.NextActionKind_NEXT_ACTION_KIND_PROJECT_ARCHIVED, "archived", nil)
}

// TestEveryProducingDocumentIsADeliverable: two code documents of G5 (the frontend's and the
// backend's) are two deliverables, both required; the approval's record lists every version
// the approver saw, required as the gate says.
func TestEveryProducingDocumentIsADeliverable(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		h := &projects.Handler{Service: svc}
		ctx := context.Background()
		p := projectAt(t, svc, 5)
		mustDo(t, func() error { _, err := svc.StartGate(ctx, owner, p.ID, 5); return err })
		deliver(t, svc, p.ID, 5, workflow.DocCode, "frontend", 2, "sha256:f")
		deliver(t, svc, p.ID, 5, workflow.DocCode, "backend", 1, "sha256:b")
		deliver(t, svc, p.ID, 5, workflow.DocOther, "notes", 1, "sha256:n")
		prove(t, svc, owner, p.ID, 5, workflow.ProofBuild, projects.ProofPass)
		prove(t, svc, owner, p.ID, 5, workflow.ProofLint, projects.ProofPass)
		type entry struct {
			id       string
			version  int32
			required bool
		}
		entries := func(ds []*pb.Deliverable) []entry {
			var out []entry
			for _, d := range ds {
				out = append(out, entry{d.GetDocumentId(), d.GetVersion(), d.GetRequired()})
			}
			return out
		}
		wantEntries := []entry{{"backend", 1, true}, {"frontend", 2, true}, {"notes", 1, false}}
		if got := entries(getGate(t, h, p.ID, 5).GetDeliverables()); !slices.Equal(got, wantEntries) {
			t.Fatalf("G5's deliverables: %v, want %v", got, wantEntries)
		}
		mustDo(t, func() error { _, err := svc.SubmitGate(ctx, owner, p.ID, 5); return err })
		resp, err := h.ApproveGate(authn.NewContext(ctx, owner), &pb.ApproveGateRequest{ProjectId: p.ID, Gate: 5})
		if err != nil {
			t.Fatal(err)
		}
		reviews := resp.GetGate().GetReviews()
		if got := entries(reviews[len(reviews)-1].GetReviewedDeliverables()); !slices.Equal(got, wantEntries) {
			t.Fatalf("the approval's record: %v, want %v", got, wantEntries)
		}
	})
}

// TestRequestForChangesTellsTheTimelineWhy: the gate change of a request for changes carries
// its notes, cut on a character boundary.
func TestRequestForChangesTellsTheTimelineWhy(t *testing.T) {
	svc, _ := newService(t, stores["sqlite"])
	h := &projects.Handler{Service: svc}
	ctx := context.Background()
	p := projectAt(t, svc, 1)
	for i, notes := range []string{"Add offline mode.\nAnd dark mode.", strings.Repeat("é", 3000)} {
		mustDo(t, func() error { _, err := svc.StartGate(ctx, owner, p.ID, 1); return err })
		deliver(t, svc, p.ID, 1, workflow.DocIntake, "intake", i+1, "sha256:i")
		mustDo(t, func() error { _, err := svc.SubmitGate(ctx, owner, p.ID, 1); return err })
		mustDo(t, func() error { _, err := svc.RequestGateChanges(ctx, owner, p.ID, 1, notes); return err })
		events, err := h.ListEvents(authn.NewContext(ctx, owner), &pb.ListEventsRequest{ProjectId: p.ID})
		if err != nil {
			t.Fatal(err)
		}
		last := events.GetEvents()[len(events.GetEvents())-1].GetGateChanged()
		reason := last.GetReason()
		if last.GetTo() != pb.GateState_GATE_STATE_CHANGES_REQUESTED || !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > 1000 ||
			!strings.HasPrefix(notes, strings.TrimSuffix(reason, "…")) || (len(notes) < 1000) != (reason == notes) {
			t.Errorf("request for changes %d: the timeline says %v", i, last)
		}
	}
}

// TestDelegatedTokensCannotDecide: a service acting for the owner may start, submit and block a
// gate, but approving, requesting changes and unblocking are the owner's decisions, in person.
func TestDelegatedTokensCannotDecide(t *testing.T) {
	svc, _ := newService(t, stores["sqlite"])
	ctx := context.Background()
	p := projectAt(t, svc, 1)
	mustDo(t, func() error { _, err := svc.StartGate(ctx, agents, p.ID, 1); return err })
	deliver(t, svc, p.ID, 1, workflow.DocIntake, "intake", 1, "sha256:i")
	mustDo(t, func() error { _, err := svc.SubmitGate(ctx, agents, p.ID, 1); return err })
	for _, who := range []authn.Identity{agents, documentsSvc} {
		for name, decide := range map[string]func() error{
			"approve":         func() error { _, err := svc.ApproveGate(ctx, who, p.ID, 1, ""); return err },
			"request changes": func() error { _, err := svc.RequestGateChanges(ctx, who, p.ID, 1, "no"); return err },
		} {
			if err := decide(); !apperr.IsKind(err, apperr.KindPermissionDenied) || !strings.Contains(err.Error(), "only a person") {
				t.Errorf("%s by %s: %v", name, who.Actor, err)
			}
		}
	}
	mustDo(t, func() error { _, err := svc.BlockGate(ctx, agents, p.ID, 1, "budget spent"); return err })
	if _, err := svc.UnblockGate(ctx, agents, p.ID, 1); !apperr.IsKind(err, apperr.KindPermissionDenied) {
		t.Errorf("unblock by the agents: %v", err)
	}
	if g, _ := svc.GetGate(ctx, owner, p.ID, 1); g.State != projects.GateBlocked || len(g.Reviews) != 0 {
		t.Fatalf("after the refusals: %+v", g.Gate)
	}
	mustDo(t, func() error { _, err := svc.UnblockGate(ctx, owner, p.ID, 1); return err })
	mustDo(t, func() error { _, err := svc.ApproveGate(ctx, owner, p.ID, 1, ""); return err })
}

// TestAFullGateStillTakesWhatItLacks: past 100 proofs in a revision a gate refuses more, but a
// passing proof of a required type it lacks, so that it can always be completed.
func TestAFullGateStillTakesWhatItLacks(t *testing.T) {
	svc, _ := newService(t, stores["sqlite"])
	ctx := context.Background()
	p := projectAt(t, svc, 5)
	mustDo(t, func() error { _, err := svc.StartGate(ctx, owner, p.ID, 5); return err })
	deliver(t, svc, p.ID, 5, workflow.DocCode, "backend", 1, "sha256:b")
	for range 100 {
		prove(t, svc, owner, p.ID, 5, workflow.ProofLint, projects.ProofFail)
	}
	record := func(typ, result string) error {
		_, err := svc.RecordProof(ctx, owner, store.Proof{ProjectID: p.ID, Gate: 5, Type: typ, Result: result, Summary: "again"})
		return err
	}
	for _, refused := range [][2]string{{workflow.ProofLint, projects.ProofFail}, {workflow.ProofUnitTests, projects.ProofPass}} {
		if err := record(refused[0], refused[1]); !apperr.IsKind(err, apperr.KindFailedPrecondition) {
			t.Errorf("%s %s past 100 proofs: %v", refused[0], refused[1], err)
		}
	}
	mustDo(t, func() error { return record(workflow.ProofLint, projects.ProofPass) })
	mustDo(t, func() error { return record(workflow.ProofBuild, projects.ProofPass) })
	if err := record(workflow.ProofLint, projects.ProofPass); !apperr.IsKind(err, apperr.KindFailedPrecondition) {
		t.Errorf("a lint proof the gate no longer lacks: %v", err)
	}
	mustDo(t, func() error { _, err := svc.SubmitGate(ctx, owner, p.ID, 5); return err })
}

// TestOnlyTheDocumentsServiceRecordsDeliverables: a deliverable is a fact the documents service
// records as it saves a version (acting for the member who saved it), never a claim: a person,
// or another service, is refused; membership still applies to the member it acts for; and what it
// records must be a document id and a content hash.
func TestOnlyTheDocumentsServiceRecordsDeliverables(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		// The API declares it: people's tokens are refused before the service is reached.
		if got := authn.PolicyOf("/fuzzyllama.projects.v1.ProjectsService/RecordDeliverable"); got != commonv1.Access_ACCESS_SERVICE {
			t.Fatalf("RecordDeliverable is %s", got)
		}
		svc, _ := open(t)
		ctx := context.Background()
		p := projectAt(t, svc, 1)
		mustDo(t, func() error {
			_, err := svc.AddMember(ctx, owner, p.ID, "vi@example.com", store.RoleViewer)
			return err
		})
		mustDo(t, func() error { _, err := svc.StartGate(ctx, owner, p.ID, 1); return err })
		intake := store.Deliverable{ProjectID: p.ID, Gate: 1, DocumentType: workflow.DocIntake, DocumentID: "intake", Version: 1,
			ContentHash: contentHash("intake"), Complete: true}
		record := func(who authn.Identity, d store.Deliverable) error {
			_, err := svc.RecordDeliverable(ctx, who, d)
			return err
		}
		for _, who := range []authn.Identity{owner, agents} {
			if err := record(who, intake); !apperr.IsKind(err, apperr.KindPermissionDenied) || !strings.Contains(err.Error(), "save the document") {
				t.Errorf("recorded by %q: %v", who.Actor, err)
			}
		}
		asDocuments := func(userID string) authn.Identity {
			return authn.Identity{UserID: userID, Actor: projects.DocumentsService}
		}
		if err := record(asDocuments("stranger"), intake); !apperr.IsKind(err, apperr.KindNotFound) {
			t.Errorf("for a stranger: %v", err)
		}
		if err := record(asDocuments(vi.UserID), intake); !apperr.IsKind(err, apperr.KindPermissionDenied) {
			t.Errorf("for a viewer: %v", err)
		}
		bad := intake
		bad.ContentHash = "h"
		wantInvalid(t, "a content hash that is not one", record(documentsSvc, bad), "contentHash")
		bad = intake
		bad.DocumentID = "a\x00b"
		wantInvalid(t, "a document id that is not one", record(documentsSvc, bad), "documentId")
		if g, _ := svc.GetGate(ctx, owner, p.ID, 1); len(g.Deliverables) != 0 {
			t.Fatalf("recorded after refusals: %+v", g.Deliverables)
		}
		mustDo(t, func() error { return record(documentsSvc, intake) })
		if g, _ := svc.GetGate(ctx, owner, p.ID, 1); len(g.Deliverables) != 1 || g.Deliverables[0].RecordedBy != owner.UserID {
			t.Fatalf("recorded: %+v", g.Deliverables)
		}
	})
}
