// Package postgres is the PostgreSQL implementation of store.Store (pgx/v5), used in production.
// Its tables live in the "projects" schema of the shared database.
//
// Beyond the contract of store.Queries:
//   - A row naming a project, gate or task that does not exist is ErrNotFound: deliverables,
//     proofs and reviews reference their gate, everything else its project.
//   - Tasks created at the same time (one CreateTasks) are listed in the order given.
//   - Inside InTx, a failed query aborts the transaction, as always in PostgreSQL: fn must return
//     the error (committing is then impossible anyway).
//   - AppendEvents holds a lock on each of its projects' timelines until its transaction ends, so
//     a project's events commit in id order and a reader paging with Events(after) skips none.
//     In a transaction, append events last.
//   - AddNotifications likewise holds a lock on each recipient's notifications until its
//     transaction ends, so a user's notifications commit in id order too.
package postgres

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
)

// Schema is the PostgreSQL schema the projects service owns.
const Schema = "projects"

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a store.Store backed by a pgx pool. Its Queries run on the pool, each on its own.
type Store struct {
	queries
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url, creates the projects schema if needed and applies
// pending migrations.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := database.OpenPostgresMigrated(ctx, url, Schema, migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return newStore(pool), nil
}

// New applies pending migrations in the current schema of pool (the first entry of its
// search_path) and returns a Store on it, which then owns pool: Close closes it. New is for a
// pool configured otherwise than by Open (a tracer, in tests).
func New(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	if err := database.MigratePostgresDir(ctx, pool, migrationFiles, "migrations"); err != nil {
		return nil, err
	}
	return newStore(pool), nil
}

func newStore(pool *pgxpool.Pool) *Store { return &Store{queries: queries{db: pool}, pool: pool} }

// InTx implements store.Store.
func (s *Store) InTx(ctx context.Context, fn func(q store.Queries) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(&queries{db: tx, inTx: true})
	})
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close implements store.Store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// dbtx is what queries run on: *pgxpool.Pool or pgx.Tx.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queries implements store.Queries on the pool or, in InTx, on a transaction.
type queries struct {
	db   dbtx
	inTx bool
}

// ts is how a time is stored: UTC, at the microsecond precision of TIMESTAMPTZ. Times read back
// go through it too, since pgx returns them in the local zone.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// --- Projects

// CreateProject implements store.Queries.
func (q *queries) CreateProject(ctx context.Context, p store.Project) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO projects (id, name, description, type, repository_url, owner_id, status, current_gate, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		p.ID, p.Name, p.Description, p.Type, p.RepositoryURL, p.OwnerID, p.Status, p.CurrentGate,
		ts(p.CreatedAt), ts(p.UpdatedAt))
	return check("create project", err)
}

const selectProjectWithRole = `SELECT p.id, p.name, p.description, p.type, p.repository_url, p.owner_id,
	p.status, p.current_gate, p.created_at, p.updated_at, m.role
	FROM members m JOIN projects p ON p.id = m.project_id `

func scanProjectWithRole(r pgx.Row) (store.ProjectWithRole, error) {
	var p store.ProjectWithRole
	err := r.Scan(&p.ID, &p.Name, &p.Description, &p.Type, &p.RepositoryURL, &p.OwnerID,
		&p.Status, &p.CurrentGate, &p.CreatedAt, &p.UpdatedAt, &p.Role)
	p.CreatedAt, p.UpdatedAt = ts(p.CreatedAt), ts(p.UpdatedAt)
	return p, err
}

// ProjectForMember implements store.Queries.
func (q *queries) ProjectForMember(ctx context.Context, projectID, userID string) (store.ProjectWithRole, error) {
	query := selectProjectWithRole + `WHERE m.project_id = $1 AND m.user_id = $2`
	if q.inTx {
		// Every change of a project runs in a transaction that starts here: locking the project
		// row serialises them (no lost update of the project), and sharing the caller's
		// membership row makes a removal or demotion wait for the caller's change in flight.
		query += ` FOR NO KEY UPDATE OF p FOR SHARE OF m`
	}
	p, err := scanProjectWithRole(q.db.QueryRow(ctx, query, projectID, userID))
	if err != nil {
		return store.ProjectWithRole{}, check("project for member", err)
	}
	return p, nil
}

