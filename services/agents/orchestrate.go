package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"google.golang.org/grpc/codes"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/pricing"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// The orchestration is level-triggered: a reconcile job reads where a project's current gate
// stands and where its runs stand, and does the one thing that follows (start the gate, enqueue
// the runs it lacks, submit it for review, block it), then looks again. It keeps no state of its
// own besides the runs, so a duplicated, replayed or lost nudge changes nothing: the next
// reconcile (after any run ends, after any gate event, and by the periodic sweep) sees the same
// state and does the same thing.

// reconcileWorker reconciles one project.
type reconcileWorker struct {
	river.WorkerDefaults[store.ReconcileJob]
	s *Service
}

func (w *reconcileWorker) Work(ctx context.Context, job *river.Job[store.ReconcileJob]) error {
	return w.s.Reconcile(ctx, job.Args.ProjectID)
}

// sweepWorker fails runs the queue gave up on, and enqueues a reconcile of every project in
// progress.
type sweepWorker struct {
	river.WorkerDefaults[store.SweepJob]
	s *Service
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[store.SweepJob]) error {
	orphans, err := w.s.Store.FailOrphans(ctx, w.s.now())
	if err != nil {
		return err
	}
	for _, r := range orphans {
		w.s.Logger.WarnContext(ctx, "run failed: the job queue gave up on it", "run_id", r.ID, "project_id", r.ProjectID)
		w.s.runEnded(ctx, r)
	}
	// A verification's job that the queue lost or gave up on must not hold its gate for ever.
	if _, err := w.s.Store.FailStaleVerifications(ctx, w.s.now(), 3*verifyTimeout); err != nil {
		return err
	}
	after := ""
	for {
		ids, err := w.s.Store.ActiveWork(ctx, after, 500)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := w.s.Store.EnqueueReconcile(ctx, id); err != nil {
				return err
			}
		}
		if len(ids) < 500 {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

// maxSteps bounds the transitions of one reconcile (pending → in progress → runs enqueued).
const maxSteps = 4

// reconcileLease bounds how long one reconcile holds its project; a holder that dies frees it
// when the lease lapses, so it is short (a dead worker's project waits at most this long), and a
// reconcile gives up at three quarters of it, so a live holder never outlives its lease.
const reconcileLease = 20 * time.Second

// Reconcile moves a project's current gate as far as its state allows. Reconciles of one project
// take turns (a lease on its work record): one that finds the project held tries again shortly,
// so it still sees what the holder did.
func (s *Service) Reconcile(ctx context.Context, projectID string) error {
	w, err := s.Store.Work(ctx, projectID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // not a project the orchestration moves
	} else if err != nil {
		return err
	}
	if !w.CompletedAt.IsZero() {
		return nil
	}
	now := s.now()
	until := now.Add(reconcileLease)
	if ok, err := s.Store.LeaseWork(ctx, projectID, now, until); err != nil {
		return err
	} else if !ok {
		return river.JobSnooze(100*time.Millisecond + rand.N(100*time.Millisecond))
	}
	defer func() {
		if err := s.Store.ReleaseWork(context.WithoutCancel(ctx), projectID, until); err != nil {
			s.Logger.WarnContext(ctx, "cannot release a reconcile lease; it lapses", "project_id", projectID, "error", err.Error())
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, reconcileLease*3/4)
	defer cancel()
	return s.reconcile(ctx, w)
}

func (s *Service) reconcile(ctx context.Context, w store.Work) error {
	projectID := w.ProjectID
	uctx, err := s.actFor(ctx, w.UserID)
	if c := apperr.Code(err); c == codes.NotFound {
		s.Logger.InfoContext(ctx, "orchestration stops: the user it worked for is gone", "project_id", projectID, "user_id", w.UserID)
		return s.Store.CompleteWork(ctx, projectID, s.now())
	} else if err != nil {
		return err
	}
	for range maxSteps {
		p, err := s.Projects.Project(uctx, projectID)
		if c := apperr.Code(err); c == codes.NotFound || c == codes.PermissionDenied {
			// Deleted, or the user who started the work lost access: nobody to work for.
			s.Logger.InfoContext(ctx, "orchestration stops", "project_id", projectID, "reason", err.Error())
			return s.Store.CompleteWork(ctx, projectID, s.now())
		} else if err != nil {
			return err
		}
		if p.Completed {
			return s.Store.CompleteWork(ctx, projectID, s.now())
		}
		gates, err := s.Projects.Gates(uctx, projectID)
		if err != nil || len(gates) == 0 {
			return err
		}
		changed, err := s.advance(uctx, w, p, gates[len(gates)-1])
		if err != nil || !changed {
			return err
		}
	}
	return nil
}

// advance does the next thing the gate's state calls for and reports whether it changed
// anything worth looking at again.
func (s *Service) advance(ctx context.Context, w store.Work, p Project, g Gate) (bool, error) {
	switch g.State {
	case GatePending, GateChangesRequested:
		// A gate opens when the one before it is approved (that is what created it) or, for G1,
		// when the work starts; after a request for changes it reopens for the re-run.
		return true, ignoreStale(s.Projects.StartGate(ctx, p.ID, g.Number))
	case GateInProgress:
		return s.runGate(ctx, w, p, g)
	case GateApproved:
		if g.Number == catalog.GateCount {
			return false, s.Store.CompleteWork(ctx, p.ID, s.now())
		}
	case GateBlocked:
		return false, s.acknowledge(ctx, p, g)
	}
	return false, nil // in review or blocked: the owner decides
}

// acknowledge records what a blocked gate has spent and run, and that the owner has seen its
// failed runs: when they unblock it, budgets and re-run caps count from here, and those roles
// run again. It is recorded on seeing the block (not on asking for it), so a block that did not
// happen grants nothing.
func (s *Service) acknowledge(ctx context.Context, p Project, g Gate) error {
	spent, roleRuns, err := s.Store.GateTotals(ctx, p.ID, g.Number)
	if err != nil {
		return err
	}
	return s.Store.PutAllowance(ctx, store.Allowance{ProjectID: p.ID, Gate: g.Number, TokensSpent: spent.Tokens(),
		CostSpent: spent.CostMicros, RoleRuns: roleRuns, AcknowledgedAt: s.now()})
}

// ignoreStale treats a transition refused because the gate has moved on (another reconcile, or a
// person, got there first) as done.
func ignoreStale(err error) error {
	if c := apperr.Code(err); c == codes.FailedPrecondition || c == codes.Aborted {
		return nil
	}
	return err
}

// runGate enqueues the runs the gate's current revision lacks and submits the gate for review
// once every role's run has succeeded and its deliverables are recorded.
func (s *Service) runGate(ctx context.Context, w store.Work, p Project, g Gate) (bool, error) {
	roles, err := s.gateRoles(ctx, p.Type, g.Number)
	if err != nil {
		return false, err
	}
	runs, err := s.Store.GateRuns(ctx, p.ID, g.Number, g.Revision)
	if err != nil {
		return false, err
	}
	latest := map[string]store.Run{}
	for _, r := range runs {
		latest[r.Role] = r // oldest first: the last one wins
	}
	a, err := s.Store.Allowance(ctx, p.ID, g.Number)
	if err != nil {
		return false, err
	}
	allDone := true
	for _, role := range roles {
		r, ok := latest[role.ID]
		switch {
		case ok && r.State == store.StateSucceeded:
			continue
		case ok && r.Active():
			allDone = false
			continue
		}
		allDone = false
		if ok && !r.EndedAt.Before(a.AcknowledgedAt) {
			// Failed or cancelled, and the owner has not seen it yet: they are told and decide;
			// once they unblock the gate, the role runs again.
			// The run's reason says what happened and what to do (failures.go).
			reason := fmt.Sprintf("the %s's run %s %s: %s. Unblock G%d to run it again.",
				role.Name, r.ID, r.State, strings.TrimSuffix(orNone(ownerText(r.Error)), "."), g.Number)
			return true, s.block(ctx, p, g, reason)
		}
		if reason, err := s.overBudget(ctx, w, g, role, a); err != nil || reason != "" {
			if err != nil {
				return false, err
			}
			return true, s.block(ctx, p, g, reason)
		}
		if _, _, err := s.enqueue(ctx, role, p.ID, g, w.UserID, "", true); err != nil {
			return false, err
		}
	}
	if !allDone {
		return false, nil
	}
	// Read the gate again: g was read before the runs, and a run that finished in between
	// recorded its deliverables after that read.
	if g, err = s.gate(ctx, p.ID, g.Number); err != nil || g.State != GateInProgress {
		return err == nil, err
	}
	// What the gate lacks is the projects service's judgement, the same its submit applies, so
	// the orchestration never submits a gate it would refuse.
	if missing := g.MissingDeliverables; len(missing) > 0 {
		return true, s.block(ctx, p, g, fmt.Sprintf("every run of G%d succeeded but no %s was recorded as its deliverable; "+
			"save the missing documents, then unblock the gate", g.Number, strings.Join(missing, ", ")))
	}
	if len(g.MissingProofs) > 0 {
		// Proofs running the code gives are the sandbox's (verification.go); evidence nothing
		// here produces (scans, deployments) is the owner's to record. The gate goes to review
		// once it is all there (a proof event nudges a reconcile).
		return s.verifyGate(ctx, w, p, g)
	}
	return true, ignoreStale(s.Projects.SubmitGate(ctx, p.ID, g.Number))
}

func orNone(s string) string {
	if s == "" {
		return "the reason is in the agents service's log"
	}
	return s
}

// overBudget says why the role may not run (again) at the gate, or "" if it may: its re-run cap,
// the gate's token or cost budget (all counted since the owner last unblocked the gate), or the
// monthly budget of the user the work is for.
func (s *Service) overBudget(ctx context.Context, w store.Work, g Gate, role catalog.Role, a store.Allowance) (string, error) {
	spent, roleRuns, err := s.Store.GateTotals(ctx, w.ProjectID, g.Number)
	if err != nil {
		return "", err
	}
	// The first run of a role is not a re-run; after an unblock, the count starts again.
	reruns := roleRuns[role.ID] - max(a.RoleRuns[role.ID], 1)
	l := s.Limits
	switch {
	case l.GateMaxReruns > 0 && roleRuns[role.ID] > 0 && reruns >= l.GateMaxReruns:
		return fmt.Sprintf("the %s has run again %d times at G%d (the cap is %d per role). Unblock G%d to allow %d more runs, "+
			"or save what is missing yourself and unblock it so it can go to review.", role.Name, reruns, g.Number, l.GateMaxReruns, g.Number, l.GateMaxReruns), nil
	case l.GateTokenBudget > 0 && spent.Tokens()-a.TokensSpent >= l.GateTokenBudget:
		return fmt.Sprintf("G%d's runs have used %d tokens, its budget of %d. Unblock G%d to allow %d more, or raise AGENT_GATE_TOKEN_BUDGET.",
			g.Number, spent.Tokens()-a.TokensSpent, l.GateTokenBudget, g.Number, l.GateTokenBudget), nil
	case l.GateCostBudgetMicros > 0 && spent.CostMicros-a.CostSpent >= l.GateCostBudgetMicros:
		return fmt.Sprintf("G%d's runs have cost %s, its budget of %s. Unblock G%d to allow as much again, or raise AGENT_GATE_COST_BUDGET.",
			g.Number, pricing.FormatUSD(spent.CostMicros-a.CostSpent), pricing.FormatUSD(l.GateCostBudgetMicros), g.Number), nil
	}
	if err := s.checkMonthlyBudget(ctx, w.UserID); apperr.IsKind(err, apperr.KindResourceExhausted) {
		e, _ := apperr.As(err)
		return "the user the work is for has no budget left: " + e.Message + ". Unblock the gate after that.", nil
	} else if err != nil {
		return "", err
	}
	return "", nil
}

// maxReason is the longest block reason the projects service takes.
const maxReason = 1000

// block blocks the gate with a reason for the owner. What the gate has spent is recorded when
// the next look sees it blocked (see acknowledge).
func (s *Service) block(ctx context.Context, p Project, g Gate, reason string) error {
	s.Logger.InfoContext(ctx, "gate blocked", "project_id", p.ID, "gate", g.Number, "reason", reason)
	return ignoreStale(s.Projects.BlockGate(ctx, p.ID, g.Number, input.Clean(reason, maxReason)))
}

// WatchProjectEvents nudges the orchestration whenever a project it moves has a gate event (an
// approval, a request for changes, an unblock) or a proof is recorded, until ctx ends. Nudges are a shortcut: the
// periodic sweep catches any the bus loses.
func (s *Service) WatchProjectEvents(ctx context.Context) {
	for ctx.Err() == nil {
		sub, err := s.Bus.SubscribePattern(ctx, eventbus.ProjectTopic("*"))
		if err != nil {
			s.Logger.WarnContext(ctx, "cannot watch project events; retrying", "error", err.Error())
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
			continue
		}
		stop := context.AfterFunc(ctx, func() { _ = sub.Close() })
		for msg := range sub.C {
			s.nudge(ctx, msg)
		}
		stop()
		_ = sub.Close()
	}
}

// nudge enqueues a reconcile of the project of a gate event, if the orchestration moves it.
func (s *Service) nudge(ctx context.Context, msg []byte) {
	// The projects service publishes its public Event (protojson).
	var e struct {
		ProjectID     string          `json:"projectId"`
		GateChanged   json.RawMessage `json:"gateChanged"`
		ProofRecorded json.RawMessage `json:"proofRecorded"`
	}
	if json.Unmarshal(msg, &e) != nil || e.ProjectID == "" || e.GateChanged == nil && e.ProofRecorded == nil {
		return
	}
	if _, err := s.Store.Work(ctx, e.ProjectID); err != nil {
		return
	}
	if err := s.Store.EnqueueReconcile(ctx, e.ProjectID); err != nil && ctx.Err() == nil {
		s.Logger.WarnContext(ctx, "cannot enqueue a reconcile", "project_id", e.ProjectID, "error", err.Error())
	}
}
