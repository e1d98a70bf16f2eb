package agents

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/platform/paging"
	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

const (
	instructionsMaxLen = 4000
	descriptionMaxLen  = 2000
)

// RunRequest asks for a run of one role at one gate.
type RunRequest struct {
	ProjectID    string
	Gate         int
	Role         string
	Instructions string
}

// StartRun enqueues a run for the caller, or returns the active run of the same gate and role.
func (s *Service) StartRun(ctx context.Context, who authn.Identity, req RunRequest) (store.Run, bool, error) {
	var v apperr.Violations
	role, ok := catalog.Get(req.Role)
	if !ok {
		v.Add("role", "is required: one of the AGENT_ROLE_ values")
	}
	if req.Gate < 1 || req.Gate > catalog.GateCount {
		v.Add("gate", fmt.Sprintf("must be between 1 and %d", catalog.GateCount))
	}
	input.CheckText(&v, "instructions", req.Instructions, false, instructionsMaxLen)
	if err := v.Err(); err != nil {
		return store.Run{}, false, err
	}
	p, err := s.Projects.Authorize(ctx, req.ProjectID, true)
	if err != nil {
		return store.Run{}, false, err
	}
	if !role.Serves(req.Gate, p.Type) {
		return store.Run{}, false, apperr.InvalidField("role", fmt.Sprintf("%s does not work at G%d of %s projects (it works at %s)",
			role.Name, req.Gate, p.Type, gateList(role.Gates)))
	}
	gate, err := s.gate(ctx, req.ProjectID, req.Gate)
	if err != nil {
		return store.Run{}, false, err
	}
	switch gate.State {
	case GateInReview, GateApproved:
		return store.Run{}, false, apperr.FailedPrecondition("gate G%d is %s: its work is frozen; request changes to run its agents again",
			req.Gate, strings.ToUpper(gate.State)).WithReason("GATE_NOT_OPEN")
	}
	if err := s.checkMonthlyBudget(ctx, who.UserID); err != nil {
		return store.Run{}, false, err
	}
	return s.enqueue(ctx, role, req.ProjectID, gate, who.UserID, req.Instructions, false)
}

// gate returns one of the project's gates; FAILED_PRECONDITION if it has not been reached.
func (s *Service) gate(ctx context.Context, projectID string, number int) (Gate, error) {
	gates, err := s.Projects.Gates(ctx, projectID)
	if err != nil {
		return Gate{}, err
	}
	for _, g := range gates {
		if g.Number == number {
			return g, nil
		}
	}
	return Gate{}, apperr.FailedPrecondition("gate G%d has not been reached yet", number).WithReason("GATE_NOT_OPEN")
}

// enqueue creates a run of role at the gate's current revision, with the reviewer's notes of
// a request for changes as its feedback, and publishes it queued. Every run is created here: by
// StartRun, and by the orchestration (StartProject's intake, runGate).
func (s *Service) enqueue(ctx context.Context, role catalog.Role, projectID string, g Gate, userID, instructions string, automatic bool) (store.Run, bool, error) {
	model := role.DefaultModel
	if s.Model != "" {
		model = s.Model
	}
	feedback := ""
	if g.Revision > 0 {
		feedback = g.ChangeNotes
	}
	r, created, err := s.Store.CreateRun(ctx, store.Run{ID: uuid.Must(uuid.NewV7()).String(), ProjectID: projectID, Gate: g.Number,
		Role: role.ID, Revision: g.Revision, Priority: role.Priority, Instructions: instructions, Feedback: feedback,
		UserID: userID, Automatic: automatic, Model: model, MaxAttempts: s.Limits.MaxAttempts, CreatedAt: s.now()})
	if err == nil && created {
		s.announce(ctx, r.ID)
	}
	return r, created, err
}

// GetRun returns a run of the project with its output.
func (s *Service) GetRun(ctx context.Context, projectID, runID string) (store.Run, error) {
	if !input.ValidID(runID) {
		return store.Run{}, apperr.InvalidField("runId", "is required: the id of a run")
	}
	if _, err := s.Projects.Authorize(ctx, projectID, false); err != nil {
		return store.Run{}, err
	}
	return s.projectRun(ctx, projectID, runID)
}

// projectRun loads a run, refusing one of another project as if it did not exist.
func (s *Service) projectRun(ctx context.Context, projectID, runID string) (store.Run, error) {
	r, err := s.Store.Run(ctx, runID)
	if err == nil && r.ProjectID != projectID {
		err = store.ErrNotFound
	}
	return r, notFound(err, "run %s not found in this project", runID)
}

// Page sizes of ListRuns.
const (
	defaultRunPage = 50
	maxRunPage     = 200
)

