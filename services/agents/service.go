// Package agents is the agents service: the catalog of agent roles, durable runs of those roles
// on the job queue, the LLM providers they call with streaming output, their cost, and the
// orchestration that moves a project's gates as runs finish and people decide.
//
// A request's path: handler.go (proto ↔ domain) → the Service methods here and in runs.go →
// store (runs and jobs in one database). A run's path: the queue's RunWorker (execute.go) →
// prompt.go → a provider → process.go (documents, tasks, proofs) → the reconcile job
// (orchestrate.go), which starts, submits and blocks gates.
package agents

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	outagelog "github.com/fuzzyllama/fuzzyllama/platform/outage"
	"github.com/fuzzyllama/fuzzyllama/services/agents/pricing"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// Limits bound what runs may spend and how they are retried.
type Limits struct {
	// MaxAttempts is how many times a run calls its provider before it fails.
	MaxAttempts int
	// RetryBase and RetryMax bound the exponential backoff between attempts.
	RetryBase, RetryMax time.Duration
	// GateTokenBudget and GateCostBudgetMicros bound what a gate's runs spend before the gate
	// is blocked (0: no limit). Unblocking the gate grants the same again.
	GateTokenBudget      int64
	GateCostBudgetMicros int64
	// GateMaxReruns is how many times each role of a gate may run again (after changes are
	// requested, or automatically after a failure) before the gate is blocked.
	GateMaxReruns int
	// UserMonthlyTokens and UserMonthlyCostMicros bound what one user's runs spend in a
	// calendar month, UTC (0: no limit).
	UserMonthlyTokens     int64
	UserMonthlyCostMicros int64
	// ContextPerDocument and ContextTotal bound the documents put in a prompt, in bytes.
	ContextPerDocument, ContextTotal int
	// LeaseTTL is how long a running run's worker may stay silent before another takes the run
	// over; workers renew their leases, and rescuers look for expired ones, every third of it
	// (0: 30 s).
	LeaseTTL time.Duration
	// OutageWait is how long a run waits for FuzzyLlama's own services to come back before it
	// fails (0: 15 minutes).
	OutageWait time.Duration
	// VerifyRepairs is how many times a gate revision's failed verification is sent back to the
	// developers before the gate blocks (0: 2).
	VerifyRepairs int
}

func (l Limits) verifyRepairs() int {
	if l.VerifyRepairs > 0 {
		return l.VerifyRepairs
	}
	return 2
}

// Providers chooses the provider of a model.
type Providers interface {
	For(model string) (provider.Provider, error)
}

// Service implements the agents domain.
type Service struct {
	Store     *store.DB
	Projects  Projects
	Documents Documents
	Providers Providers
	Prices    *pricing.Table
	// Runner runs the source trees' builds and tests (verification.go); nil leaves the proofs it
	// would produce to people. Evidence is what verification reads of gates and records.
	Runner   sandbox.Runner
	Evidence Evidence
	// Model, when set, replaces every role's default model (e.g. a local model for all).
	Model  string
	Limits Limits
	// Tokens gives the service delegated tokens to act for a run's user in background work.
	Tokens *authn.ServiceTokens
	Bus    *eventbus.Bus
	// EncodeRun is the form a run's state change takes on its project's runs topic: PublicRun.
	EncodeRun func(store.Run) ([]byte, error)
	Metrics   *Metrics // nil records nothing
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// busPausedUntil (unix nanoseconds) and busDown: the event bus failed; see busPublish.
	busPausedUntil atomic.Int64
	busDown        atomic.Bool
	// storeLog records the outages of the service's own database that runs' writes meet; see
	// storeOutages.
	storeLogOnce sync.Once
	storeLog     *outagelog.Log
}

// storeOutages is the outage log of the service's own database as a run's writes meet it (a
// streamed batch it cannot take, an answer or usage it must retry): one WARN when they start
// failing, one INFO when a write succeeds again.
func (s *Service) storeOutages() *outagelog.Log {
	s.storeLogOnce.Do(func() { s.storeLog = &outagelog.Log{Dependency: "agents database", Logger: s.Logger} })
	return s.storeLog
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// actFor returns ctx carrying a delegated identity for userID, for background work.
func (s *Service) actFor(ctx context.Context, userID string) (context.Context, error) {
	return s.Tokens.For(ctx, userID)
}

// monthOf returns the start and end (exclusive) of t's calendar month, UTC.
func monthOf(t time.Time) (time.Time, time.Time) {
	start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// Usage is a user's spending this month against their budget.
type Usage struct {
	MonthStart, MonthEnd time.Time
	Used                 store.Totals
	TokenBudget          int64
	CostBudgetMicros     int64
}

// GetUsage returns the caller's usage this month.
func (s *Service) GetUsage(ctx context.Context, who authn.Identity) (Usage, error) {
	start, end := monthOf(s.now())
	used, err := s.Store.UserTotals(ctx, who.UserID, start)
	return Usage{MonthStart: start, MonthEnd: end, Used: used, TokenBudget: s.Limits.UserMonthlyTokens,
		CostBudgetMicros: s.Limits.UserMonthlyCostMicros}, err
}

// checkMonthlyBudget refuses work for a user whose monthly budget is spent.
func (s *Service) checkMonthlyBudget(ctx context.Context, userID string) error {
	u, err := s.GetUsage(ctx, authn.Identity{UserID: userID})
	if err != nil {
		return err
	}
	resets := u.MonthEnd.Format(time.DateOnly)
	switch {
	case u.TokenBudget > 0 && u.Used.Tokens() >= u.TokenBudget:
		return apperr.ResourceExhausted(u.MonthEnd.Sub(s.now()), "monthly token budget spent: %d of %d tokens used this month; it resets on %s",
			u.Used.Tokens(), u.TokenBudget, resets).WithReason("MONTHLY_BUDGET_EXHAUSTED")
	case u.CostBudgetMicros > 0 && u.Used.CostMicros >= u.CostBudgetMicros:
		return apperr.ResourceExhausted(u.MonthEnd.Sub(s.now()), "monthly cost budget spent: %s of %s used this month; it resets on %s",
			pricing.FormatUSD(u.Used.CostMicros), pricing.FormatUSD(u.CostBudgetMicros), resets).WithReason("MONTHLY_BUDGET_EXHAUSTED")
	}
	return nil
}

// GetProjectCosts totals a project's runs, in all and per gate, role and model. Any member may
// read them.
func (s *Service) GetProjectCosts(ctx context.Context, projectID string) (store.ProjectTotals, error) {
	if _, err := s.Projects.Authorize(ctx, projectID, false); err != nil {
		return store.ProjectTotals{}, err
	}
	return s.Store.ProjectTotals(ctx, projectID)
}

// notFound maps the store's ErrNotFound to the caller's NOT_FOUND.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return apperr.NotFound(format, args...)
	}
	return err
}
