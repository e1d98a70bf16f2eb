package projects

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

// What a gate needs before it can go to review and be approved is one rule, computed from its
// records by requirementsOf: SubmitGate and ApproveGate refuse with it (checkReady), the gate
// lists it (Gate.missing_*), and the project status says what to do about it (nextStep).
//
// Evidence is bound to the gate's revision (a request for changes starts the next one) and, for
// proofs, to the content of the deliverables: a proof counts only if it was recorded in the
// current revision while the revision's deliverables were what they are now.

// ReasonRequirementsMissing marks a submit or an approval refused because the gate lacks
// deliverables or proofs; each missing item is a field violation.
const ReasonRequirementsMissing = "GATE_REQUIREMENTS_MISSING"

// Requirements are what a gate's current revision still lacks.
type Requirements struct {
	// Deliverables are the required document types without a complete deliverable of the
	// current revision.
	Deliverables []string
	// Proofs are the required proof types whose latest record of the current revision is
	// missing, not a pass, or about deliverables that have changed since.
	Proofs []MissingProof
	// DeliverablesHash is the digest of the current revision's deliverables.
	DeliverablesHash string
}

// MissingProof is a required proof that does not count (yet), and why.
type MissingProof struct{ Type, Why string }

// Met reports whether nothing is missing.
func (r Requirements) Met() bool { return len(r.Deliverables) == 0 && len(r.Proofs) == 0 }

// ProofTypes lists the missing proofs' types.
func (r Requirements) ProofTypes() []string {
	out := make([]string, len(r.Proofs))
	for i, m := range r.Proofs {
		out[i] = m.Type
	}
	return out
}

// requirementsOf computes what gate g (of definition def) lacks from its deliverables and its
// proofs (oldest first). An approved gate lacks nothing: what was approved is final.
func requirementsOf(def workflow.Gate, g store.Gate, delivs []store.Deliverable, proofs []store.Proof) Requirements {
	r := Requirements{DeliverablesHash: deliverablesHash(g.Revision, delivs)}
	if g.State == GateApproved {
		return r
	}
	for _, want := range def.Deliverables {
		if !slices.ContainsFunc(delivs, func(d store.Deliverable) bool {
			return d.DocumentType == want && d.Complete && d.Revision == g.Revision
		}) {
			r.Deliverables = append(r.Deliverables, want)
		}
	}
	latest := map[string]store.Proof{} // of the current revision; oldest first, so the last one wins
	earlier := map[string]bool{}
	for _, p := range proofs {
		if p.Revision == g.Revision {
			latest[p.Type] = p
		} else {
			earlier[p.Type] = true
		}
	}
	for _, want := range def.Proofs {
		p, ok := latest[want]
		switch {
		case !ok && earlier[want]:
			r.Proofs = append(r.Proofs, MissingProof{want, fmt.Sprintf(
				"recorded only before changes were requested: record it again for revision %d", g.Revision)})
		case !ok:
			r.Proofs = append(r.Proofs, MissingProof{want, "required proof not recorded"})
		case p.Result != ProofPass:
			r.Proofs = append(r.Proofs, MissingProof{want, "latest proof is " + p.Result + ", not pass"})
		case p.DeliverablesHash != "" && p.DeliverablesHash != r.DeliverablesHash:
			r.Proofs = append(r.Proofs, MissingProof{want, "recorded before the deliverables last changed: record it again"})
		}
	}
	return r
}

