package projects

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

// Proof results.
const (
	ProofPass    = "pass"
	ProofFail    = "fail"
	ProofWarning = "warning"
)

// GateDetail is a gate with its workflow definition and everything recorded for it.
type GateDetail struct {
	store.Gate
	Def          workflow.Gate
	Deliverables []store.Deliverable
	Proofs       []store.Proof
	Reviews      []store.Review
	// Requirements are what its current revision still lacks.
	Requirements Requirements
}

// ListGates lists the project's gates created so far (at most nine), each with what is
// recorded for it, so the list never shows a deliverable as missing that is not.
func (s *Service) ListGates(ctx context.Context, who authn.Identity, projectID string) ([]GateDetail, error) {
	p, err := s.access(ctx, s.Store, who, projectID, ActRead)
	if err != nil {
		return nil, err
	}
	gates, err := s.Store.Gates(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := make([]GateDetail, len(gates))
	for i, g := range gates {
		if out[i], err = s.gateDetail(ctx, s.Store, p.Project, g.Number); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetGate returns one gate with its deliverables, proofs and reviews.
func (s *Service) GetGate(ctx context.Context, who authn.Identity, projectID string, number int) (GateDetail, error) {
	p, err := s.access(ctx, s.Store, who, projectID, ActRead)
	if err != nil {
		return GateDetail{}, err
	}
	return s.gateDetail(ctx, s.Store, p.Project, number)
}

func (s *Service) gateDetail(ctx context.Context, q store.Queries, p store.Project, number int) (GateDetail, error) {
	g, err := gateOf(ctx, q, p, number)
	if err != nil {
		return GateDetail{}, err
	}
	d := GateDetail{Gate: g}
	d.Def, _ = workflow.GateOf(p.Type, number)
	if d.Deliverables, err = q.Deliverables(ctx, p.ID, number); err != nil {
		return d, err
	}
	if d.Proofs, err = q.Proofs(ctx, p.ID, number); err != nil {
		return d, err
	}
	if d.Reviews, err = q.Reviews(ctx, p.ID, number); err != nil {
		return d, err
	}
	d.Requirements = requirementsOf(d.Def, g, d.Deliverables, d.Proofs)
	return d, nil
}

// gateOf loads a gate (locking it inside a transaction), with clear errors for gate numbers out
// of range and gates not reached yet.
func gateOf(ctx context.Context, q store.Queries, p store.Project, number int) (store.Gate, error) {
	if number < 1 || number > workflow.Count {
		var v apperr.Violations
		v.Add("gate", fmt.Sprintf("must be between 1 and %d", workflow.Count))
		return store.Gate{}, v.Err()
	}
	g, err := q.Gate(ctx, p.ID, number)
	if errors.Is(err, store.ErrNotFound) {
		return g, apperr.FailedPrecondition("gate G%d has not been reached yet: the project is at G%d", number, p.CurrentGate).
			WithReason(ReasonIllegalTransition)
	}
	return g, err
}

// transition applies one state-machine transition to a gate in a transaction, with the rules
// of the transition checked inside it. extra runs after the state change (approval side
// effects); it may be nil.
func (s *Service) transition(ctx context.Context, who authn.Identity, projectID string, number int, trans string, act Action,
	reason string, extra func(q store.Queries, rec *recorder, p *store.ProjectWithRole, g store.Gate) error) (GateDetail, error) {
	if humanOnly[trans] && who.Delegated() {
		return GateDetail{}, apperr.PermissionDenied("only a person can %s a gate: the %s service acts for the user, not as them", trans, who.Actor)
	}
	var out GateDetail
	var from, to string
	var since, at time.Time
	err := s.change(ctx, who, func(q store.Queries, rec *recorder) error {
		p, err := s.access(ctx, q, who, projectID, act)
		if err != nil {
			return err
		}
		g, err := gateOf(ctx, q, p.Project, number)
		if err != nil {
			return err
		}
		to, err = nextState(number, g.State, trans, g.BlockedFrom)
		if err != nil {
			return err
		}
		from, since, at = g.State, g.UpdatedAt, rec.now
		g.State, g.UpdatedAt = to, rec.now
		switch {
		case trans == transBlock:
			g.BlockedReason, g.BlockedFrom = reason, from
		case from == GateBlocked:
			g.BlockedReason, g.BlockedFrom = "", ""
		case trans == transRequestChanges:
			g.Revision++
		}
		if trans == transSubmit || trans == transApprove {
			// One precondition: a gate goes to review only with what its approval needs.
			if err := checkReady(ctx, q, p.Project, g, trans); err != nil {
				return err
			}
		}
		if err := q.UpdateGate(ctx, g, from); errors.Is(err, store.ErrConflict) {
			return apperr.Aborted("gate G%d changed concurrently; reload it and try again", number)
		} else if err != nil {
			return err
		}
		rec.add(projectID, EventGateChanged, GateChanged{Gate: number, From: from, To: to, Reason: reason})
		if extra != nil {
			if err := extra(q, rec, &p, g); err != nil {
				return err
			}
		}
		out, err = s.gateDetail(ctx, q, p.Project, number)
		return err
	})
	if err == nil {
		s.Metrics.transitioned(number, from, to, since, at)
	}
	return out, err
}

// humanOnly are the transitions that are the owner's decisions: a service holding a delegated
// token (background work) may start, submit and block gates, never approve, send back or
// unblock them.
var humanOnly = map[string]bool{transApprove: true, transRequestChanges: true, transUnblock: true}

// StartGate: agents (or people) begin work on the gate.
func (s *Service) StartGate(ctx context.Context, who authn.Identity, projectID string, gate int) (GateDetail, error) {
	return s.transition(ctx, who, projectID, gate, transStart, ActWrite, "", nil)
}

// SubmitGate: the work is ready for the owner's review.
func (s *Service) SubmitGate(ctx context.Context, who authn.Identity, projectID string, gate int) (GateDetail, error) {
	return s.transition(ctx, who, projectID, gate, transSubmit, ActWrite, "", nil)
}

// BlockGate stops work on the gate, with a reason the owner will read.
func (s *Service) BlockGate(ctx context.Context, who authn.Identity, projectID string, gate int, reason string) (GateDetail, error) {
	reason = strings.TrimSpace(reason)
	var v apperr.Violations
	input.CheckText(&v, "reason", reason, true, summaryMaxLen)
	if err := v.Err(); err != nil {
		return GateDetail{}, err
	}
	return s.transition(ctx, who, projectID, gate, transBlock, ActWrite, reason, nil)
}

// UnblockGate returns a blocked gate to the state it was blocked in.
func (s *Service) UnblockGate(ctx context.Context, who authn.Identity, projectID string, gate int) (GateDetail, error) {
	return s.transition(ctx, who, projectID, gate, transUnblock, ActAdmin, "", nil)
}

// RequestGateChanges sends the gate back with review notes, recorded immutably with a snapshot
// of what was reviewed.
func (s *Service) RequestGateChanges(ctx context.Context, who authn.Identity, projectID string, gate int, notes string) (GateDetail, error) {
	notes = strings.TrimSpace(notes)
	var v apperr.Violations
	input.CheckText(&v, "notes", notes, true, notesMaxLen)
	if err := v.Err(); err != nil {
		return GateDetail{}, err
	}
	// The timeline says why (the full notes are in the review record).
	reason := input.Clean(notes, changeNotesInEventMaxLen)
	return s.transition(ctx, who, projectID, gate, transRequestChanges, ActAdmin, reason, func(q store.Queries, rec *recorder, p *store.ProjectWithRole, g store.Gate) error {
		if err := reopenTasks(ctx, q, rec, projectID, gate); err != nil {
			return err
		}
		return s.recordReview(ctx, q, rec, who, p.Project, g, GateChangesRequested, notes)
	})
}

// changeNotesInEventMaxLen bounds the notes a request for changes puts in its timeline event.
const changeNotesInEventMaxLen = 1000

// Approval is what ApproveGate did: the approved gate, the gate it opened (nil when G9
// completed the project) and the project after it.
type Approval struct {
	Gate    GateDetail
	Next    *GateDetail
	Project store.ProjectWithRole
}

// ApproveGate approves the gate if everything it requires is there, records the review, and
// in the same transaction creates the next gate or, at G9, completes the project.
func (s *Service) ApproveGate(ctx context.Context, who authn.Identity, projectID string, gate int, notes string) (Approval, error) {
	notes = strings.TrimSpace(notes)
	var v apperr.Violations
	input.CheckText(&v, "notes", notes, false, notesMaxLen)
	if err := v.Err(); err != nil {
		return Approval{}, err
	}
	var out Approval
	d, err := s.transition(ctx, who, projectID, gate, transApprove, ActAdmin, "", func(q store.Queries, rec *recorder, p *store.ProjectWithRole, g store.Gate) error {
		if err := s.recordReview(ctx, q, rec, who, p.Project, g, GateApproved, notes); err != nil {
			return err
		}
		p.UpdatedAt = rec.now
		if gate == workflow.Count {
			p.Status = store.StatusCompleted
			rec.add(projectID, EventProjectChanged, ProjectChanged{Change: "completed", Status: p.Status})
		} else {
			p.CurrentGate = gate + 1
			if err := q.CreateGate(ctx, store.Gate{ProjectID: projectID, Number: gate + 1, State: GatePending,
				CreatedAt: rec.now, UpdatedAt: rec.now}); err != nil {
				return err
			}
			rec.add(projectID, EventGateChanged, GateChanged{Gate: gate + 1, To: GatePending})
			next, err := s.gateDetail(ctx, q, p.Project, gate+1)
			if err != nil {
				return err
			}
			out.Next = &next
		}
		out.Project = *p
		return q.UpdateProject(ctx, p.Project)
	})
	out.Gate = d
	return out, err
}

// recordReview records the decision on gate g with a snapshot of what was reviewed: every
// deliverable the gate listed (each with its revision) and the latest proof of each type of the
// reviewed revision.
func (s *Service) recordReview(ctx context.Context, q store.Queries, rec *recorder, who authn.Identity, p store.Project, g store.Gate, decision, notes string) error {
	delivs, err := q.Deliverables(ctx, p.ID, g.Number)
	if err != nil {
		return err
	}
	proofs, err := q.Proofs(ctx, p.ID, g.Number)
	if err != nil {
		return err
	}
	reviewed := g.Revision
	if decision == GateChangesRequested {
		reviewed-- // the request has already started the next revision
	}
	return q.AddReview(ctx, store.Review{ID: uuid.NewString(), ProjectID: p.ID, Gate: g.Number, Decision: decision,
		ReviewerID: who.UserID, Notes: notes, Deliverables: delivs, Proofs: latestPerType(proofs, reviewed), CreatedAt: rec.now,
		Revision: reviewed})
}

// latestPerType keeps the last proof of each type recorded in the revision, in order: what stood
// when the decision was made (older attempts, and earlier revisions' proofs, remain listed on
// the gate and in the reviews of their time).
func latestPerType(proofs []store.Proof, revision int) []store.Proof {
	last := map[string]int{}
	for i, p := range proofs {
		if p.Revision == revision {
			last[p.Type] = i
		}
	}
	out := make([]store.Proof, 0, len(last))
	for i, p := range proofs {
		if j, ok := last[p.Type]; ok && j == i {
			out = append(out, p)
		}
	}
	return out
}

// gateOpen loads a gate that can still take deliverables and proofs: one being worked on (or
// paused by a block while being worked on).
// Under review the record is frozen, so the owner approves exactly what they looked at; once
// approved it never changes.
func gateOpen(ctx context.Context, q store.Queries, p store.Project, number int) (store.Gate, error) {
	g, err := gateOf(ctx, q, p, number)
	if err != nil {
		return g, err
	}
	switch g.State {
	case GatePending, GateInProgress, GateChangesRequested:
		return g, nil
	case GateBlocked:
		// A block pauses the work, it does not freeze it: a run that finishes meanwhile, or a
		// person saving what the block asks for, must still be recorded (or the gate could never
		// leave the block). A gate blocked in review stays frozen as in review.
		if g.BlockedFrom != GateInReview {
			return g, nil
		}
	case GateApproved:
		return g, apperr.FailedPrecondition("gate G%d is approved: what was approved cannot change", number).WithReason(ReasonIllegalTransition)
	}
	return g, apperr.FailedPrecondition("gate G%d is %s: what is under review cannot change; request changes to revise it", number, upper(g.State)).
		WithReason(ReasonUnderReview)
}

// ReasonUnderReview is the reason a gate under review (or blocked in review) refuses new
// deliverables and proofs: the owner approves exactly what they looked at. The documents
// service refuses a save that would change such a gate's record.
const ReasonUnderReview = "GATE_UNDER_REVIEW"

// RecordedDeliverable is a deliverable as recorded, and whether the gate requires its type.
type RecordedDeliverable struct {
	store.Deliverable
	Required bool
}

// DocumentsService is the actor of the documents service's delegated tokens.
const DocumentsService = "documents"

// contentHashPattern is the form of a document version's content hash.
var contentHashPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// RecordDeliverable records a document version as the gate's deliverable of its document, in
// the gate's current revision. Deliverables are facts, not claims: only the documents service
// records them (with a delegated token for the member who saved the version), as it saves the
// version in this project; a person, or another service, is refused.
func (s *Service) RecordDeliverable(ctx context.Context, who authn.Identity, d store.Deliverable) (RecordedDeliverable, error) {
	if who.Actor != DocumentsService {
		return RecordedDeliverable{Deliverable: d}, apperr.PermissionDenied("deliverables are recorded by the documents service when " +
			"a document version is saved: save the document at its gate, and its deliverable is recorded with it")
	}
	var v apperr.Violations
	if !slices.Contains(documentTypes, d.DocumentType) {
		v.Add("documentType", "is required: one of the DOCUMENT_TYPE_ values")
	}
	if !input.ValidID(d.DocumentID) {
		v.Add("documentId", "is required: a document id")
	}
	if d.Version < 1 {
		v.Add("version", "must be 1 or more")
	}
	if !contentHashPattern.MatchString(d.ContentHash) {
		v.Add("contentHash", "must be the version's content hash: sha256: and 64 lower-case hex digits")
	}
	if err := v.Err(); err != nil {
		return RecordedDeliverable{Deliverable: d}, err
	}
	var required bool
	err := s.change(ctx, who, func(q store.Queries, rec *recorder) error {
		p, err := s.access(ctx, q, who, d.ProjectID, ActWrite)
		if err != nil {
			return err
		}
		def, _ := workflow.GateOf(p.Type, d.Gate)
		required = slices.Contains(def.Deliverables, d.DocumentType)
		g, err := gateOpen(ctx, q, p.Project, d.Gate)
		if err != nil {
			return err
		}
		d.RecordedBy, d.UpdatedAt, d.Revision = who.UserID, rec.now, g.Revision
		if err := q.PutDeliverable(ctx, d); err != nil {
			return err
		}
		rec.add(d.ProjectID, EventDeliverableRecorded, DeliverableRecorded{Gate: d.Gate, DocumentType: d.DocumentType, DocumentID: d.DocumentID, Version: d.Version})
		return nil
	})
	return RecordedDeliverable{Deliverable: d, Required: required}, err
}

// RecordProof records evidence for the gate. A proof recorded by a person is an attestation and
// is labelled so; none is ever derived from a document's existence. Only a FuzzyLlama service
// records how it ran a proof (pr.Run): a person's record says what they checked, not how a
// command ran.
func (s *Service) RecordProof(ctx context.Context, who authn.Identity, pr store.Proof) (store.Proof, error) {
	pr.Summary = strings.TrimSpace(pr.Summary)
	var v apperr.Violations
	if !slices.Contains(proofTypes, pr.Type) {
		v.Add("type", "is required: one of the PROOF_TYPE_ values")
	}
	if pr.Result != ProofPass && pr.Result != ProofFail && pr.Result != ProofWarning {
		v.Add("result", "is required: PROOF_RESULT_PASS, PROOF_RESULT_FAIL or PROOF_RESULT_WARNING")
	}
	input.CheckText(&v, "summary", pr.Summary, true, summaryMaxLen)
	if how, ok := machineProduced[pr.Type]; ok && !who.Delegated() {
		v.Add("type", pr.Type+" is produced by FuzzyLlama itself ("+how+"); it cannot be attested")
	}
	switch {
	case pr.Run == nil:
	case !who.Delegated():
		v.Add("run", "only FuzzyLlama records how it ran a proof: a person's proof is an attestation, recorded without a run")
	default:
		checkRun(&v, *pr.Run)
	}
	if err := v.Err(); err != nil {
		return pr, err
	}
	err := s.change(ctx, who, func(q store.Queries, rec *recorder) error {
		p, err := s.access(ctx, q, who, pr.ProjectID, ActWrite)
		if err != nil {
			return err
		}
		g, err := gateOpen(ctx, q, p.Project, pr.Gate)
		if err != nil {
			return err
		}
		existing, err := q.Proofs(ctx, pr.ProjectID, pr.Gate)
		if err != nil {
			return err
		}
		// The proof speaks for this revision's deliverables as they are now.
		delivs, err := q.Deliverables(ctx, pr.ProjectID, pr.Gate)
		if err != nil {
			return err
		}
		if err := checkProofRoom(p.Project, g, pr, existing, delivs); err != nil {
			return err
		}
		pr.Revision, pr.DeliverablesHash = g.Revision, deliverablesHash(g.Revision, delivs)
		// A person's record is their attestation; a service's is the output of its check.
		pr.ID, pr.ProducedBy, pr.Attested, pr.CreatedAt = uuid.NewString(), who.UserID, true, rec.now
		if who.Delegated() {
			pr.ProducedBy, pr.Attested = who.Actor, false
		}
		if err := q.AddProof(ctx, pr); err != nil {
			return err
		}
		rec.add(pr.ProjectID, EventProofRecorded, ProofRecorded{Gate: pr.Gate, Type: pr.Type, Result: pr.Result})
		return nil
	})
	return pr, err
}

// machineProduced are the proof types only a FuzzyLlama service produces, never a person, with
// how it produces them. A person may attest the others, build and tests included: the sandbox
// cannot run every project's code.
var machineProduced = map[string]string{
	workflow.ProofSpecValidation: "the agents service validates the API specification",
	workflow.ProofPreviewStartup: "the agents service starts the project's preview in its sandbox and probes its health",
}

// Bounds of a proof's run.
const (
	runTreeHashMaxLen       = 100
	runCommandMaxLen        = 2000
	runRunnerMaxLen         = 50
	runMaxArtifacts         = 10
	artifactIDMaxLen        = 64
	artifactMediaTypeMaxLen = 100
)

// Kinds of artifact a run leaves.
var artifactKinds = []string{"log", "screenshot"}

// checkRun adds the violations of a proof's run, as a service reported it.
func checkRun(v *apperr.Violations, r store.ProofRun) {
	input.CheckLine(v, "run.treeHash", r.TreeHash, true, runTreeHashMaxLen)
	input.CheckText(v, "run.command", r.Command, true, runCommandMaxLen)
	input.CheckLine(v, "run.runner", r.Runner, true, runRunnerMaxLen)
	if r.ExitCode < -1 {
		v.Add("run.exitCode", "must be -1 (stopped by the sandbox) or more")
	}
	if r.DurationMS < 0 {
		v.Add("run.durationMs", "must not be negative")
	}
	if len(r.Artifacts) > runMaxArtifacts {
		v.Add("run.artifacts", fmt.Sprintf("must hold at most %d artifacts", runMaxArtifacts))
		return
	}
	for i, a := range r.Artifacts {
		f := fmt.Sprintf("run.artifacts[%d].", i)
		input.CheckLine(v, f+"id", a.ID, true, artifactIDMaxLen)
		if !slices.Contains(artifactKinds, a.Kind) {
			v.Add(f+"kind", "must be "+strings.Join(artifactKinds, " or "))
		}
		input.CheckLine(v, f+"mediaType", a.MediaType, true, artifactMediaTypeMaxLen)
		if a.SizeBytes < 0 {
			v.Add(f+"sizeBytes", "must not be negative")
		}
	}
}

// maxProofsPerGate bounds the proofs of one gate revision (and so the responses that list
// them).
const maxProofsPerGate = 100

// checkProofRoom refuses a proof past the bound of its gate revision, except a passing proof of a
// required type the gate lacks: a gate can always be completed, however many proofs it took.
func checkProofRoom(p store.Project, g store.Gate, pr store.Proof, existing []store.Proof, delivs []store.Deliverable) error {
	n := 0
	for _, e := range existing {
		if e.Revision == g.Revision {
			n++
		}
	}
	if n < maxProofsPerGate {
		return nil
	}
	def, _ := workflow.GateOf(p.Type, g.Number)
	if pr.Result == ProofPass && slices.Contains(requirementsOf(def, g, delivs, existing).ProofTypes(), pr.Type) {
		return nil
	}
	return apperr.FailedPrecondition("gate G%d already has %d proofs in revision %d: the latest of each type is what counts, "+
		"and past that only a passing proof of a required type it lacks is taken", g.Number, maxProofsPerGate, g.Revision)
}

var documentTypes = []string{workflow.DocIntake, workflow.DocRequirements, workflow.DocUserStory, workflow.DocArchitecture,
	workflow.DocAPISpec, workflow.DocDatabaseSchema, workflow.DocDesign, workflow.DocCode, workflow.DocTestPlan,
	workflow.DocSecurityAudit, workflow.DocDeploymentGuide, workflow.DocRunbook, workflow.DocOther}

var proofTypes = []string{workflow.ProofSpecValidation, workflow.ProofBuild, workflow.ProofLint, workflow.ProofUnitTests,
	workflow.ProofIntegrationTests, workflow.ProofE2ETests, workflow.ProofCoverage, workflow.ProofSecurityScan,
	workflow.ProofDeployment, workflow.ProofSmokeTest, workflow.ProofManualVerification, workflow.ProofPreviewStartup}

// Status is where a project stands.
type Status struct {
	Project         store.ProjectWithRole
	Gate            store.Gate
	Def             workflow.Gate
	PercentComplete int
	NextAction      string
	MissingDocs     []string
	MissingProofs   []string
	// Next is what to do next, as data; NextAction is its sentence.
	Next NextStep
}

// GetStatus says where the project stands and what the user should do next.
func (s *Service) GetStatus(ctx context.Context, who authn.Identity, projectID string) (Status, error) {
	p, err := s.access(ctx, s.Store, who, projectID, ActRead)
	if err != nil {
		return Status{}, err
	}
	gates, err := s.Store.Gates(ctx, projectID)
	if err != nil {
		return Status{}, err
	}
	st := Status{Project: p}
	approved := 0
	for _, g := range gates {
		if g.State == GateApproved {
			approved++
		}
		if g.Number == p.CurrentGate {
			st.Gate = g
		}
	}
	if st.PercentComplete, err = percentComplete(ctx, s.Store, p.Project, approved); err != nil {
		return st, err
	}
	st.Def, _ = workflow.GateOf(p.Type, p.CurrentGate)
	req, err := gateRequirements(ctx, s.Store, p.Project, st.Gate)
	if err != nil {
		return st, err
	}
	st.MissingDocs, st.MissingProofs = req.Deliverables, req.ProofTypes()
	st.Next = nextStep(p.Project, st.Gate, st.Def, req)
	st.NextAction = st.Next.Summary
	return st, nil
}
