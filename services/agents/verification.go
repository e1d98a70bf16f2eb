package agents

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
	"github.com/fuzzyllama/fuzzyllama/services/agents/verify"
)

// Verification: when every run of a gate has succeeded and the gate still lacks proofs that
// running its code can give (build, lint, unit tests, coverage, security scan), the
// orchestration asks the sandbox to build, lint, test and scan the gate's source tree (a verification, worked by the queue),
// and records what it gave as proofs produced by FuzzyLlama. A failure goes back to the roles
// that wrote the failing code, with the errors in their instructions (a repair), at most
// Limits.VerifyRepairs times per gate revision; then, or when a repair changes nothing, the gate
// blocks with the failure as its reason and the owner decides.

// verifyWorker works verifications.
type verifyWorker struct {
	river.WorkerDefaults[store.VerifyJob]
	s *Service
}

// verifyTimeout bounds one verification: fetching dependencies and every step, each step
// bounded by the sandbox's own wall clock.
const verifyTimeout = 30 * time.Minute

func (w *verifyWorker) Timeout(*river.Job[store.VerifyJob]) time.Duration { return verifyTimeout }

func (w *verifyWorker) Work(ctx context.Context, job *river.Job[store.VerifyJob]) error {
	return w.s.verify(ctx, job.Args.VerificationID)
}

// verifyGate is the orchestration's step for a gate whose runs are done and which lacks proofs:
// it starts, waits for, repairs or gives up on its verification. It reports whether it changed
// anything worth looking at again.
func (s *Service) verifyGate(ctx context.Context, w store.Work, p Project, g Gate) (bool, error) {
	if s.Runner == nil || !slices.ContainsFunc(g.MissingProofs, verify.Produces) {
		return false, nil // evidence nothing here produces is the owner's to record
	}
	ev, err := s.Evidence.GateEvidence(ctx, p.ID, g.Number)
	if err != nil {
		return false, fromService("projects", err)
	}
	v, err := s.Store.LatestVerification(ctx, p.ID, g.Number, g.Revision)
	if errors.Is(err, store.ErrNotFound) {
		return s.startVerification(ctx, w.UserID, p.ID, g, ev, 0)
	} else if err != nil {
		return false, err
	}
	a, err := s.Store.Allowance(ctx, p.ID, g.Number)
	if err != nil {
		return false, err
	}
	switch {
	case v.Active():
		return false, nil
	case v.EndedAt.Before(a.AcknowledgedAt):
		// The owner unblocked the gate after it: verify again, with repairs allowed again.
		return s.startVerification(ctx, w.UserID, p.ID, g, ev, 0)
	case v.DeliverablesHash != ev.DeliverablesHash:
		// The tree changed since (a repair, or a person's edit): verify what it is now.
		repair := v.Repair
		if v.RepairStarted {
			repair++
		}
		return s.startVerification(ctx, w.UserID, p.ID, g, ev, repair)
	case v.State == store.VerificationPassed, v.State == store.VerificationSkipped:
		return false, nil // its proofs are recorded, or it had none to give: what is missing is the owner's
	case v.State == store.VerificationError:
		return true, s.block(ctx, p, g, fmt.Sprintf("G%d's code could not be verified: %s Unblock G%d to try again.",
			g.Number, strings.TrimSuffix(v.Error, ".")+".", g.Number))
	case v.RepairStarted:
		return true, s.block(ctx, p, g, blockReason(g.Number, v, "the developers' repair changed nothing it verified"))
	case v.Repair >= s.Limits.verifyRepairs():
		return true, s.block(ctx, p, g, blockReason(g.Number, v, fmt.Sprintf("%d repairs did not fix it", v.Repair)))
	}
	return s.repair(ctx, w, p, g, v)
}

// startVerification creates a verification of the gate as it is now and enqueues it.
func (s *Service) startVerification(ctx context.Context, userID, projectID string, g Gate, ev GateEvidence, repair int) (bool, error) {
	_, err := s.Store.CreateVerification(ctx, store.Verification{ID: uuid.Must(uuid.NewV7()).String(), ProjectID: projectID,
		Gate: g.Number, Revision: g.Revision, UserID: userID, DeliverablesHash: ev.DeliverablesHash, Repair: repair, CreatedAt: s.now()})
	if errors.Is(err, store.ErrVerificationActive) {
		return false, nil
	}
	if err == nil {
		s.Logger.InfoContext(ctx, "verification queued", "project_id", projectID, "gate", g.Number, "repair", repair)
	}
	return false, err
}