// UpdateProject implements store.Queries.
func (q *queries) UpdateProject(ctx context.Context, p store.Project) error {
	tag, err := q.db.Exec(ctx,
		`UPDATE projects SET name = $2, description = $3, repository_url = $4, status = $5, current_gate = $6, updated_at = $7
		 WHERE id = $1`,
		p.ID, p.Name, p.Description, p.RepositoryURL, p.Status, p.CurrentGate, ts(p.UpdatedAt))
	return affected("update project", tag, err)
}

// DeleteProject implements store.Queries. The foreign keys cascade to everything the project owns.
func (q *queries) DeleteProject(ctx context.Context, id string) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM projects WHERE id = $1`, id)
	return affected("delete project", tag, err)
}

// ProjectsForMember implements store.Queries.
func (q *queries) ProjectsForMember(ctx context.Context, userID string, after *store.ProjectCursor, limit int) ([]store.ProjectWithRole, error) {
	if limit <= 0 {
		return nil, nil
	}
	query, args := selectProjectWithRole+`WHERE m.user_id = $1 `, []any{userID, limit}
	if after != nil {
		// A row comparison, which a scan of projects_created_at_id_idx can start from.
		query += `AND (p.created_at, p.id) < ($3, $4) `
		args = append(args, ts(after.CreatedAt), after.ID)
	}
	rows, err := q.db.Query(ctx, query+`ORDER BY p.created_at DESC, p.id DESC LIMIT $2`, args...)
	projects, err := collect(rows, err, scanProjectWithRole)
	return projects, check("projects for member", err)
}

// --- Members

// AddMember implements store.Queries.
func (q *queries) AddMember(ctx context.Context, m store.Member) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO members (project_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)`,
		m.ProjectID, m.UserID, m.Role, ts(m.CreatedAt))
	return check("add member", err)
}

// SetMemberRole implements store.Queries.
func (q *queries) SetMemberRole(ctx context.Context, projectID, userID, role string) error {
	tag, err := q.db.Exec(ctx,
		`UPDATE members SET role = $3 WHERE project_id = $1 AND user_id = $2`, projectID, userID, role)
	return affected("set member role", tag, err)
}