// ListRuns lists a project's runs, newest first; with changedSince (non-zero), only those not
// finished and those that finished at or after it.
func (s *Service) ListRuns(ctx context.Context, projectID string, gate int, changedSince time.Time, pageSize int, pageToken string) ([]store.Run, string, error) {
	var v apperr.Violations
	if gate < 0 || gate > catalog.GateCount {
		v.Add("gate", fmt.Sprintf("must be between 1 and %d, or 0 for every gate", catalog.GateCount))
	}
	size := paging.Size(&v, pageSize, defaultRunPage, maxRunPage)
	var cursor runCursor
	if pageToken != "" && (paging.ParseCursorToken(pageToken, &cursor) != nil || cursor.CreatedMicros <= 0 || !input.ValidID(cursor.ID)) {
		v.Add("pageToken", "is not a page token of this list: pass nextPageToken back unchanged")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	if _, err := s.Projects.Authorize(ctx, projectID, false); err != nil {
		return nil, "", err
	}
	page := store.RunPage{Gate: gate, ChangedSince: changedSince, BeforeID: cursor.ID, Limit: size + 1}
	if cursor.CreatedMicros > 0 {
		page.BeforeCreated = time.UnixMicro(cursor.CreatedMicros)
	}
	runs, err := s.Store.Runs(ctx, projectID, page)
	if err != nil {
		return nil, "", err
	}
	runs, next := paging.Cut(runs, size, func(last store.Run) string {
		return paging.CursorToken(runCursor{CreatedMicros: last.CreatedAt.UnixMicro(), ID: last.ID})
	})
	return runs, next, nil
}

// runCursor is the position in a list of runs, newest first.
type runCursor struct {
	CreatedMicros int64  `json:"t"`
	ID            string `json:"id"`
}

// CancelRun cancels a queued or running run.
func (s *Service) CancelRun(ctx context.Context, who authn.Identity, projectID, runID string) (store.Run, error) {
	if !input.ValidID(runID) {
		return store.Run{}, apperr.InvalidField("runId", "is required: the id of a run")
	}
	if _, err := s.Projects.Authorize(ctx, projectID, true); err != nil {
		return store.Run{}, err
	}
	if _, err := s.projectRun(ctx, projectID, runID); err != nil {
		return store.Run{}, err
	}
	r, err := s.Store.Finish(ctx, runID, store.StateCancelled, "cancelled by user "+who.UserID, s.now())
	if errors.Is(err, store.ErrFinished) {
		return r, apperr.FailedPrecondition("run %s has already finished", runID).WithReason("RUN_FINISHED")
	}
	if err == nil {
		s.runEnded(ctx, r)
	}
	return r, err
}

// StartProject begins (or resumes) the orchestration of a project's gates for the caller, with
// the user's description, and returns the G1 intake run. Past G1's work (it is in review or
// approved) there is no intake to run: the orchestration resumes at the current gate and the run
// is nil.
func (s *Service) StartProject(ctx context.Context, who authn.Identity, projectID, description string) (*store.Run, error) {
	description = strings.TrimSpace(description)
	var v apperr.Violations
	input.CheckText(&v, "description", description, false, descriptionMaxLen)
	if err := v.Err(); err != nil {
		return nil, err
	}
	p, err := s.Projects.Authorize(ctx, projectID, true)
	if err != nil {
		return nil, err
	}
	project, err := s.Projects.Project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if project.Completed {
		return nil, apperr.FailedPrecondition("project %s is complete", projectID).WithReason("PROJECT_COMPLETE")
	}
	if err := s.checkMonthlyBudget(ctx, who.UserID); err != nil {
		return nil, err
	}
	if description != "" {
		if err := s.Projects.SetDescription(ctx, projectID, description); err != nil {
			return nil, err
		}
	}
	// The work is for whoever started it last: a resumed project's runs spend their budget.
	if _, err := s.Store.PutWork(ctx, store.Work{ProjectID: projectID, UserID: who.UserID, CreatedAt: s.now()}); err != nil {
		return nil, err
	}
	g1, err := s.gate(ctx, projectID, 1)
	if err != nil {
		return nil, err
	}
	var intake *store.Run
	switch g1.State {
	case GatePending, GateInProgress:
		if g1.State == GatePending {
			if err := ignoreStale(s.Projects.StartGate(ctx, projectID, 1)); err != nil {
				return nil, err
			}
		}
		roles, err := s.gateRoles(ctx, p.Type, 1)
		if err != nil {
			return nil, err
		}
		r, _, err := s.latestOrNew(ctx, roles[0], projectID, g1, who.UserID)
		if err != nil {
			return nil, err
		}
		intake = &r
	}
	return intake, s.Store.EnqueueReconcile(ctx, projectID)
}

// latestOrNew returns the role's run of the gate's current revision, creating it if there is
// none.
func (s *Service) latestOrNew(ctx context.Context, role catalog.Role, projectID string, g Gate, userID string) (store.Run, bool, error) {
	runs, err := s.Store.GateRuns(ctx, projectID, g.Number, g.Revision)
	if err != nil {
		return store.Run{}, false, err
	}
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].Role == role.ID {
			return runs[i], false, nil
		}
	}
	return s.enqueue(ctx, role, projectID, g, userID, "", true)
}

// gateRoles returns the roles that work at a gate of a project type, as the projects service's
// workflow says (the one definition), with their catalog entries.
func (s *Service) gateRoles(ctx context.Context, projectType string, gate int) ([]catalog.Role, error) {
	wf, err := s.Projects.Workflow(ctx, projectType)
	if err != nil {
		return nil, err
	}
	if gate < 1 || gate > len(wf) {
		return nil, fmt.Errorf("workflow of %s has no gate %d", projectType, gate)
	}
	var roles []catalog.Role
	for _, id := range wf[gate-1].Roles {
		r, ok := catalog.Get(id)
		if !ok {
			return nil, fmt.Errorf("workflow role %q of G%d is not in the catalog", id, gate)
		}
		roles = append(roles, r)
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("workflow of %s has no roles at G%d", projectType, gate)
	}
	return roles, nil
}

func gateList(gates []int) string {
	parts := make([]string, len(gates))
	for i, g := range gates {
		parts[i] = fmt.Sprintf("G%d", g)
	}
	return strings.Join(parts, ", ")
}