// blockReason is a gate's block reason after a failed verification: what failed, and the
// errors, within the projects service's bound.
func blockReason(gate int, v store.Verification, why string) string {
	return fmt.Sprintf("G%d's code failed verification and %s. %s The full logs are on the gate's proofs. "+
		"Fix the code (or record the proofs yourself), then unblock G%d.", gate, why, failureText(v, 600), gate)
}

// failureText is what failed in a verification: its failed steps' summaries, then as much of
// their errors as fits in n bytes.
func failureText(v store.Verification, n int) string {
	var b strings.Builder
	for _, st := range v.Steps {
		if st.Repairable() {
			b.WriteString(strings.TrimSuffix(st.Summary, ".") + ". ")
		}
	}
	if v.Error != "" {
		b.WriteString("Errors:\n" + v.Error)
	}
	return input.Clean(b.String(), n)
}

// repair sends a failed verification back to the roles whose files failed, with the errors in
// their instructions.
func (s *Service) repair(ctx context.Context, w store.Work, p Project, g Gate, v store.Verification) (bool, error) {
	roles, err := s.gateRoles(ctx, p.Type, g.Number)
	if err != nil {
		return false, err
	}
	roles, err = s.rolesToRepair(ctx, p.ID, g, v, roles)
	if err != nil {
		return false, err
	}
	instructions := repairInstructions(v, s.Limits.verifyRepairs())
	for _, role := range roles {
		if _, _, err := s.enqueue(ctx, role, p.ID, g, w.UserID, instructions, false); err != nil {
			return false, err
		}
	}
	if _, err := s.Store.MarkRepairStarted(ctx, v.ID); err != nil {
		return false, err
	}
	s.Logger.InfoContext(ctx, "verification failed; repair runs queued", "project_id", p.ID, "gate", g.Number,
		"verification_id", v.ID, "repair", v.Repair+1)
	return false, nil
}

// rolesToRepair are the gate's roles that wrote files in the directories that failed (all of
// the gate's roles when that cannot be told).
func (s *Service) rolesToRepair(ctx context.Context, projectID string, g Gate, v store.Verification, roles []catalog.Role) ([]catalog.Role, error) {
	var dirs []string
	for _, st := range v.Steps {
		if st.Repairable() {
			dirs = append(dirs, st.FailedDirs...)
		}
	}
	runs, err := s.Store.GateRuns(ctx, projectID, g.Number, g.Revision)
	if err != nil || len(dirs) == 0 {
		return roles, err
	}
	wrote := map[string]bool{}
	for _, r := range runs {
		for _, d := range r.Result.Documents {
			for _, dir := range dirs {
				if dir == "." || strings.HasPrefix(d.Title, dir+"/") {
					wrote[r.Role] = true
				}
			}
		}
	}
	var out []catalog.Role
	for _, r := range roles {
		if wrote[r.ID] {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return roles, nil
	}
	return out, nil
}

// repairInstructions is what a repair run is asked to do.
func repairInstructions(v store.Verification, limit int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "FuzzyLlama built and tested the project's source tree in its sandbox and it failed (repair %d of %d):\n\n",
		v.Repair+1, limit)
	for _, st := range v.Steps {
		if st.Repairable() {
			fmt.Fprintf(&b, "- %s\n", st.Summary)
		}
	}
	if v.Error != "" {
		fmt.Fprintf(&b, "\nThe errors, from the log:\n\n```\n%s```\n", v.Error)
	}
	b.WriteString("\nFix the files so that the build, lint and tests pass. Write each file you change in full, at its path; " +
		"the files you do not write stay as they are.")
	return b.String()
}