// RemoveMember implements store.Queries.
func (q *queries) RemoveMember(ctx context.Context, projectID, userID string) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM members WHERE project_id = $1 AND user_id = $2`, projectID, userID)
	return affected("remove member", tag, err)
}

// Members implements store.Queries.
func (q *queries) Members(ctx context.Context, projectID string) ([]store.Member, error) {
	rows, err := q.db.Query(ctx,
		`SELECT project_id, user_id, role, created_at FROM members WHERE project_id = $1 ORDER BY created_at, user_id`,
		projectID)
	members, err := collect(rows, err, func(r pgx.Row) (store.Member, error) {
		var m store.Member
		err := r.Scan(&m.ProjectID, &m.UserID, &m.Role, &m.CreatedAt)
		m.CreatedAt = ts(m.CreatedAt)
		return m, err
	})
	return members, check("members", err)
}

// --- Gates

// CreateGate implements store.Queries.
func (q *queries) CreateGate(ctx context.Context, g store.Gate) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO gates (project_id, number, state, blocked_reason, blocked_from, revision, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		g.ProjectID, g.Number, g.State, g.BlockedReason, g.BlockedFrom, g.Revision, ts(g.CreatedAt), ts(g.UpdatedAt))
	return check("create gate", err)
}

const selectGate = `SELECT project_id, number, state, blocked_reason, blocked_from, revision, created_at, updated_at
	FROM gates `

func scanGate(r pgx.Row) (store.Gate, error) {
	var g store.Gate
	err := r.Scan(&g.ProjectID, &g.Number, &g.State, &g.BlockedReason, &g.BlockedFrom, &g.Revision, &g.CreatedAt, &g.UpdatedAt)
	g.CreatedAt, g.UpdatedAt = ts(g.CreatedAt), ts(g.UpdatedAt)
	return g, err
}

// Gate implements store.Queries.
func (q *queries) Gate(ctx context.Context, projectID string, number int) (store.Gate, error) {
	query := selectGate + `WHERE project_id = $1 AND number = $2`
	if q.inTx {
		// Locks the row until the transaction ends: a concurrent transition waits here, then reads
		// this one's outcome. NO KEY UPDATE is the lock UPDATE gates itself takes; unlike FOR
		// UPDATE it lets proofs and deliverables referencing the gate be inserted meanwhile.
		query += ` FOR NO KEY UPDATE`
	}
	g, err := scanGate(q.db.QueryRow(ctx, query, projectID, number))
	if err != nil {
		return store.Gate{}, check("gate", err)
	}
	return g, nil
}

// Gates implements store.Queries.
func (q *queries) Gates(ctx context.Context, projectID string) ([]store.Gate, error) {
	rows, err := q.db.Query(ctx, selectGate+`WHERE project_id = $1 ORDER BY number`, projectID)
	gates, err := collect(rows, err, scanGate)
	return gates, check("gates", err)
}

// UpdateGate implements store.Queries.
func (q *queries) UpdateGate(ctx context.Context, g store.Gate, fromState string) error {
	tag, err := q.db.Exec(ctx,
		`UPDATE gates SET state = $4, blocked_reason = $5, blocked_from = $6, revision = $7, updated_at = $8
		 WHERE project_id = $1 AND number = $2 AND state = $3`,
		g.ProjectID, g.Number, fromState, g.State, g.BlockedReason, g.BlockedFrom, g.Revision, ts(g.UpdatedAt))
	if err != nil {
		return check("update gate", err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	// Nothing matched: a lost race, or no such gate.
	var exists bool
	if err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM gates WHERE project_id = $1 AND number = $2)`,
		g.ProjectID, g.Number).Scan(&exists); err != nil {
		return check("update gate", err)
	}
	if exists {
		return store.ErrConflict
	}
	return store.ErrNotFound
}

