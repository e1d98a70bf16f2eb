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

// A running run is held by the worker running it through a lease: a token only that execution
// knows, and an expiry the worker pushes forward while it works (RenewLease). Every write of the
// run's work names the lease and changes nothing once another holds the run, so a worker that
// stopped (crashed, or lost the database for longer than the lease) and comes back cannot write
// over the worker that took the run over. A run whose lease expired is handed on by
// RescueExpired, which any worker's rescuer calls.

// Lease is a worker's hold on a running run.
type Lease struct {
	RunID string
	Token string
}

// Errors of leased work.
var (
	// ErrLeaseLost: the run is active but this worker no longer holds it.
	ErrLeaseLost = errors.New("store: the run's lease is held by another worker")
	// ErrLeased: another worker holds a live lease on the run.
	ErrLeased = errors.New("store: another worker holds the run")
	// ErrSuperseded: the job is not the run's current job (the run was rescued into a new one).
	ErrSuperseded = errors.New("store: the job is no longer the run's")
)

// Claim marks an active run running for the execution of its job jobID, under a new lease that
// expires after ttl, and returns it with its output (saved once an answer was complete). It does
// not start a provider attempt (BeginAttempt does). ErrFinished or ErrNotFound when there is no
// work; ErrSuperseded when the job is not the run's current one; ErrLeased when another worker
// holds a live lease.
func (d *DB) Claim(ctx context.Context, runID string, jobID int64, token string, now time.Time, ttl time.Duration) (Run, error) {
	var r Run
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var output string
		var err error
		r, err = scanRun(tx.QueryRowContext(ctx, `UPDATE runs SET state = 'running', lease_token = $3, lease_renewed_at = $4,
			lease_expires_at = $5, started_at = CASE WHEN started_at = 0 THEN $4 ELSE started_at END
			WHERE id = $1 AND state IN ('queued', 'running') AND job_id = $2 AND (lease_token = '' OR lease_expires_at < $4)
			RETURNING `+runColumns+`, output`, runID, jobID, token, micros(now), micros(now.Add(ttl))), &output)
		r.Output = output
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := d.finishedOrMissing(ctx, tx, runID); err != nil {
			return err
		}
		var current int64
		if err := tx.QueryRowContext(ctx, `SELECT job_id FROM runs WHERE id = $1`, runID).Scan(&current); err != nil {
			return err
		}
		if current != jobID {
			return ErrSuperseded
		}
		return ErrLeased
	})
	return r, err
}

// leased runs an update of the run that applies only while l holds it: ErrLeaseLost (or
// ErrFinished, ErrNotFound) when it changed nothing.
func (d *DB) leased(ctx context.Context, l Lease, query string, args ...any) error {
	res, err := d.db.ExecContext(ctx, query, append([]any{l.RunID, l.Token}, args...)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	return ErrLeaseLost
}

// RenewLease pushes the lease's expiry to now+ttl; ErrLeaseLost if the worker no longer holds it.
func (d *DB) RenewLease(ctx context.Context, l Lease, now time.Time, ttl time.Duration) error {
	return d.leased(ctx, l, `UPDATE runs SET lease_renewed_at = $3, lease_expires_at = $4
		WHERE id = $1 AND lease_token = $2 AND state = 'running'`, micros(now), micros(now.Add(ttl)))
}

// ReleaseLease gives the run up: a run left running goes back to queued (its job is worked
// again, or was snoozed). Releasing a lease no longer held changes nothing.
func (d *DB) ReleaseLease(ctx context.Context, l Lease) error {
	_, err := d.db.ExecContext(ctx, `UPDATE runs SET lease_token = '', lease_expires_at = 0,
		state = CASE WHEN state = 'running' THEN 'queued' ELSE state END
		WHERE id = $1 AND lease_token = $2`, l.RunID, l.Token)
	return err
}

// BeginAttempt starts the run's next provider attempt: the attempt count goes up, the streamed
// output of earlier attempts is dropped, and the run is no longer waiting (its note is cleared).
// It returns the attempt's number.
func (d *DB) BeginAttempt(ctx context.Context, l Lease) (int, error) {
	attempt := 0
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE runs SET attempt = attempt + 1, waiting_since = 0, error = ''
			WHERE id = $1 AND lease_token = $2 AND state = 'running' RETURNING attempt`, l.RunID, l.Token).Scan(&attempt)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrLeaseLost
		} else if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM run_chunks WHERE run_id = $1 AND attempt < $2`, l.RunID, attempt)
		return err
	})
	return attempt, err
}

