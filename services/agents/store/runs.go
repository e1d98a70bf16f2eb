package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// runColumns are the columns scanRun reads, without the output.
const runColumns = `id, project_id, gate, role, revision, state, priority, instructions, feedback, user_id, automatic,
	model, attempt, max_attempts, input_tokens, output_tokens, cost_micros, unpriced, offline, error, result, job_id,
	created_at, started_at, ended_at, waiting_since, rescues, rescued_at`

type scanner interface{ Scan(dest ...any) error }

func scanRun(row scanner, extra ...any) (Run, error) {
	var r Run
	var result string
	var created, started, ended, waiting, rescued int64
	dest := append([]any{&r.ID, &r.ProjectID, &r.Gate, &r.Role, &r.Revision, &r.State, &r.Priority, &r.Instructions,
		&r.Feedback, &r.UserID, &r.Automatic, &r.Model, &r.Attempt, &r.MaxAttempts, &r.InputTokens, &r.OutputTokens,
		&r.CostMicros, &r.Unpriced, &r.Offline, &r.Error, &result, &r.JobID, &created, &started, &ended,
		&waiting, &r.Rescues, &rescued}, extra...)
	if err := row.Scan(dest...); errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	} else if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(result), &r.Result); err != nil {
		return r, fmt.Errorf("run %s: result: %w", r.ID, err)
	}
	r.CreatedAt, r.StartedAt, r.EndedAt = fromMicros(created), fromMicros(started), fromMicros(ended)
	r.WaitingSince, r.RescuedAt = fromMicros(waiting), fromMicros(rescued)
	return r, nil
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// CreateRun inserts r as queued and enqueues its job, in one transaction. If a run of the same
// (project, gate, role) is active, it returns that one and created=false. An automatic run (the
// orchestration's) is also not created when its role already succeeded at that revision of the
// gate: two reconciles racing cannot run a role twice.
func (d *DB) CreateRun(ctx context.Context, r Run) (Run, bool, error) {
	for range 4 {
		got, created, err := d.createRun(ctx, r)
		// The run it conflicted with ended between the insert and the read: try again.
		if !errors.Is(err, ErrNotFound) {
			return got, created, err
		}
	}
	return Run{}, false, fmt.Errorf("create run: the active run of %s at G%d kept changing", r.Role, r.Gate)
}

func (d *DB) createRun(ctx context.Context, r Run) (Run, bool, error) {
	created := false
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (id, project_id, gate, role, revision, state, priority, instructions,
			feedback, user_id, automatic, model, max_attempts, created_at)
			SELECT $1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $10, $11, $12, $13
			WHERE NOT $10 OR NOT EXISTS (SELECT 1 FROM runs WHERE project_id = $2 AND gate = $3 AND role = $4 AND revision = $5
				AND state = 'succeeded')
			ON CONFLICT (project_id, gate, role) WHERE state IN ('queued', 'running') DO NOTHING`,
			r.ID, r.ProjectID, r.Gate, r.Role, r.Revision, r.Priority, r.Instructions, r.Feedback, r.UserID, r.Automatic,
			r.Model, r.MaxAttempts, micros(r.CreatedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			r, err = scanRun(tx.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs
				WHERE project_id = $1 AND gate = $2 AND role = $3 AND (state IN ('queued', 'running') OR revision = $4 AND state = 'succeeded')
				ORDER BY created_at DESC LIMIT 1`, r.ProjectID, r.Gate, r.Role, r.Revision))
			return err
		}
		job, err := d.queue.InsertTx(ctx, tx, RunJob{RunID: r.ID}, &river.InsertOpts{Priority: r.Priority})
		if err != nil {
			return fmt.Errorf("enqueue run: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET job_id = $1 WHERE id = $2`, job.Job.ID, r.ID); err != nil {
			return err
		}
		r.State, r.JobID, created = StateQueued, job.Job.ID, true
		return nil
	})
	return r, created, err
}

// AnnounceQueued calls fn with the run once, while the run is queued for its first attempt:
// holding the run (a row lock on PostgreSQL, the write lock on SQLite) until fn returns, so that
// no worker starts it meanwhile, and recording that it was announced. The one that creates the
// run calls it after the commit, and the worker before it starts the run, whichever comes
// first: what fn publishes about the queued run comes exactly once, and before anything a worker
// publishes about it running. It reports whether fn was called. fn must not use the store.
func (d *DB) AnnounceQueued(ctx context.Context, id string, fn func(Run)) (bool, error) {
	called := false
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		r, err := scanRun(tx.QueryRowContext(ctx, `UPDATE runs SET queued_published = TRUE
			WHERE id = $1 AND state = 'queued' AND attempt = 0 AND NOT queued_published RETURNING `+runColumns, id))
		if errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		fn(r)
		called = true
		return nil
	})
	return called, err
}