// PutDeliverable implements store.Queries.
func (q *queries) PutDeliverable(ctx context.Context, d store.Deliverable) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO deliverables (project_id, gate, document_type, document_id, version, content_hash, complete, recorded_by, updated_at, revision)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		 ON CONFLICT (project_id, gate, document_id) DO UPDATE SET
		   document_type = excluded.document_type, version = excluded.version, content_hash = excluded.content_hash,
		   complete = excluded.complete, recorded_by = excluded.recorded_by, updated_at = excluded.updated_at,
		   revision = excluded.revision`,
		d.ProjectID, d.Gate, d.DocumentType, d.DocumentID, d.Version, d.ContentHash, d.Complete, d.RecordedBy, ts(d.UpdatedAt), d.Revision)
	return check("put deliverable", err)
}

// Deliverables implements store.Queries.
func (q *queries) Deliverables(ctx context.Context, projectID string, gate int) ([]store.Deliverable, error) {
	rows, err := q.db.Query(ctx,
		`SELECT project_id, gate, document_type, document_id, version, content_hash, complete, recorded_by, updated_at, revision
		 FROM deliverables WHERE project_id = $1 AND gate = $2 ORDER BY document_type, document_id`, projectID, gate)
	deliverables, err := collect(rows, err, func(r pgx.Row) (store.Deliverable, error) {
		var d store.Deliverable
		err := r.Scan(&d.ProjectID, &d.Gate, &d.DocumentType, &d.DocumentID, &d.Version, &d.ContentHash,
			&d.Complete, &d.RecordedBy, &d.UpdatedAt, &d.Revision)
		d.UpdatedAt = ts(d.UpdatedAt)
		return d, err
	})
	return deliverables, check("deliverables", err)
}

// AddProof implements store.Queries.
func (q *queries) AddProof(ctx context.Context, p store.Proof) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO proofs (id, project_id, gate, type, result, summary, produced_by, attested, created_at, revision, deliverables_hash, run)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		p.ID, p.ProjectID, p.Gate, p.Type, p.Result, p.Summary, p.ProducedBy, p.Attested, ts(p.CreatedAt), p.Revision, p.DeliverablesHash,
		p.Run) // JSON, NULL when nil
	return check("add proof", err)
}

// Proofs implements store.Queries.
func (q *queries) Proofs(ctx context.Context, projectID string, gate int) ([]store.Proof, error) {
	rows, err := q.db.Query(ctx,
		`SELECT id, project_id, gate, type, result, summary, produced_by, attested, created_at, revision, deliverables_hash, run
		 FROM proofs WHERE project_id = $1 AND gate = $2 ORDER BY seq`, projectID, gate)
	proofs, err := collect(rows, err, func(r pgx.Row) (store.Proof, error) {
		var p store.Proof
		err := r.Scan(&p.ID, &p.ProjectID, &p.Gate, &p.Type, &p.Result, &p.Summary, &p.ProducedBy, &p.Attested, &p.CreatedAt,
			&p.Revision, &p.DeliverablesHash, &p.Run)
		p.CreatedAt = ts(p.CreatedAt)
		return p, err
	})
	return proofs, check("proofs", err)
}

// AddReview implements store.Queries.
func (q *queries) AddReview(ctx context.Context, r store.Review) error {
	// The snapshot's times are stored like every other time, UTC to the microsecond.
	deliverables := slices.Clone(r.Deliverables)
	for i := range deliverables {
		deliverables[i].UpdatedAt = ts(deliverables[i].UpdatedAt)
	}
	proofs := slices.Clone(r.Proofs)
	for i := range proofs {
		proofs[i].CreatedAt = ts(proofs[i].CreatedAt)
	}
	dJSON, err := json.Marshal(deliverables)
	if err != nil {
		return fmt.Errorf("add review: %w", err)
	}
	pJSON, err := json.Marshal(proofs)
	if err != nil {
		return fmt.Errorf("add review: %w", err)
	}
	_, err = q.db.Exec(ctx,
		`INSERT INTO reviews (id, project_id, gate, decision, reviewer_id, notes, deliverables, proofs, created_at, revision)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.ID, r.ProjectID, r.Gate, r.Decision, r.ReviewerID, r.Notes, dJSON, pJSON, ts(r.CreatedAt), r.Revision)
	return check("add review", err)
}

// Reviews implements store.Queries.
func (q *queries) Reviews(ctx context.Context, projectID string, gate int) ([]store.Review, error) {
	rows, err := q.db.Query(ctx,
		`SELECT id, project_id, gate, decision, reviewer_id, notes, deliverables, proofs, created_at, revision
		 FROM reviews WHERE project_id = $1 AND gate = $2 ORDER BY seq`, projectID, gate)
	reviews, err := collect(rows, err, func(row pgx.Row) (store.Review, error) {
		var (
			r            store.Review
			dJSON, pJSON []byte
		)
		if err := row.Scan(&r.ID, &r.ProjectID, &r.Gate, &r.Decision, &r.ReviewerID, &r.Notes, &dJSON, &pJSON, &r.CreatedAt, &r.Revision); err != nil {
			return r, err
		}
		r.CreatedAt = ts(r.CreatedAt)
		if err := json.Unmarshal(dJSON, &r.Deliverables); err != nil {
			return r, err
		}
		return r, json.Unmarshal(pJSON, &r.Proofs)
	})
	return reviews, check("reviews", err)
}

// --- Tasks

// createTasks inserts a batch of tasks and their dependencies in one statement, so in one round
// trip and atomically whatever the number of tasks: each column travels as one array.
// The foreign keys of task_dependencies are checked at the end of the statement, when the tasks
// inserted by the CTE are visible: a dependency may name a task of the batch, and one naming no
// task of the project fails the whole statement (23503).
const createTasks = `WITH new_tasks AS (
	INSERT INTO tasks (project_id, id, gate, title, description, owner_role, status, priority, created_at, updated_at, task_key)
	SELECT project_id, id, gate, title, description, owner_role, status, priority, created_at, updated_at, task_key
	FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::timestamptz[], $10::timestamptz[], $14::text[])
		WITH ORDINALITY AS t(project_id, id, gate, title, description, owner_role, status, priority, created_at, updated_at, task_key, ord)
	ORDER BY ord -- seq follows the order given
)
INSERT INTO task_dependencies (project_id, task_id, depends_on_id)
SELECT DISTINCT * FROM unnest($11::text[], $12::text[], $13::text[])`