// deliverablesHash is the digest of a gate's deliverables of one revision: their document ids
// and content hashes, in document id order. A new version with other content changes it; saving
// the same content again does not.
func deliverablesHash(revision int, delivs []store.Deliverable) string {
	var cur []store.Deliverable
	for _, d := range delivs {
		if d.Revision == revision {
			cur = append(cur, d)
		}
	}
	slices.SortFunc(cur, func(a, b store.Deliverable) int { return strings.Compare(a.DocumentID, b.DocumentID) })
	h := sha256.New()
	for _, d := range cur {
		fmt.Fprintf(h, "%s\x00%s\n", d.DocumentID, d.ContentHash)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// gateRequirements loads what gate g of project p lacks.
func gateRequirements(ctx context.Context, q store.Queries, p store.Project, g store.Gate) (Requirements, error) {
	def, _ := workflow.GateOf(p.Type, g.Number)
	delivs, err := q.Deliverables(ctx, p.ID, g.Number)
	if err != nil {
		return Requirements{}, err
	}
	proofs, err := q.Proofs(ctx, p.ID, g.Number)
	if err != nil {
		return Requirements{}, err
	}
	return requirementsOf(def, g, delivs, proofs), nil
}

// checkReady is the one precondition of a gate entering review (submit) and leaving it approved
// (approve): the previous gate approved, and nothing missing. The refusal lists each missing item
// as a field (deliverables.api_spec, proofs.spec_validation) with the reason.
func checkReady(ctx context.Context, q store.Queries, p store.Project, g store.Gate, trans string) error {
	if g.Number > 1 {
		prev, err := q.Gate(ctx, p.ID, g.Number-1)
		if err != nil {
			return err
		}
		if prev.State != GateApproved {
			return apperr.FailedPrecondition("gate G%d is not approved yet", g.Number-1)
		}
	}
	r, err := gateRequirements(ctx, q, p, g)
	if err != nil || r.Met() {
		return err
	}
	var v apperr.Violations
	for _, d := range r.Deliverables {
		v.Add("deliverables."+d, fmt.Sprintf("required deliverable not recorded as complete in revision %d", g.Revision))
	}
	for _, m := range r.Proofs {
		v.Add("proofs."+m.Type, m.Why)
	}
	what := "be approved"
	if trans == transSubmit {
		what = "go to review"
	}
	e := apperr.FailedPrecondition("gate G%d cannot %s yet: %d deliverable(s) and %d proof(s) missing",
		g.Number, what, len(r.Deliverables), len(r.Proofs)).WithReason(ReasonRequirementsMissing)
	e.Fields = v
	return e
}

// Kinds of next step (NextActionKind in the API).
const (
	NextStartWork           = "start_work"
	NextStartGate           = "start_gate"
	NextProduceDeliverables = "produce_deliverables"
	NextRecordProofs        = "record_proofs"
	NextWaitForAgents       = "wait_for_agents"
	NextSubmitGate          = "submit_gate"
	NextReviewGate          = "review_gate"
	NextUnblockGate         = "unblock_gate"
	NextProjectComplete     = "project_complete"
	NextProjectArchived     = "project_archived"
)

// NextStep is what to do next for a project: the kind, the facts it comes from, and a sentence.
type NextStep struct {
	Kind          string
	Gate          int
	MissingDocs   []string
	MissingProofs []string
	BlockedReason string
	Summary       string
}

// nextStep says what to do about the project's current gate g, which lacks r.
func nextStep(p store.Project, g store.Gate, def workflow.Gate, r Requirements) NextStep {
	n := NextStep{Gate: g.Number, MissingDocs: r.Deliverables, MissingProofs: r.ProofTypes()}
	gate := fmt.Sprintf("G%d %s", def.Number, def.Name)
	switch p.Status {
	case store.StatusCompleted:
		n.Kind, n.Summary = NextProjectComplete, "The project is complete: export its documents."
		return n
	case store.StatusArchived:
		n.Kind, n.Summary = NextProjectArchived, "The project is archived: nothing more can change."
		return n
	}
	switch g.State {
	case GatePending:
		n.Kind, n.Summary = NextStartGate, "Start "+gate+" so its agents can work."
		if g.Number == 1 {
			// Nothing has started: the agents begin when the work is started with a description.
			n.Kind, n.Summary = NextStartWork, "Describe the software you want and start the work: its agents begin with "+gate+"."
		}
	case GateChangesRequested:
		n.Kind, n.Summary = NextStartGate, "Changes were requested on "+gate+": start it again so its agents revise their work with the notes."
	case GateInProgress:
		var attest, produced []string
		for _, t := range n.MissingProofs {
			if _, ok := machineProduced[t]; ok {
				produced = append(produced, t)
			} else {
				attest = append(attest, t)
			}
		}
		switch {
		case len(n.MissingDocs) > 0:
			n.Kind = NextProduceDeliverables
			n.Summary = fmt.Sprintf("%s is in progress and still needs its %s: its agents' runs save them (or save them yourself), "+
				"and each saved document is recorded as a deliverable.", gate, words(n.MissingDocs, "document"))
		case len(attest) > 0:
			n.Kind = NextRecordProofs
			n.Summary = fmt.Sprintf("%s has all its deliverables and needs passing %s: record them (owner or editor); "+
				"then it goes to review.", gate, words(attest, "proof"))
		case len(produced) > 0:
			n.Kind = NextWaitForAgents
			n.Summary = fmt.Sprintf("%s has all its deliverables and waits for FuzzyLlama's own %s, which follows the architect's run "+
				"(if the API specification changed since, run the architect again).", gate, words(produced, "check"))
		default:
			n.Kind, n.Summary = NextSubmitGate, gate+" has everything its approval needs: submit it for review."
		}
	case GateInReview:
		n.Kind, n.Summary = NextReviewGate, "Review "+gate+": the owner approves it or requests changes."
	case GateBlocked:
		n.Kind, n.BlockedReason = NextUnblockGate, g.BlockedReason
		n.Summary = gate + " is blocked: " + strings.TrimSuffix(g.BlockedReason, ".") + ". Once the cause is fixed, the owner unblocks it."
	}
	return n
}

// words lists items in a sentence ("build and lint proofs").
func words(items []string, noun string) string {
	if len(items) == 1 {
		return items[0] + " " + noun
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1] + " " + noun + "s"
}