// Requeue returns a running run to queued while its job waits to be tried again, noting why,
// and releases the lease. waitingSince is when the run began waiting for one of FuzzyLlama's
// services (zero when it waits for its provider instead).
func (d *DB) Requeue(ctx context.Context, l Lease, reason string, waitingSince time.Time) error {
	return d.leased(ctx, l, `UPDATE runs SET state = 'queued', error = $3, waiting_since = $4, lease_token = '', lease_expires_at = 0
		WHERE id = $1 AND lease_token = $2 AND state = 'running'`, reason, micros(waitingSince))
}

// SaveOutput stores the run's full output.
func (d *DB) SaveOutput(ctx context.Context, l Lease, output string) error {
	return d.leased(ctx, l, `UPDATE runs SET output = $3, waiting_since = 0 WHERE id = $1 AND lease_token = $2`, output)
}

// SaveResult records the progress of a run's output processing.
func (d *DB) SaveResult(ctx context.Context, l Lease, res Result) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return d.leased(ctx, l, `UPDATE runs SET result = $3, waiting_since = 0 WHERE id = $1 AND lease_token = $2`, string(b))
}

// AppendChunks stores output of the run's attempt.
func (d *DB) AppendChunks(ctx context.Context, l Lease, chunks []Chunk) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var held bool
		if err := tx.QueryRowContext(ctx, `SELECT lease_token = $2 FROM runs WHERE id = $1`, l.RunID, l.Token).Scan(&held); err != nil {
			return err
		} else if !held {
			return ErrLeaseLost
		}
		for _, c := range chunks {
			if _, err := tx.ExecContext(ctx, `INSERT INTO run_chunks (run_id, attempt, seq, text) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, l.RunID, c.Attempt, c.Seq, c.Text); err != nil {
				return err
			}
		}
		return nil
	})
}

// Rescued is a run handed on after its worker stopped renewing its lease.
type Rescued struct {
	Run
	// Silent is how long its worker had been silent: since the last renewal of its lease.
	Silent time.Duration
	// CutOff: its lease ran out during an outage of the database (Outage), so its worker was
	// cut off rather than stopped; the rescue was not counted.
	CutOff bool
}

// Outage is a span of time during which the database could not be reached, as the caller saw
// it (the zero value: none).
type Outage struct{ From, To time.Time }

// RescueExpired hands on the running runs whose lease expired before now: each goes back to
// queued with a new job (the dead worker's job stays with River until its rescuer cleans it up,
// and then finds itself superseded), its rescue counted, except for a run whose lease expired
// during cutOff: its worker could not renew it because the database was out (for everyone: the
// caller could not reach it either), so nothing shows that the run stops its workers, and
// counting it would fail runs for outages (maxRescues). It returns them; several rescuers
// calling it at once hand each run on once.
func (d *DB) RescueExpired(ctx context.Context, now time.Time, cutOff Outage) ([]Rescued, error) {
	var out []Rescued
	from, to := micros(cutOff.From), micros(cutOff.To)
	if cutOff.From.IsZero() {
		from, to = 1, 0 // no outage: an empty span
	}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		// SET reads the row as it was: lease_expires_at is the expiry before it is cleared.
		rows, err := tx.QueryContext(ctx, `UPDATE runs SET state = 'queued', lease_token = '', lease_expires_at = 0,
			rescues = rescues + CASE WHEN lease_expires_at >= $2 AND lease_expires_at <= $3 THEN 0 ELSE 1 END,
			rescued_at = CASE WHEN lease_expires_at >= $2 AND lease_expires_at <= $3 THEN rescued_at ELSE $1 END,
			error = CASE WHEN lease_expires_at >= $2 AND lease_expires_at <= $3
				THEN 'resumed: an outage of the agents database cut off the worker running it'
				ELSE 'resumed by another worker: the one running it stopped' END
			WHERE state = 'running' AND lease_token <> '' AND lease_expires_at < $1
			RETURNING `+runColumns+`, lease_renewed_at`, micros(now), from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var renewed int64
			r, err := scanRun(rows, &renewed)
			if err != nil {
				return err
			}
			out = append(out, Rescued{Run: r, Silent: now.Sub(fromMicros(renewed)), CutOff: micros(r.RescuedAt) != micros(now)})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for i, r := range out {
			job, err := d.queue.InsertTx(ctx, tx, RunJob{RunID: r.ID}, &river.InsertOpts{Priority: r.Priority})
			if err != nil {
				return fmt.Errorf("enqueue rescued run: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET job_id = $1 WHERE id = $2`, job.Job.ID, r.ID); err != nil {
				return err
			}
			out[i].JobID = job.Job.ID
		}
		return nil
	})
	return out, err
}