// CreateTasks implements store.Queries.
func (q *queries) CreateTasks(ctx context.Context, tasks []store.Task) error {
	if len(tasks) == 0 {
		return nil
	}
	n := len(tasks)
	var (
		projectIDs, ids, titles, descriptions = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ownerRoles, statuses, priorities      = make([]string, n), make([]string, n), make([]string, n)
		keys                                  = make([]string, n)
		gates                                 = make([]int, n)
		createdAt, updatedAt                  = make([]time.Time, n), make([]time.Time, n)
		depProjectIDs, depTaskIDs, depIDs     []string
	)
	for i, t := range tasks {
		projectIDs[i], ids[i], gates[i], titles[i], descriptions[i] = t.ProjectID, t.ID, t.Gate, t.Title, t.Description
		ownerRoles[i], statuses[i], priorities[i], keys[i] = t.OwnerRole, t.Status, t.Priority, t.Key
		createdAt[i], updatedAt[i] = ts(t.CreatedAt), ts(t.UpdatedAt)
		for _, dep := range t.DependsOn {
			depProjectIDs, depTaskIDs, depIDs = append(depProjectIDs, t.ProjectID), append(depTaskIDs, t.ID), append(depIDs, dep)
		}
	}
	_, err := q.db.Exec(ctx, createTasks, projectIDs, ids, gates, titles, descriptions, ownerRoles, statuses,
		priorities, createdAt, updatedAt, depProjectIDs, depTaskIDs, depIDs, keys)
	return check("create tasks", err)
}

const selectTask = `SELECT t.id, t.project_id, t.gate, t.title, t.description, t.owner_role, t.status, t.priority,
	array(SELECT d.depends_on_id FROM task_dependencies d WHERE d.project_id = t.project_id AND d.task_id = t.id ORDER BY 1),
	t.seq, t.created_at, t.updated_at, t.task_key
	FROM tasks t `

func scanTask(r pgx.Row) (store.Task, error) {
	var t store.Task
	err := r.Scan(&t.ID, &t.ProjectID, &t.Gate, &t.Title, &t.Description, &t.OwnerRole, &t.Status, &t.Priority,
		&t.DependsOn, &t.Position, &t.CreatedAt, &t.UpdatedAt, &t.Key)
	t.CreatedAt, t.UpdatedAt = ts(t.CreatedAt), ts(t.UpdatedAt)
	return t, err
}

// Tasks implements store.Queries.
func (q *queries) Tasks(ctx context.Context, projectID string, f store.TaskFilter) ([]store.Task, error) {
	// Only the conditions the filter asks for, so that each variant gets a plan of its own.
	query, args := selectTask+`WHERE t.project_id = $1`, []any{projectID}
	if f.Gate != 0 {
		args = append(args, f.Gate)
		query += fmt.Sprintf(` AND t.gate = $%d`, len(args))
	}
	if f.ReadyOnly {
		query += ` AND t.status NOT IN ('done', 'blocked') AND NOT EXISTS (
			SELECT 1 FROM task_dependencies d JOIN tasks dep ON dep.project_id = d.project_id AND dep.id = d.depends_on_id
			WHERE d.project_id = t.project_id AND d.task_id = t.id AND dep.status <> 'done')`
	}
	if f.After != 0 {
		args = append(args, f.After)
		query += fmt.Sprintf(` AND t.seq > $%d`, len(args))
	}
	// Insertion order: tasks_project_id_seq_idx (or tasks_project_id_gate_idx for one gate)
	// returns the rows in it, so a page reads no more rows than it returns.
	query += ` ORDER BY t.seq`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := q.db.Query(ctx, query, args...)
	tasks, err := collect(rows, err, scanTask)
	return tasks, check("tasks", err)
}

