package agents

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"google.golang.org/grpc/codes"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// runWorker executes runs from the queue.
type runWorker struct {
	river.WorkerDefaults[store.RunJob]
	s *Service
}

func (w *runWorker) Work(ctx context.Context, job *river.Job[store.RunJob]) error {
	return w.s.execute(ctx, job.Args.RunID, job.ID)
}

// maxOutputBytes bounds what one run may write: a model that never stops costs no memory past it.
const maxOutputBytes = 2 << 20

// execute works a run as its job jobID. It is safe to repeat: the model is called only until one
// complete answer is saved, and each step of processing that answer is recorded once done. The
// worker holds the run's lease meanwhile (lease.go); every write checks it.
func (s *Service) execute(ctx context.Context, runID string, jobID int64) error {
	s.announce(ctx, runID) // if its creator has not yet: live clients see it queued before running
	l := store.Lease{RunID: runID, Token: uuid.NewString()}
	r, err := s.Store.Claim(ctx, runID, jobID, l.Token, s.now(), s.Limits.leaseTTL())
	switch {
	case errors.Is(err, store.ErrFinished), errors.Is(err, store.ErrNotFound):
		return nil // cancelled before it started, or finished by an earlier execution
	case errors.Is(err, store.ErrSuperseded):
		return nil // the run was handed on to a new job after this one's worker stopped
	case errors.Is(err, store.ErrLeased):
		return river.JobSnooze(s.Limits.leaseTTL() / 3) // another worker has it; its lease will say
	case err != nil:
		return err
	}
	ctx, release := s.holdLease(ctx, l)
	defer release()
	err = s.work(ctx, l, &r) // updates r (its attempt), which settle needs
	return s.settle(ctx, l, r, err)
}

// work does what the run still lacks: the model's answer, then the steps of processing it.
func (s *Service) work(ctx context.Context, l store.Lease, r *store.Run) error {
	if r.Rescues > maxRescues {
		return &runFailed{fmt.Sprintf("the worker running it stopped %d times (it may be what stops them). "+
			"Run it again; if it stops again, ask the operators to look at the agents service's logs.", r.Rescues)}
	}
	uctx, err := s.actFor(ctx, r.UserID)
	if err != nil {
		return fromService("auth", err)
	}
	if r.Output == "" {
		if r.Attempt >= r.MaxAttempts {
			return &runFailed{fmt.Sprintf("gave up after %d attempts of the model call; the last one did not finish "+
				"(it ran past AGENT_RUN_TIMEOUT, or its worker stopped). Run it again.", r.MaxAttempts)}
		}
		// The budget was checked when the run was queued; other runs may have spent it since.
		if err := s.checkMonthlyBudget(ctx, r.UserID); apperr.Code(err) == codes.ResourceExhausted {
			return &runFailed{err.Error()}
		} else if err != nil {
			return err
		}
		s.startTasks(uctx, *r) // tasks.go: the run's tasks are in progress
		text, err := s.callModel(ctx, uctx, l, r)
		if err != nil {
			return err
		}
		// The answer cost an attempt: a short outage of the database must not throw it away.
		if err := s.keep(ctx, "the answer", r.ID, func(ctx context.Context) error { return s.Store.SaveOutput(ctx, l, text) }); err != nil {
			return err
		}
		r.Output, r.WaitingSince = text, time.Time{} // saving it cleared the wait, as it did in the store
	} else {
		s.publishRun(ctx, *r) // its answer saved, it runs again without a model call
	}
	role, _ := catalog.Get(r.Role)
	out, err := output.Parse(r.Output)
	if err == nil {
		err = out.Check(role.OutputsFor(r.Gate))
	}
	if err != nil {
		return &runFailed{"the output does not follow the output contract: " + err.Error()}
	}
	if current, err := s.Store.Run(ctx, r.ID); err != nil || !current.Active() {
		return err // cancelled while the model answered: store nothing
	}
	if err := s.process(uctx, l, r, out); err != nil {
		return err
	}
	done, err := s.Store.FinishLeased(ctx, l, store.StateSucceeded, "", s.now())
	if err != nil {
		return err
	}
	s.runEnded(ctx, done)
	return nil
}