// verify works a verification: reads the gate's tree, runs the plan in the sandbox, stores the
// logs, records the proofs and ends the verification, then nudges the orchestration.
func (s *Service) verify(ctx context.Context, id string) (err error) {
	// The worker that claims it holds it while it runs; a job of a verification another worker
	// holds (a copy the queue's rescuer made) or that ended has nothing to do.
	token := uuid.NewString()
	v, err := s.Store.ClaimVerification(ctx, id, token, s.now(), s.Limits.leaseTTL())
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrFinished) || errors.Is(err, store.ErrLeased) {
		return nil
	} else if err != nil {
		return err
	}
	ctx, stopRenewing := s.keepLease(ctx, "verification", "verification_id", id, func(ctx context.Context, now time.Time, ttl time.Duration) error {
		return s.Store.RenewVerificationLease(ctx, id, token, now, ttl)
	})
	defer func() {
		stopRenewing()
		if err != nil { // the job is retried: it must find the verification free to claim
			if rerr := s.Store.ReleaseVerification(context.WithoutCancel(ctx), id, token); rerr != nil {
				s.Logger.WarnContext(ctx, "cannot release a verification; its lease runs out", "verification_id", id, "error", rerr.Error())
			}
		}
	}()
	defer func() {
		if err := s.Store.EnqueueReconcile(context.WithoutCancel(ctx), v.ProjectID); err != nil {
			s.Logger.WarnContext(ctx, "cannot enqueue a reconcile", "project_id", v.ProjectID, "error", err.Error())
		}
	}()
	if s.Runner == nil {
		return s.endVerification(ctx, v, store.VerificationError, "no sandbox runner is configured (SANDBOX_RUNNER=off)", nil)
	}
	uctx, err := s.actFor(ctx, v.UserID)
	if err != nil {
		return fromService("auth", err)
	}
	ev, err := s.Evidence.GateEvidence(uctx, v.ProjectID, v.Gate)
	if err != nil {
		return fromService("projects", err)
	}
	files, listed, hash, err := s.readTree(uctx, v.ProjectID, v.Gate)
	if err != nil {
		if apperr.IsKind(err, apperr.KindFailedPrecondition) {
			return s.endVerification(ctx, v, store.VerificationError, err.Error(), nil)
		}
		return err
	}
	wanted := ev.Proofs
	if v.Gate == firstCodeGate {
		// No workflow requires a preview; G5 gets one when the tree's manifest declares it.
		wanted = append(slices.Clone(wanted), verify.ProofPreviewStartup)
	}
	plan, err := verify.NewPlan(v.ProjectID, files, wanted, ev.CoverageThreshold)
	var nothing *verify.NothingToVerifyError
	if errors.As(err, &nothing) {
		return s.endVerification(ctx, v, store.VerificationSkipped, err.Error()+".", nil)
	} else if err != nil {
		return s.endVerification(ctx, v, store.VerificationError, err.Error()+".", nil)
	}
	running, err := s.Store.StartVerification(ctx, id, token, hash, listed, s.Runner.Name())
	if errors.Is(err, store.ErrLeaseLost) {
		return nil // another worker has it, or it ended
	} else if err != nil {
		return err
	}
	v = running
	if same, err := s.Store.PassedVerification(ctx, v.ProjectID, v.Gate, hash); err == nil {
		// The same tree passed before (a revision whose code did not change): its results stand.
		return s.recordAgain(ctx, uctx, v, same)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	started := time.Now()
	res, err := s.Runner.Run(ctx, plan.Job)
	if err != nil {
		if ctx.Err() != nil {
			return err // the worker stops: the job runs again
		}
		s.Logger.WarnContext(ctx, "the sandbox could not run a verification", "verification_id", v.ID, "error", err.Error())
		return s.endVerification(ctx, v, store.VerificationError, "the sandbox could not run it: "+err.Error(), nil)
	}
	if problem := verify.RunnerProblem(res); problem != "" {
		return s.endVerification(ctx, v, store.VerificationError, problem, nil)
	}
	proofs := plan.Evaluate(res)
	if current, err := s.stillCurrent(ctx, uctx, v); !current || err != nil {
		return err
	}
	artifacts, steps := s.proofArtifacts(v, proofs)
	for i := range steps {
		steps[i].Informational = !slices.Contains(ev.Proofs, steps[i].ProofType)
	}
	if err := s.Store.AddArtifacts(ctx, v, artifacts); err != nil {
		return err
	}
	for i, pr := range proofs {
		rp := RunProof{Type: pr.Type, Pass: pr.Pass, Summary: steps[i].Summary, TreeHash: hash, Command: steps[i].Command,
			ExitCode: pr.ExitCode, DurationMS: pr.Duration.Milliseconds(), Runner: s.Runner.Name()}
		for _, id := range steps[i].ArtifactIDs {
			a := artifactByID(artifacts, id)
			rp.Artifacts = append(rp.Artifacts, ProofArtifact{ID: a.ID, Kind: a.Kind, MediaType: a.MediaType, Size: int64(len(a.Content))})
		}
		if err := s.Evidence.RecordRunProof(uctx, v.ProjectID, v.Gate, rp); err != nil {
			return s.recordFailed(ctx, v, steps, err)
		}
	}
	state, failure := store.VerificationPassed, ""
	for i, pr := range proofs {
		if steps[i].Repairable() { // a failed preview is shown, not repaired
			state = store.VerificationFailed
			failure += pr.Failure
		}
	}
	s.Logger.InfoContext(ctx, "verification ended", "project_id", v.ProjectID, "gate", v.Gate, "state", state,
		"took", time.Since(started).Round(time.Millisecond), "runner", s.Runner.Name())
	return s.endVerification(ctx, v, state, input.Clean(failure, 8000), steps)
}