// Task implements store.Queries.
func (q *queries) Task(ctx context.Context, projectID, id string) (store.Task, error) {
	t, err := scanTask(q.db.QueryRow(ctx, selectTask+`WHERE t.project_id = $1 AND t.id = $2`, projectID, id))
	if err != nil {
		return store.Task{}, check("task", err)
	}
	return t, nil
}

// SetTaskStatus implements store.Queries.
func (q *queries) SetTaskStatus(ctx context.Context, projectID, id, status string, at time.Time) error {
	tag, err := q.db.Exec(ctx, `UPDATE tasks SET status = $3, updated_at = $4 WHERE project_id = $1 AND id = $2`,
		projectID, id, status, ts(at))
	return affected("set task status", tag, err)
}

// SetTasksStatus implements store.Queries: one statement, whatever the number of tasks; the
// gate's tasks are found through tasks_project_id_gate_idx.
func (q *queries) SetTasksStatus(ctx context.Context, projectID string, sel store.TaskSelection, status string, at time.Time) ([]string, error) {
	query, args := `UPDATE tasks SET status = $1, updated_at = $2 WHERE project_id = $3 AND gate = $4 AND status = ANY($5)`,
		[]any{status, ts(at), projectID, sel.Gate, sel.From}
	if sel.OwnerRole != "" {
		args = append(args, sel.OwnerRole)
		query += fmt.Sprintf(` AND owner_role = $%d`, len(args))
	}
	if sel.Keys != nil {
		args = append(args, sel.Keys)
		query += fmt.Sprintf(` AND task_key = ANY($%d)`, len(args))
	}
	rows, err := q.db.Query(ctx, `WITH changed AS (`+query+` RETURNING id, seq) SELECT id FROM changed ORDER BY seq`, args...)
	ids, err := collect(rows, err, func(r pgx.Row) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	return ids, check("set tasks status", err)
}

// CountTasks implements store.Queries.
func (q *queries) CountTasks(ctx context.Context, projectID string) (store.TaskCounts, error) {
	var c store.TaskCounts
	err := q.db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'done') FROM tasks WHERE project_id = $1`,
		projectID).Scan(&c.Total, &c.Done)
	return c, check("count tasks", err)
}

// --- Events

// eventsLockClass is the first key of the advisory locks on projects' timelines (the second is
// the hash of the project id). Two-key advisory locks do not collide with one-key ones (goose's).
const eventsLockClass = 0x65766e74 // "evnt"

// lockEach is the CTE "locked", which takes a transaction-level advisory lock of class on the
// hash of each distinct text of the array parameter param. The locks are taken in key order, so
// concurrent statements locking several keys do not deadlock.
func lockEach(class int, param string) string {
	return fmt.Sprintf(`locked AS (
	SELECT count(pg_advisory_xact_lock(%d, k)) FROM (SELECT DISTINCT hashtext(v) AS k FROM unnest(%s::text[]) v ORDER BY k) keys
)`, class, param)
}

// appendEvents inserts a batch of events in one statement. Before drawing ids it takes, for each
// project, a transaction-level lock: an id drawn from the sequence is not committed yet, and
// without the lock a transaction drawing a larger id could commit first, and a reader paging
// with Events(after) past it would never see the smaller one.
var appendEvents = `WITH ` + lockEach(eventsLockClass, "$1") + `
INSERT INTO events (project_id, actor_id, actor_service, type, payload, created_at)
SELECT e.project_id, e.actor_id, e.actor_service, e.type, e.payload, coalesce(e.created_at, now())
FROM locked, unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::json[], $6::timestamptz[])
	WITH ORDINALITY AS e(project_id, actor_id, actor_service, type, payload, created_at, ord)