// callModel builds the prompt, starts a provider attempt, streams the model's answer (storing
// and publishing it as it comes) and records the tokens it used. Only a call that reaches the
// provider spends an attempt: a service that fails while the prompt is built spends none.
func (s *Service) callModel(ctx, uctx context.Context, l store.Lease, r *store.Run) (string, error) {
	req, err := s.prompt(uctx, *r)
	if err != nil {
		return "", err
	}
	p, err := s.Providers.For(r.Model)
	if err != nil {
		return "", &provider.Error{Provider: "config", Kind: provider.Permanent, Message: err.Error()}
	}
	if r.Attempt, err = s.Store.BeginAttempt(ctx, l); err != nil {
		return "", err
	}
	r.Error, r.WaitingSince = "", time.Time{} // no longer waiting, as in the store
	s.Metrics.started(*r)
	s.publishRun(ctx, *r)
	w := &outputWriter{s: s, run: *r, lease: l}
	resp, err := p.Stream(ctx, req, w.write)
	w.flush(ctx)
	cost, priced := s.Prices.Cost(cmp.Or(resp.Model, r.Model), resp.Usage.InputTokens, resp.Usage.OutputTokens)
	if resp.Usage != (provider.Usage{}) || resp.Offline {
		// An offline answer used nothing (the store adds no usage for it) and marks the run.
		u := store.Usage{InputTokens: resp.Usage.InputTokens, OutputTokens: resp.Usage.OutputTokens, CostMicros: cost,
			Unpriced: !priced, Offline: resp.Offline, Model: resp.Model, Key: fmt.Sprintf("%s:%d", l.Token, r.Attempt)}
		// Tokens were spent whatever happens to the run (a lost lease included: the write is not
		// the lease holder's, and one try is made even then); budgets must count them, once (the
		// key makes a write repeated after its answer was lost add nothing).
		if err := s.keep(ctx, "the usage", r.ID, func(ctx context.Context) error {
			return s.Store.AddUsage(context.WithoutCancel(ctx), r.ID, u)
		}); err != nil {
			s.Logger.WarnContext(ctx, "cannot record usage", "run_id", r.ID, "error", err.Error())
		}
		s.Metrics.used(r.Role, u)
	}
	if err != nil {
		return "", err
	}
	return w.text.String(), nil
}

// keep makes a write of what a model call produced (its answer, its usage) through a short
// outage of the service's own database: it retries write with backoff (50 ms doubling to 1 s)
// while the write fails for an outage, for at most AGENT_OUTAGE_WAIT, and only while ctx lives:
// holdLease cancels it when the worker loses the run's lease or cannot renew it before it runs
// out, so a worker that may no longer hold the run stops without writing. Each try gets ctx
// (write may detach from it). The outage is logged once (storeOutages); what finally fails is
// returned.
func (s *Service) keep(ctx context.Context, what, runID string, write func(context.Context) error) error {
	deadline := time.Now().Add(s.Limits.outageWait())
	pause := 50 * time.Millisecond
	for {
		err := write(ctx)
		if err == nil {
			s.storeOutages().Up(ctx)
			return nil
		}
		if !outage(err) || ctx.Err() != nil || time.Now().Add(pause).After(deadline) {
			return err
		}
		if s.storeOutages().Down(ctx, err) {
			s.Logger.InfoContext(ctx, "cannot store a run's work; retrying while the run's lease holds", "run_id", runID, "what", what)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause/2 + rand.N(pause/2+1)):
		}
		pause = min(2*pause, time.Second)
	}
}