// recordAgain records, for verification v, the proofs of an earlier one that passed on the
// same tree: the same commands on the same files gave them, so they are not run again. The
// proofs name the earlier run's logs.
func (s *Service) recordAgain(ctx, uctx context.Context, v, same store.Verification) error {
	if current, err := s.stillCurrent(ctx, uctx, v); !current || err != nil {
		return err
	}
	for _, st := range same.Steps {
		rp := RunProof{Type: st.ProofType, Pass: st.Passed, Summary: st.Summary, TreeHash: same.TreeHash, Command: st.Command,
			ExitCode: st.ExitCode, DurationMS: st.DurationMS, Runner: same.Runner}
		for _, id := range st.ArtifactIDs {
			a, err := s.Store.ArtifactInfo(ctx, v.ProjectID, id)
			if err != nil {
				return err
			}
			rp.Artifacts = append(rp.Artifacts, ProofArtifact{ID: a.ID, Kind: a.Kind, MediaType: a.MediaType, Size: a.Size})
		}
		if err := s.Evidence.RecordRunProof(uctx, v.ProjectID, v.Gate, rp); err != nil {
			return s.recordFailed(ctx, v, same.Steps, err)
		}
	}
	s.Logger.InfoContext(ctx, "verification reused an earlier one on the same tree", "project_id", v.ProjectID, "gate", v.Gate,
		"earlier", same.ID)
	return s.endVerification(ctx, v, store.VerificationPassed, "", same.Steps)
}

// recordFailed ends v after the projects service refused one of its proofs: the gate moved on
// (a person blocked or submitted it), or the proof was refused for what it holds (a bug to fix,
// not a reason to run the sandbox again: retrying would give the same). Anything else is
// returned for the job to retry.
func (s *Service) recordFailed(ctx context.Context, v store.Verification, steps []store.VerificationStep, err error) error {
	switch {
	case ignoreStale(err) == nil:
		return s.endVerification(ctx, v, store.VerificationError, "the gate was no longer in progress when its proofs were ready.", steps)
	case apperr.Code(err) == codes.InvalidArgument:
		s.Logger.ErrorContext(ctx, "the projects service refused a verification's proof", "verification_id", v.ID, "error", err.Error())
		return s.endVerification(ctx, v, store.VerificationError, "the projects service refused to record its proofs ("+
			ownerText(status.Convert(err).Message())+"); ask FuzzyLlama's operators to look at the agents service's logs.", steps)
	}
	return fromService("projects", err)
}

// stillCurrent reports whether the gate still holds what v was asked to verify (its revision,
// its deliverables) and what v ran (its tree). A proof speaks for the deliverables the gate had
// when it was asked for; if they or the tree changed meanwhile, what ran is not what the gate
// holds: v ends as an error, and the next look verifies again.
func (s *Service) stillCurrent(ctx, uctx context.Context, v store.Verification) (bool, error) {
	// Only the worker holding it records its proofs: one cut off long enough to lose its lease
	// leaves them to the worker that took it over.
	if err := s.Store.RenewVerificationLease(ctx, v.ID, v.LeaseToken, s.now(), s.Limits.leaseTTL()); errors.Is(err, store.ErrLeaseLost) {
		s.Logger.InfoContext(ctx, "verification taken over or ended elsewhere; this worker records nothing", "verification_id", v.ID)
		return false, nil
	} else if err != nil {
		return false, err
	}
	now, err := s.Evidence.GateEvidence(uctx, v.ProjectID, v.Gate)
	if err != nil {
		return false, fromService("projects", err)
	}
	if now.DeliverablesHash == v.DeliverablesHash && now.Revision == v.Revision {
		// The tree may take files of earlier gates, which the deliverables do not cover.
		files, err := s.Documents.Files(uctx, v.ProjectID)
		if err != nil {
			return false, fromService("documents", err)
		}
		if treeHash(treeAt(files, v.Gate)) == v.TreeHash {
			return true, nil
		}
	}
	return false, s.endVerification(ctx, v, store.VerificationError, "the gate's code changed while it ran; it is verified again.", nil)
}