ORDER BY e.ord -- ids are drawn in the order given
RETURNING id, created_at`

// AppendEvents implements store.Queries. An event without CreatedAt gets the transaction's time.
func (q *queries) AppendEvents(ctx context.Context, events []store.Event) ([]store.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	n := len(events)
	projectIDs, actorIDs, actorServices, types := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	payloads, createdAt := make([][]byte, n), make([]pgtype.Timestamptz, n)
	for i, e := range events {
		projectIDs[i], actorIDs[i], actorServices[i], types[i], payloads[i] = e.ProjectID, e.ActorID, e.ActorService, e.Type, e.Payload
		createdAt[i] = pgtype.Timestamptz{Time: ts(e.CreatedAt), Valid: !e.CreatedAt.IsZero()}
	}
	rows, err := q.db.Query(ctx, appendEvents, projectIDs, actorIDs, actorServices, types, payloads, createdAt)
	appended, err := collect(rows, err, func(r pgx.Row) (store.Event, error) {
		var e store.Event
		err := r.Scan(&e.ID, &e.CreatedAt)
		return e, err
	})
	if err != nil {
		return nil, check("append events", err)
	}
	// RETURNING promises no order; the ids, drawn in the order given, do.
	slices.SortFunc(appended, func(a, b store.Event) int { return cmp.Compare(a.ID, b.ID) })
	out := slices.Clone(events)
	for i := range out {
		out[i].ID, out[i].CreatedAt = appended[i].ID, ts(appended[i].CreatedAt)
	}
	return out, nil
}

// Events implements store.Queries. Every variant is a range of events_project_id_id_idx, read
// forwards or backwards.
func (q *queries) Events(ctx context.Context, projectID string, f store.EventFilter) ([]store.Event, error) {
	if f.Limit <= 0 {
		return nil, nil
	}
	query, args := `SELECT id, project_id, actor_id, actor_service, type, payload, created_at FROM events
		WHERE project_id = $1`, []any{projectID}
	if f.After != 0 {
		args = append(args, f.After)
		query += fmt.Sprintf(` AND id > $%d`, len(args))
	}
	if f.Before != 0 {
		args = append(args, f.Before)
		query += fmt.Sprintf(` AND id < $%d`, len(args))
	}
	order := ` ORDER BY id`
	if f.NewestFirst {
		order = ` ORDER BY id DESC`
	}
	args = append(args, f.Limit)
	rows, err := q.db.Query(ctx, query+order+fmt.Sprintf(` LIMIT $%d`, len(args)), args...)
	events, err := collect(rows, err, func(r pgx.Row) (store.Event, error) {
		var e store.Event
		err := r.Scan(&e.ID, &e.ProjectID, &e.ActorID, &e.ActorService, &e.Type, &e.Payload, &e.CreatedAt)
		e.CreatedAt = ts(e.CreatedAt)
		return e, err
	})
	return events, check("events", err)
}

// --- Notifications

// notificationsLockClass is the first key of the advisory locks on users' notifications (the
// second is the hash of the user id).
const notificationsLockClass = 0x6e746679 // "ntfy"

// addNotifications inserts a batch of notifications in one statement, after locking each
// recipient's notifications for the reason appendEvents locks timelines: so that
// Notifications(after) never pages past an id that commits later.
var addNotifications = `WITH ` + lockEach(notificationsLockClass, "$1") + `
INSERT INTO notifications (user_id, project_id, project_name, kind, message, gate, event_id, created_at)
SELECT n.user_id, n.project_id, n.project_name, n.kind, n.message, n.gate, n.event_id, n.created_at
FROM locked, unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::timestamptz[])
	WITH ORDINALITY AS n(user_id, project_id, project_name, kind, message, gate, event_id, created_at, ord)
