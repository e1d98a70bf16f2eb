package agents

import (
	"context"
	"errors"
	"slices"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
	"github.com/fuzzyllama/fuzzyllama/services/agents/verify"
)

// firstCodeGate is the first gate whose tree verification runs (development).
const firstCodeGate = 5

// SourceTree lists a project's source tree as gate holds it (0: the latest of every file), or,
// with hash, the tree of that hash as a verification ran it, with its hash. Any member may
// read it.
func (s *Service) SourceTree(ctx context.Context, projectID string, gate int, hash string) ([]SourceFile, string, error) {
	switch {
	case gate != 0 && (gate < firstCodeGate || gate > catalog.GateCount):
		return nil, "", apperr.InvalidField("gate", "must be 0 (every file) or a gate from 5 to 9")
	case hash != "" && gate != 0:
		return nil, "", apperr.InvalidField("tree_hash", "give a gate or a tree hash, not both")
	case hash != "" && !sourcetree.IsHash(hash):
		return nil, "", apperr.InvalidField("tree_hash", `must be "sha256:" and 64 lowercase hex digits, as a proof's run names it`)
	}
	if _, err := s.Projects.Authorize(ctx, projectID, false); err != nil {
		return nil, "", err
	}
	if hash != "" {
		files, err := s.Store.TreeFiles(ctx, projectID, hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil, "", apperr.NotFound("no verification of this project ran on the tree %s", hash)
		}
		return files, hash, err
	}
	files, err := s.Documents.Files(ctx, projectID)
	if err != nil {
		return nil, "", err
	}
	tree := treeAt(files, gate)
	return tree, treeHash(tree), nil
}

// VerifyGate verifies the gate's tree again, now: the gate must be in progress (its proofs
// count only then) and require a proof verification produces. It returns the verification,
// the one already queued or running if there is one. Owner or editor.
func (s *Service) VerifyGate(ctx context.Context, projectID string, gate int) (store.Verification, error) {
	if gate < firstCodeGate || gate > catalog.GateCount {
		return store.Verification{}, apperr.InvalidField("gate", "must be a gate from 5 to 9")
	}
	if _, err := s.Projects.Authorize(ctx, projectID, true); err != nil {
		return store.Verification{}, err
	}
	if s.Runner == nil {
		return store.Verification{}, apperr.FailedPrecondition("this installation runs no sandbox (SANDBOX_RUNNER=off): " +
			"record the gate's proofs yourself").WithReason("NO_SANDBOX")
	}
	ev, err := s.Evidence.GateEvidence(ctx, projectID, gate)
	if err != nil {
		return store.Verification{}, err
	}
	switch {
	case ev.State != GateInProgress && ev.State != GateBlocked:
		return store.Verification{}, apperr.FailedPrecondition("G%d is %s: its proofs can be recorded only while it is in progress "+
			"or blocked", gate, ev.State).WithReason("GATE_NOT_OPEN")
	case !slices.ContainsFunc(ev.Proofs, verify.Produces):
		return store.Verification{}, apperr.FailedPrecondition("G%d requires no proof verification produces (build, lint, "+
			"unit tests, coverage, security scan)", gate).WithReason("NOTHING_TO_VERIFY")
	}
	w, err := s.Store.Work(ctx, projectID)
	userID := caller(ctx).UserID
	if err == nil {
		userID = w.UserID // the orchestration's user, whose delegated identity records the proofs
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Verification{}, err
	}
	v, err := s.Store.CreateVerification(ctx, store.Verification{ID: uuid.Must(uuid.NewV7()).String(), ProjectID: projectID, Gate: gate,
		Revision: ev.Revision, UserID: userID, DeliverablesHash: ev.DeliverablesHash, CreatedAt: s.now()})
	if errors.Is(err, store.ErrVerificationActive) {
		return v, nil
	}
	return v, err
}

// Verifications lists a project's verifications, newest first. Any member may read them.
func (s *Service) Verifications(ctx context.Context, projectID string, gate int) ([]store.Verification, error) {
	if gate < 0 || gate > catalog.GateCount {
		return nil, apperr.InvalidField("gate", "must be 0 (every gate) or a gate from 1 to 9")
	}
	if _, err := s.Projects.Authorize(ctx, projectID, false); err != nil {
		return nil, err
	}
	return s.Store.Verifications(ctx, projectID, gate, 50)
}

// Artifact returns an artifact of a project's verifications. Any member may read it.
func (s *Service) Artifact(ctx context.Context, projectID, id string) (store.Artifact, error) {
	if !input.ValidID(id) {
		return store.Artifact{}, apperr.InvalidField("artifactId", "is required: the id of an artifact, as a proof names it")
	}
	if _, err := s.Projects.Authorize(ctx, projectID, false); err != nil {
		return store.Artifact{}, err
	}
	a, err := s.Store.Artifact(ctx, projectID, id)
	return a, notFound(err, "artifact %s not found in this project", id)
}
