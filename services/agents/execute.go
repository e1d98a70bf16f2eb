package agents

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

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
	return w.s.execute(ctx, job.Args.RunID)
}

// maxOutputBytes bounds what one run may write: a model that never stops costs no memory past it.
const maxOutputBytes = 2 << 20

// errRunGone: the run was cancelled or finished while the job ran.
var errRunGone = errors.New("run is no longer active")

// execute runs one attempt of a run. It is safe to repeat: the model is called only until one
// complete answer is saved, and each step of processing that answer is recorded once done.
func (s *Service) execute(ctx context.Context, runID string) error {
	s.announce(ctx, runID) // if its creator has not yet: live clients see it queued before running
	r, err := s.Store.StartAttempt(ctx, runID, s.now())
	if errors.Is(err, store.ErrFinished) || errors.Is(err, store.ErrNotFound) {
		return nil // cancelled before it started, or finished by an earlier execution
	} else if err != nil {
		return err
	}
	s.Metrics.started(r)
	s.publishRun(ctx, r)
	uctx, err := s.actFor(ctx, r.UserID)
	if err != nil {
		return s.failOrRetry(ctx, r, err)
	}
	if r.Output == "" {
		if r.Attempt > r.MaxAttempts {
			return s.fail(ctx, r, fmt.Sprintf("gave up after %d attempts; the last error: %s", r.MaxAttempts, r.Error))
		}
		// The budget was checked when the run was queued; other runs may have spent it since.
		if err := s.checkMonthlyBudget(ctx, r.UserID); apperr.Code(err) == codes.ResourceExhausted {
			return s.fail(ctx, r, err.Error())
		} else if err != nil {
			return err
		}
		s.startTasks(uctx, r) // tasks.go: the run's tasks are in progress
		text, err := s.callModel(ctx, uctx, r)
		if err != nil {
			return s.failOrRetry(ctx, r, err)
		}
		if err := s.Store.SaveOutput(ctx, r.ID, text); err != nil {
			return err
		}
		r.Output = text
	}
	role, _ := catalog.Get(r.Role)
	out, err := output.Parse(r.Output)
	if err == nil {
		err = out.Check(role.OutputsFor(r.Gate))
	}
	if err != nil {
		return s.fail(ctx, r, "the output does not follow the output contract: "+err.Error())
	}
	if current, err := s.Store.Run(ctx, r.ID); err != nil || !current.Active() {
		return err // cancelled while the model answered: store nothing
	}
	if err := s.process(uctx, r, out); err != nil {
		return s.failOrRetry(ctx, r, err)
	}
	done, err := s.Store.Finish(ctx, r.ID, store.StateSucceeded, "", s.now())
	if errors.Is(err, store.ErrFinished) {
		return nil
	} else if err != nil {
		return err
	}
	s.runEnded(ctx, done)
	return nil
}

// callModel builds the prompt, streams the model's answer (storing and publishing it as it
// comes) and records the tokens it used.
func (s *Service) callModel(ctx, uctx context.Context, r store.Run) (string, error) {
	req, err := s.prompt(uctx, r)
	if err != nil {
		return "", err
	}
	p, err := s.Providers.For(r.Model)
	if err != nil {
		return "", &provider.Error{Provider: "config", Kind: provider.Permanent, Message: err.Error()}
	}
	w := &outputWriter{s: s, run: r}
	resp, err := p.Stream(ctx, req, w.write)
	flushErr := w.flush(ctx)
	cost, priced := s.Prices.Cost(cmp.Or(resp.Model, r.Model), resp.Usage.InputTokens, resp.Usage.OutputTokens)
	if resp.Usage != (provider.Usage{}) || resp.Offline {
		// An offline answer used nothing (the store adds no usage for it) and marks the run.
		u := store.Usage{InputTokens: resp.Usage.InputTokens, OutputTokens: resp.Usage.OutputTokens, CostMicros: cost,
			Unpriced: !priced, Offline: resp.Offline, Model: resp.Model}
		if err := s.Store.AddUsage(context.WithoutCancel(ctx), r.ID, u); err != nil {
			s.Logger.WarnContext(ctx, "cannot record usage", "run_id", r.ID, "error", err.Error())
		}
		s.Metrics.used(r.Role, u)
	}
	if err != nil {
		return "", err
	}
	return w.text.String(), flushErr
}

// failOrRetry ends the attempt after err: a transient failure with attempts left snoozes the
// job with backoff (honouring the provider's Retry-After); anything else fails the run with the
// provider's (or the service's) message.
func (s *Service) failOrRetry(ctx context.Context, r store.Run, err error) error {
	if current, gerr := s.Store.Run(context.WithoutCancel(ctx), r.ID); gerr == nil && !current.Active() {
		return nil // cancelled while it ran: the cancellation stopped it
	}
	if ctx.Err() != nil {
		return ctx.Err() // the worker is stopping: the job is worked again (the attempt counts)
	}
	s.Metrics.failed(r.Role, retryable(err) && r.Attempt < r.MaxAttempts)
	if retryable(err) && r.Attempt < r.MaxAttempts {
		wait := backoff(s.Limits.RetryBase, s.Limits.RetryMax, r.Attempt, provider.RetryAfter(err))
		reason := fmt.Sprintf("attempt %d of %d failed, retrying in %s: %s", r.Attempt, r.MaxAttempts, wait.Round(time.Millisecond), err)
		if err := s.Store.Requeue(ctx, r.ID, reason); err != nil {
			return err
		}
		r.State, r.Error = store.StateQueued, reason
		s.publishRun(ctx, r)
		s.Logger.InfoContext(ctx, "run attempt failed, will retry", "run_id", r.ID, "attempt", r.Attempt, "wait", wait, "error", err.Error())
		return river.JobSnooze(wait)
	}
	return s.fail(ctx, r, err.Error())
}

// retryable reports whether trying again later can help: transient provider failures and
// services that are unavailable for now.
func retryable(err error) bool {
	if provider.IsTransient(err) {
		return true
	}
	var pe *provider.Error
	if errors.As(err, &pe) {
		return false
	}
	switch apperr.Code(err) {
	case codes.Unavailable, codes.Aborted, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Internal, codes.Unknown:
		return true // includes a network error or a failed database call (Internal)
	}
	return false // the other service refused the request itself: it would again
}

// fail ends the run as failed with reason; the job is done (there is nothing to retry).
func (s *Service) fail(ctx context.Context, r store.Run, reason string) error {
	done, err := s.Store.Finish(context.WithoutCancel(ctx), r.ID, store.StateFailed, reason, s.now())
	if errors.Is(err, store.ErrFinished) {
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

func (w *outputWriter) flush(ctx context.Context) error {
	if w.pending.Len() == 0 {
		return nil
	}
	w.seq++
	c := store.Chunk{Attempt: w.run.Attempt, Seq: w.seq, Text: w.pending.String()}
	w.pending.Reset()
	w.last = time.Now()
	if err := w.s.Store.AppendChunks(context.WithoutCancel(ctx), w.run.ID, []store.Chunk{c}); err != nil {
		return err
	}
	w.s.publishChunk(ctx, w.run.ID, c)
	return nil
}