ORDER BY n.ord -- ids are drawn in the order given
RETURNING id`

// AddNotifications implements store.Queries.
func (q *queries) AddNotifications(ctx context.Context, ns []store.Notification) ([]store.Notification, error) {
	if len(ns) == 0 {
		return nil, nil
	}
	n := len(ns)
	var (
		userIDs, projectIDs, names = make([]string, n), make([]string, n), make([]string, n)
		kinds, messages            = make([]string, n), make([]string, n)
		gates                      = make([]int, n)
		eventIDs                   = make([]int64, n)
		createdAt                  = make([]time.Time, n)
	)
	for i, x := range ns {
		userIDs[i], projectIDs[i], names[i], kinds[i], messages[i] = x.UserID, x.ProjectID, x.ProjectName, x.Kind, x.Message
		gates[i], eventIDs[i], createdAt[i] = x.Gate, x.EventID, ts(x.CreatedAt)
	}
	rows, err := q.db.Query(ctx, addNotifications, userIDs, projectIDs, names, kinds, messages, gates, eventIDs, createdAt)
	ids, err := collect(rows, err, func(r pgx.Row) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
	if err != nil {
		return nil, check("add notifications", err)
	}
	// RETURNING promises no order; the ids, drawn in the order given, do.
	slices.Sort(ids)
	out := slices.Clone(ns)
	for i := range out {
		out[i].ID, out[i].CreatedAt, out[i].ReadAt = ids[i], createdAt[i], time.Time{}
	}
	return out, nil
}

// Notifications implements store.Queries. Every variant is an index range of the user's
// notifications: notifications_user_id_id_idx, or notifications_unread_idx for unread ones, so
// a user's read history does not slow the unread list down.
func (q *queries) Notifications(ctx context.Context, userID string, f store.NotificationFilter) ([]store.Notification, error) {
	if f.Limit <= 0 {
		return nil, nil
	}
	query, args := `SELECT id, user_id, project_id, project_name, kind, message, gate, event_id, created_at, read_at
		FROM notifications WHERE user_id = $1`, []any{userID}
	if f.UnreadOnly {
		query += ` AND read_at IS NULL`
	}
	if f.After != 0 {
		args = append(args, f.After)
		query += fmt.Sprintf(` AND id > $%d`, len(args))
	}
	if f.Before != 0 {
		args = append(args, f.Before)
		query += fmt.Sprintf(` AND id < $%d`, len(args))
	}
	order := ` ORDER BY id DESC`
	if f.OldestFirst {
		order = ` ORDER BY id`
	}
	args = append(args, f.Limit)
	rows, err := q.db.Query(ctx, query+order+fmt.Sprintf(` LIMIT $%d`, len(args)), args...)
	ns, err := collect(rows, err, func(r pgx.Row) (store.Notification, error) {
		var (
			n      store.Notification
			readAt pgtype.Timestamptz
		)
		err := r.Scan(&n.ID, &n.UserID, &n.ProjectID, &n.ProjectName, &n.Kind, &n.Message, &n.Gate, &n.EventID, &n.CreatedAt, &readAt)
		n.CreatedAt = ts(n.CreatedAt)
		if readAt.Valid {
			n.ReadAt = ts(readAt.Time)
		}
		return n, err
	})
	return ns, check("notifications", err)
}

// MarkNotificationsRead implements store.Queries.
func (q *queries) MarkNotificationsRead(ctx context.Context, userID string, upTo int64, at time.Time) error {
	query, args := `UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL`, []any{userID, ts(at)}
	if upTo != 0 {
		query += ` AND id <= $3`
		args = append(args, upTo)
	}
	_, err := q.db.Exec(ctx, query, args...)
	return check("mark notifications read", err)
}

// UnreadNotifications implements store.Queries.
func (q *queries) UnreadNotifications(ctx context.Context, userID string) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n)
	return n, check("unread notifications", err)
}

// --- Helpers

// collect scans every row of a Query's result (rows, err) with scan.
func collect[T any](rows pgx.Rows, err error, scan func(pgx.Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}

// affected is check for a statement that must change a row: none is ErrNotFound.
func affected(op string, tag pgconn.CommandTag, err error) error {
	if err != nil {
		return check(op, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// check maps err to the store's errors: no row is ErrNotFound, a unique violation (a taken key)
// ErrAlreadyExists, a foreign key violation (a row naming a missing project, gate or task)
// ErrNotFound. Other errors are wrapped with op.
func check(op string, err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case errors.As(err, &pgErr) && pgErr.Code == "23505": // unique_violation
		return store.ErrAlreadyExists
	case errors.As(err, &pgErr) && pgErr.Code == "23503": // foreign_key_violation
		return store.ErrNotFound
	}
	return fmt.Errorf("%s: %w", op, err)
}