// endVerification records how a verification ended.
func (s *Service) endVerification(ctx context.Context, v store.Verification, state, reason string, steps []store.VerificationStep) error {
	v.State, v.Error, v.Steps, v.EndedAt = state, reason, steps, s.now()
	_, err := s.Store.FinishVerification(context.WithoutCancel(ctx), v)
	if errors.Is(err, store.ErrFinished) {
		return nil
	}
	return err
}

// proofArtifacts makes the artifacts of a verification's proofs (a log each, and a screenshot)
// and the steps that name them, in the proofs' order.
func (s *Service) proofArtifacts(v store.Verification, proofs []verify.Proof) ([]store.Artifact, []store.VerificationStep) {
	var artifacts []store.Artifact
	steps := make([]store.VerificationStep, len(proofs))
	add := func(kind, mediaType string, content []byte) string {
		id := uuid.Must(uuid.NewV7()).String()
		artifacts = append(artifacts, store.Artifact{ID: id, ProjectID: v.ProjectID, VerificationID: v.ID, Kind: kind,
			MediaType: mediaType, Content: content, CreatedAt: s.now()})
		return id
	}
	for i, pr := range proofs {
		// Within the projects service's bounds, as every proof recorded from it must be.
		st := store.VerificationStep{ProofType: pr.Type, Passed: pr.Pass, Summary: input.Clean(pr.Summary, maxProofSummary),
			Command:  input.Clean(pr.Command, maxProofCommand),
			ExitCode: pr.ExitCode, DurationMS: pr.Duration.Milliseconds(), FailedDirs: pr.FailedDirs}
		st.ArtifactIDs = append(st.ArtifactIDs, add("log", "text/plain; charset=utf-8", pr.Log))
		if len(pr.Screenshot) > 0 {
			st.ArtifactIDs = append(st.ArtifactIDs, add("screenshot", "image/png", pr.Screenshot))
		}
		steps[i] = st
	}
	return artifacts, steps
}

// The projects service's bounds of a proof's summary and command, in characters.
const (
	maxProofSummary = 4000
	maxProofCommand = 2000
)

func artifactByID(list []store.Artifact, id string) store.Artifact {
	for _, a := range list {
		if a.ID == id {
			return a
		}
	}
	return store.Artifact{}
}

// readTree reads the source tree gate holds, for the sandbox, with its listing and hash. A tree
// past the bounds is refused (FailedPrecondition) naming the bound.
func (s *Service) readTree(ctx context.Context, projectID string, gate int) ([]sandbox.File, []SourceFile, string, error) {
	listed, err := s.Documents.Files(ctx, projectID)
	if err != nil {
		return nil, nil, "", fromService("documents", err)
	}
	tree := treeAt(listed, gate)
	if len(tree) > sourcetree.MaxFiles {
		return nil, nil, "", apperr.FailedPrecondition("the source tree has %d files; verification takes at most %d", len(tree), sourcetree.MaxFiles)
	}
	var files []sandbox.File
	var entries []sourcetree.Entry
	var size int64
	for _, f := range tree {
		content, err := s.Documents.Content(ctx, projectID, f.DocumentID, f.Version)
		if err != nil {
			return nil, nil, "", fromService("documents", err)
		}
		if size += int64(len(content)); size > sourcetree.MaxTreeBytes {
			return nil, nil, "", apperr.FailedPrecondition("the source tree is larger than %d MiB; verification takes at most that", sourcetree.MaxTreeBytes>>20)
		}
		files = append(files, sandbox.File{Path: f.Path, Content: content})
		entries = append(entries, sourcetree.Entry{Path: f.Path, ContentHash: sourcetree.ContentHash(content)})
	}
	return files, tree, sourcetree.Hash(entries), nil
}