// Run returns a run with its output.
func (d *DB) Run(ctx context.Context, id string) (Run, error) {
	var output string
	r, err := scanRun(d.db.QueryRowContext(ctx, `SELECT `+runColumns+`, output FROM runs WHERE id = $1`, id), &output)
	r.Output = output
	return r, err
}

// RunPage selects a page of a project's runs, newest first.
type RunPage struct {
	Gate int // 0: every gate
	// ChangedSince, when set, keeps the runs that may have changed since then: those not
	// finished, and those that finished at or after it.
	ChangedSince time.Time
	// After the run with this creation time and id (the last of the previous page).
	BeforeCreated time.Time
	BeforeID      string
	Limit         int
}

// Runs lists a project's runs, without output, newest first.
func (d *DB) Runs(ctx context.Context, projectID string, p RunPage) ([]Run, error) {
	before := int64(1<<63 - 1)
	if !p.BeforeCreated.IsZero() {
		before = micros(p.BeforeCreated)
	}
	// ended_at is 0 until the run finishes; without ChangedSince, $6 is 0 and keeps every run.
	return d.runs(ctx, `SELECT `+runColumns+` FROM runs WHERE project_id = $1 AND ($2 = 0 OR gate = $2)
		AND (ended_at = 0 OR ended_at >= $6)
		AND (created_at < $3 OR (created_at = $3 AND id < $4)) ORDER BY created_at DESC, id DESC LIMIT $5`,
		projectID, p.Gate, before, p.BeforeID, p.Limit, micros(p.ChangedSince))
}

// GateRuns lists the runs of one revision of a gate, oldest first.
func (d *DB) GateRuns(ctx context.Context, projectID string, gate, revision int) ([]Run, error) {
	return d.runs(ctx, `SELECT `+runColumns+` FROM runs WHERE project_id = $1 AND gate = $2 AND revision = $3
		ORDER BY created_at, id`, projectID, gate, revision)
}

