package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

const totalsColumns = `COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cost_micros), 0),
	COUNT(*), COALESCE(SUM(CASE WHEN unpriced THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN offline THEN 1 ELSE 0 END), 0)`

func scanTotals(row scanner, extra ...any) (Totals, error) {
	var t Totals
	err := row.Scan(append([]any{&t.InputTokens, &t.OutputTokens, &t.CostMicros, &t.Runs, &t.Unpriced, &t.Offline}, extra...)...)
	return t, err
}

// UserTotals sums the runs a user started (or that work for them) since the given time.
func (d *DB) UserTotals(ctx context.Context, userID string, since time.Time) (Totals, error) {
	return scanTotals(d.db.QueryRowContext(ctx, `SELECT `+totalsColumns+` FROM runs WHERE user_id = $1 AND created_at >= $2`,
		userID, micros(since)))
}

// GateTotals sums a gate's runs, and counts them per role.
func (d *DB) GateTotals(ctx context.Context, projectID string, gate int) (Totals, map[string]int, error) {
	t, err := scanTotals(d.db.QueryRowContext(ctx, `SELECT `+totalsColumns+` FROM runs WHERE project_id = $1 AND gate = $2`, projectID, gate))
	if err != nil {
		return t, nil, err
	}
	rows, err := d.db.QueryContext(ctx, `SELECT role, COUNT(*) FROM runs WHERE project_id = $1 AND gate = $2 GROUP BY role`, projectID, gate)
	if err != nil {
		return t, nil, err
	}
	defer rows.Close()
	perRole := map[string]int{}
	for rows.Next() {
		var role string
		var n int
		if err := rows.Scan(&role, &n); err != nil {
			return t, nil, err
		}
		perRole[role] = n
	}
	return t, perRole, rows.Err()
}

// ProjectTotals are a project's usage, in all and per gate, role and model.
type ProjectTotals struct {
	Total   Totals
	ByGate  []GroupTotals
	ByRole  []GroupTotals
	ByModel []GroupTotals
}

// ProjectTotals sums a project's runs, in all and per gate, per role and per model (each group
// in the order of its key).
func (d *DB) ProjectTotals(ctx context.Context, projectID string) (ProjectTotals, error) {
	var out ProjectTotals
	var err error
	out.Total, err = scanTotals(d.db.QueryRowContext(ctx, `SELECT `+totalsColumns+` FROM runs WHERE project_id = $1`, projectID))
	if err != nil {
		return out, err
	}
	group := func(column string) ([]GroupTotals, error) {
		rows, err := d.db.QueryContext(ctx, `SELECT `+totalsColumns+`, `+column+` FROM runs WHERE project_id = $1
			GROUP BY `+column+` ORDER BY `+column, projectID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var groups []GroupTotals
		for rows.Next() {
			var g GroupTotals
			var key any
			switch column {
			case "gate":
				key = &g.Gate
			case "role":
				key = &g.Role
			default:
				key = &g.Model
			}
			if g.Totals, err = scanTotals(rows, key); err != nil {
				return nil, err
			}
			groups = append(groups, g)
		}
		return groups, rows.Err()
	}
	if out.ByGate, err = group("gate"); err != nil {
		return out, err
	}
	if out.ByRole, err = group("role"); err != nil {
		return out, err
	}
	out.ByModel, err = group("model")
	return out, err
}

// PutWork records that the orchestration moves the project for w.UserID: the user who last
// started the work, even if it had ended (it resumes).
func (d *DB) PutWork(ctx context.Context, w Work) (Work, error) {
	if _, err := d.db.ExecContext(ctx, `INSERT INTO project_work (project_id, user_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (project_id) DO UPDATE SET user_id = $2, completed_at = 0`, w.ProjectID, w.UserID, micros(w.CreatedAt)); err != nil {
		return w, err
	}
	return d.Work(ctx, w.ProjectID)
}

// LeaseWork takes the project for one reconcile until the given time, unless another holds it;
// it reports whether it did. A lease is released by ReleaseWork, or lapses (its holder died).
func (d *DB) LeaseWork(ctx context.Context, projectID string, now, until time.Time) (bool, error) {
	res, err := d.db.ExecContext(ctx, `UPDATE project_work SET lease_until = $3 WHERE project_id = $1 AND lease_until < $2`,
		projectID, micros(now), micros(until))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseWork ends the lease LeaseWork gave until the given time, if it still holds: a holder
// whose lease lapsed must not free the next holder's.
func (d *DB) ReleaseWork(ctx context.Context, projectID string, until time.Time) error {
	_, err := d.db.ExecContext(ctx, `UPDATE project_work SET lease_until = 0 WHERE project_id = $1 AND lease_until = $2`,
		projectID, micros(until))
	return err
}

// Work returns the orchestration record of a project; ErrNotFound if its work never started.
func (d *DB) Work(ctx context.Context, projectID string) (Work, error) {
	w := Work{ProjectID: projectID}
	var created, completed int64
	err := d.db.QueryRowContext(ctx, `SELECT user_id, created_at, completed_at FROM project_work WHERE project_id = $1`, projectID).
		Scan(&w.UserID, &created, &completed)
	if errors.Is(err, sql.ErrNoRows) {
		return w, ErrNotFound
	}
	w.CreatedAt, w.CompletedAt = fromMicros(created), fromMicros(completed)
	return w, err
}

// ActiveWork lists the projects in progress (not completed), at most limit, after the project id
// given (for paging through them).
func (d *DB) ActiveWork(ctx context.Context, after string, limit int) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT project_id FROM project_work WHERE completed_at = 0 AND project_id > $1
		ORDER BY project_id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// CompleteWork marks the project's work done: the orchestration leaves it alone from then on.
func (d *DB) CompleteWork(ctx context.Context, projectID string, at time.Time) error {
	_, err := d.db.ExecContext(ctx, `UPDATE project_work SET completed_at = $2 WHERE project_id = $1 AND completed_at = 0`,
		projectID, micros(at))
	return err
}

// Allowance returns what the gate had when it was last seen blocked (zero if never).
func (d *DB) Allowance(ctx context.Context, projectID string, gate int) (Allowance, error) {
	a := Allowance{ProjectID: projectID, Gate: gate, RoleRuns: map[string]int{}}
	var roleRuns string
	var acknowledged int64
	err := d.db.QueryRowContext(ctx, `SELECT tokens_spent, cost_spent, role_runs, acknowledged_at FROM gate_allowances
		WHERE project_id = $1 AND gate = $2`, projectID, gate).Scan(&a.TokensSpent, &a.CostSpent, &roleRuns, &acknowledged)
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil
	} else if err != nil {
		return a, err
	}
	a.AcknowledgedAt = fromMicros(acknowledged)
	return a, json.Unmarshal([]byte(roleRuns), &a.RoleRuns)
}

// PutAllowance records what the gate has as it is seen blocked.
func (d *DB) PutAllowance(ctx context.Context, a Allowance) error {
	roleRuns, err := json.Marshal(a.RoleRuns)
	if err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO gate_allowances (project_id, gate, tokens_spent, cost_spent, role_runs, acknowledged_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, gate) DO UPDATE
		SET tokens_spent = $3, cost_spent = $4, role_runs = $5, acknowledged_at = $6`,
		a.ProjectID, a.Gate, a.TokensSpent, a.CostSpent, string(roleRuns), micros(a.AcknowledgedAt))
	return err
}

// ActiveRuns counts the runs queued and running (the queue's depth).
func (d *DB) ActiveRuns(ctx context.Context) (map[string]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM runs WHERE state IN ('queued', 'running') GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}