// settle ends an execution after err: nothing to do when the run ended or another worker holds
// it; an outage of FuzzyLlama's services is waited out (waitOut); a transient provider failure
// with attempts left snoozes the job with backoff (honouring the provider's Retry-After);
// anything else (a service's internal error or refusal, a permanent provider failure) fails the
// run with a reason for its owner, spending no further attempt.
func (s *Service) settle(ctx context.Context, l store.Lease, r store.Run, err error) error {
	var failed *runFailed
	switch {
	case err == nil, errors.Is(err, store.ErrFinished), errors.Is(err, store.ErrNotFound):
		return nil
	case leaseLost(ctx, err):
		// The job is kept (snoozed), not ended: a lease that ran out during an outage may be
		// released once the database is back, the run queued again under this job, which must
		// then work it. A run another worker holds (handed on to a new job) makes the job find
		// itself superseded and end then.
		s.Logger.InfoContext(ctx, "run left to the worker that holds it now, or to this job's next try", "run_id", r.ID,
			"project_id", r.ProjectID)
		return river.JobSnooze(s.Limits.leaseTTL() / 3)
	case errors.As(err, &failed):
		return s.fail(ctx, l, r, failed.reason)
	}
	if current, gerr := s.Store.Run(context.WithoutCancel(ctx), r.ID); gerr == nil && !current.Active() {
		return nil // cancelled while it ran: the cancellation stopped it
	} else if gerr == nil {
		r.WaitingSince = current.WaitingSince // the store's is the truth: progress since a wait cleared it
	}
	if ctx.Err() != nil {
		return ctx.Err() // the worker is stopping, or the job ran out of time: the job is worked again
	}
	if outage(err) {
		return s.waitOut(ctx, l, r, err)
	}
	if broken(err) {
		s.Logger.ErrorContext(ctx, "a FuzzyLlama service failed a run's request", "run_id", r.ID, "project_id", r.ProjectID,
			"error", err.Error())
		return s.fail(ctx, l, r, serviceFailure(err))
	}
	var pe *provider.Error
	if !errors.As(err, &pe) {
		s.Logger.WarnContext(ctx, "a FuzzyLlama service refused a run's request", "run_id", r.ID, "project_id", r.ProjectID,
			"error", err.Error())
		return s.fail(ctx, l, r, refusal(err))
	}
	transient := pe.Kind == provider.Transient
	s.Metrics.failed(r.Role, transient && r.Attempt < r.MaxAttempts)
	switch {
	case transient && r.Attempt < r.MaxAttempts:
		wait := backoff(s.Limits.RetryBase, s.Limits.RetryMax, r.Attempt, provider.RetryAfter(err))
		reason := fmt.Sprintf("attempt %d of %d failed, retrying in %s: %s.", r.Attempt, r.MaxAttempts, wait.Round(time.Millisecond),
			providerProblem(pe))
		if err := s.Store.Requeue(ctx, l, reason, time.Time{}); err != nil {
			return s.settleFailed(ctx, r, err)
		}
		r.State, r.Error = store.StateQueued, reason
		s.publishRun(ctx, r)
		s.Logger.InfoContext(ctx, "run attempt failed, will retry", "run_id", r.ID, "attempt", r.Attempt, "wait", wait, "error", err.Error())
		return river.JobSnooze(wait)
	case transient:
		s.Logger.WarnContext(ctx, "run's last attempt failed", "run_id", r.ID, "error", err.Error())
		return s.fail(ctx, l, r, fmt.Sprintf("the model call failed on all %d attempts; the last time %s. Try the run again later.",
			r.MaxAttempts, providerProblem(pe)))
	}
	s.Logger.WarnContext(ctx, "run's provider refused it", "run_id", r.ID, "error", err.Error())
	return s.fail(ctx, l, r, capitalize(providerProblem(pe))+". "+providerAdvice(pe))
}

// waitOut parks the run while one of FuzzyLlama's services is out: its job snoozes (River does
// not count a snooze as an attempt, and neither does the run) with a backoff that grows with
// the wait to 5 s, so the run goes on within seconds of the service's return, until it has
// waited AGENT_OUTAGE_WAIT since it began waiting. Progress resets that clock: each write of
// it (BeginAttempt, SaveOutput, SaveResult) clears waiting_since in the store, and the worker
// clears r.WaitingSince with it (settle also takes the store's value when it can read it).
func (s *Service) waitOut(ctx context.Context, l store.Lease, r store.Run, err error) error {
	now := s.now()
	since := r.WaitingSince
	if since.IsZero() {
		since = now
	}
	waited, limit := now.Sub(since), s.Limits.outageWait()
	if waited >= limit {
		s.Logger.WarnContext(ctx, "run gives up waiting for a service", "run_id", r.ID, "project_id", r.ProjectID,
			"waited", waited, "error", err.Error())
		return s.fail(ctx, l, r, outageFailure(err, waited))
	}
	note := waitingNote(err)
	if err := s.Store.Requeue(ctx, l, note, since); err != nil {
		return s.settleFailed(ctx, r, err)
	}
	s.Metrics.waited(r.Role)
	if r.WaitingSince.IsZero() {
		s.Logger.WarnContext(ctx, "run waits for a service to come back", "run_id", r.ID, "project_id", r.ProjectID,
			"error", err.Error())
		r.State, r.Error = store.StateQueued, note
		s.publishRun(ctx, r)
	}
	return river.JobSnooze(min(outageBackoff(waited), limit-waited))
}