func (d *DB) runs(ctx context.Context, query string, args ...any) ([]Run, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// finishedOrMissing explains why an update of an active run changed nothing: ErrNotFound,
// ErrFinished, or nil when the run is still active (the caller's other conditions failed).
func (d *DB) finishedOrMissing(ctx context.Context, tx *sql.Tx, id string) error {
	var state string
	if err := tx.QueryRowContext(ctx, `SELECT state FROM runs WHERE id = $1`, id).Scan(&state); errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	if state == StateQueued || state == StateRunning {
		return nil
	}
	return ErrFinished
}

// Chunks returns the stored output of an attempt after seq, in order.
func (d *DB) Chunks(ctx context.Context, runID string, attempt int, after int64) ([]Chunk, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT attempt, seq, text FROM run_chunks WHERE run_id = $1 AND attempt = $2 AND seq > $3
		ORDER BY seq`, runID, attempt, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Chunk
	for rows.Next() {
		var c Chunk
		if err := rows.Scan(&c.Attempt, &c.Seq, &c.Text); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Usage is what one attempt consumed.
type Usage struct {
	InputTokens, OutputTokens, CostMicros int64
	Unpriced                              bool
	// Offline: the offline provider answered; no model ran, so no tokens or cost are added
	// (whatever the counts say) and the run is marked offline.
	Offline bool
	Model   string
	// Key, when set, makes the addition idempotent: usage added under the key the run last
	// recorded adds nothing (a write repeated after its answer was lost). The worker uses its
	// attempt's: lease token and attempt number.
	Key string
}

// Bounds of one attempt's usage: a provider's counts are its claim, and a broken or hostile
// server must not make a total negative or overflow it (no call takes a billion tokens or costs
// a billion dollars).
const (
	maxTokensPerAttempt = 1 << 30
	maxCostPerAttempt   = 1_000_000_000 * 1_000_000 // micro-dollars
)

// AddUsage adds an attempt's usage to the run, whatever its state: tokens were spent. An
// offline attempt adds nothing and marks the run offline. Usage under the key last recorded
// (Usage.Key) is not added again.
func (d *DB) AddUsage(ctx context.Context, id string, u Usage) error {
	u.InputTokens = min(max(u.InputTokens, 0), maxTokensPerAttempt)
	u.OutputTokens = min(max(u.OutputTokens, 0), maxTokensPerAttempt)
	u.CostMicros = min(max(u.CostMicros, 0), maxCostPerAttempt)
	if u.Offline {
		u.InputTokens, u.OutputTokens, u.CostMicros, u.Unpriced = 0, 0, 0, false
	}
	_, err := d.db.ExecContext(ctx, `UPDATE runs SET input_tokens = input_tokens + $2, output_tokens = output_tokens + $3,
		cost_micros = cost_micros + $4, unpriced = (unpriced OR $5), offline = (offline OR $7),
		model = CASE WHEN $6 = '' THEN model ELSE $6 END, usage_key = $8
		WHERE id = $1 AND ($8 = '' OR usage_key <> $8)`, id, u.InputTokens, u.OutputTokens, u.CostMicros, u.Unpriced, u.Model, u.Offline, u.Key)
	return err
}

// Finish ends an active run in state (succeeded, failed or cancelled) with the error, if any,
// drops its streamed chunks (the output holds them all), and enqueues a reconcile of its project
// in the same transaction, so the orchestration hears of it even if this process dies next.
// ErrFinished if the run had already ended. A person cancelling, or the sweep, finishes a run
// whoever works it; a worker finishes it with FinishLeased.
func (d *DB) Finish(ctx context.Context, id, state, reason string, now time.Time) (Run, error) {
	return d.finish(ctx, Lease{RunID: id}, state, reason, now)
}

// FinishLeased is Finish by the worker holding the lease; ErrLeaseLost if it no longer does.
func (d *DB) FinishLeased(ctx context.Context, l Lease, state, reason string, now time.Time) (Run, error) {
	return d.finish(ctx, l, state, reason, now)
}

func (d *DB) finish(ctx context.Context, l Lease, state, reason string, now time.Time) (Run, error) {
	var r Run
	id := l.RunID
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = scanRun(tx.QueryRowContext(ctx, `UPDATE runs SET state = $2, error = $3, ended_at = $4, lease_token = '',
			lease_expires_at = 0, waiting_since = 0
			WHERE id = $1 AND state IN ('queued', 'running') AND ($5 = '' OR lease_token = $5) RETURNING `+runColumns,
			id, state, reason, micros(now), l.Token))
		if errors.Is(err, ErrNotFound) {
			if err := d.finishedOrMissing(ctx, tx, id); err != nil {
				return err
			}
			return ErrLeaseLost
		} else if err != nil {
			return err
		}
		if state == StateCancelled && r.JobID != 0 {
			// Stops a queued job from starting, and tells a running one to stop.
			if _, err := d.queue.JobCancelTx(ctx, tx, r.JobID); err != nil && !errors.Is(err, river.ErrNotFound) {
				return fmt.Errorf("cancel job: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM run_chunks WHERE run_id = $1`, id); err != nil {
			return err
		}
		_, err = d.queue.InsertTx(ctx, tx, ReconcileJob{ProjectID: r.ProjectID}, &river.InsertOpts{Priority: 1})
		return err
	})
	return r, err
}

// EnqueueReconcile asks for a reconcile of the project.
func (d *DB) EnqueueReconcile(ctx context.Context, projectID string) error {
	_, err := d.queue.Insert(ctx, ReconcileJob{ProjectID: projectID}, &river.InsertOpts{Priority: 1})
	return err
}

// FailOrphans fails the active runs whose job the queue no longer holds live: discarded after
// too many crashes of its worker, cancelled or completed without the run ending, or cleaned
// away. It returns them, so that nothing stays queued or running for ever.
func (d *DB) FailOrphans(ctx context.Context, now time.Time) ([]Run, error) {
	var out []Run
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE runs SET state = 'failed', ended_at = $1,
			error = 'the job queue gave up on this run (its worker kept failing); start it again'
			WHERE state IN ('queued', 'running') AND job_id <> 0 AND NOT EXISTS (
				SELECT 1 FROM river_job j WHERE j.id = runs.job_id AND j.state IN ('available', 'pending', 'retryable', 'running', 'scheduled'))
			RETURNING `+runColumns, micros(now))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRun(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range out {
			if _, err := d.queue.InsertTx(ctx, tx, ReconcileJob{ProjectID: r.ProjectID}, &river.InsertOpts{Priority: 1}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