// outageBackoff is the pause before looking again at a service that has been out for waited:
// half of that, from 250 ms to 5 s, with jitter.
func outageBackoff(waited time.Duration) time.Duration {
	d := min(max(waited/2, 250*time.Millisecond), 5*time.Second)
	return d/2 + rand.N(d/2+1)
}

// settleFailed handles a failure to record how an execution ended.
func (s *Service) settleFailed(ctx context.Context, r store.Run, err error) error {
	if errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrFinished) {
		return nil
	}
	s.Logger.WarnContext(ctx, "cannot record a run's retry; the job is retried", "run_id", r.ID, "error", err.Error())
	return err
}

// fail ends the run as failed with reason, meant for its owner; the job is done.
func (s *Service) fail(ctx context.Context, l store.Lease, r store.Run, reason string) error {
	done, err := s.Store.FinishLeased(context.WithoutCancel(ctx), l, store.StateFailed, reason, s.now())
	if errors.Is(err, store.ErrFinished) || errors.Is(err, store.ErrLeaseLost) {
		return nil
	} else if err != nil {
		return err
	}
	s.Logger.WarnContext(ctx, "run failed", "run_id", r.ID, "project_id", r.ProjectID, "role", r.Role, "gate", r.Gate, "reason", reason)
	s.runEnded(ctx, done)
	return nil
}

// maxRetryAfter bounds the wait a provider may ask for: a server answering "Retry-After: a year"
// must not park a run (and its gate) for a year.
const maxRetryAfter = 30 * time.Minute

// backoff is the wait before attempt+1: exponential from base, capped at ceiling, with jitter in
// its upper half, and never shorter than what the provider asked for (up to maxRetryAfter).
func backoff(base, ceiling time.Duration, attempt int, retryAfter time.Duration) time.Duration {
	d := base << min(attempt-1, 20)
	if d > ceiling || d <= 0 {
		d = ceiling
	}
	d = d/2 + rand.N(d/2+1)
	return max(d, min(retryAfter, max(ceiling, maxRetryAfter)))
}

// outputWriter collects a streaming answer, storing and publishing it in small batches so that a
// watcher sees it live and one joining late can replay it.
type outputWriter struct {
	s       *Service
	run     store.Run
	lease   store.Lease
	text    strings.Builder
	pending strings.Builder
	seq     int64
	last    time.Time
}

const (
	flushBytes    = 2048
	flushInterval = 100 * time.Millisecond
)

// cleanText keeps what a model writes storable everywhere: PostgreSQL text takes neither NUL nor
// invalid UTF-8 (SQLite would, and the same answer must not fail on one database only).
var cleanText = strings.NewReplacer("\x00", "")

func (w *outputWriter) write(text string) error {
	text = cleanText.Replace(strings.ToValidUTF8(text, "\uFFFD"))
	if w.text.Len()+len(text) > maxOutputBytes {
		return &provider.Error{Provider: "agents", Kind: provider.Permanent,
			Message: fmt.Sprintf("the answer exceeds %d MiB; stopped", maxOutputBytes>>20)}
	}
	w.text.WriteString(text)
	w.pending.WriteString(text)
	if w.pending.Len() >= flushBytes || time.Since(w.last) >= flushInterval {
		return w.flush(context.Background())
	}
	return nil
}

// flush stores and publishes the pending output. Both are for watchers only (the whole answer is
// saved when it is complete), so a failure does not stop the stream, except a lost lease:
// another worker has the run.
func (w *outputWriter) flush(ctx context.Context) error {
	if w.pending.Len() == 0 {
		return nil
	}
	w.seq++
	c := store.Chunk{Attempt: w.run.Attempt, Seq: w.seq, Text: w.pending.String()}
	w.pending.Reset()
	w.last = time.Now()
	if err := w.s.Store.AppendChunks(context.WithoutCancel(ctx), w.lease, []store.Chunk{c}); errors.Is(err, store.ErrLeaseLost) {
		return err
	} else if err != nil {
		// Once per outage (the whole answer is saved at the end, and watchers get it then).
		if w.s.storeOutages().Down(ctx, err) {
			w.s.Logger.InfoContext(ctx, "cannot store streamed output; watchers get it when the run ends", "run_id", w.run.ID)
		}
		return nil
	}
	w.s.storeOutages().Up(ctx)
	w.s.publishChunk(ctx, w.run.ID, c)
	return nil
}
