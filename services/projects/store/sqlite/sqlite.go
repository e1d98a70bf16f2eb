// Package sqlite is the SQLite implementation of store.Store (modernc.org/sqlite, pure Go), the
// embedded default. Times are stored as INTEGER microseconds since the Unix epoch, so they
// round-trip exactly as the postgres store's TIMESTAMPTZ columns do: UTC, to the microsecond.
//
// It behaves as the postgres store does, beyond the contract of store.Queries too: a row naming a
// missing project, gate or task is ErrNotFound, and tasks created at the same time are listed in
// the order given. Unlike PostgreSQL, SQLite does not abort a transaction when a statement fails.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/database/sqlitex"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a store.Store backed by one SQLite file. Its *sql.DB has a single connection (see
// database.OpenSQLite), so nothing may use the Store while a transaction of InTx is open.
type Store struct {
	queries
	db *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the database file at path and applies pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := database.OpenSQLiteMigrated(ctx, path, migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return &Store{queries: queries{db: db}, db: db}, nil
}

// InTx implements store.Store. The transaction is BEGIN IMMEDIATE (see database.OpenSQLite): it
// holds the write lock from the start, so transactions run one after the other.
func (s *Store) InTx(ctx context.Context, fn func(q store.Queries) error) error {
	return sqlitex.InTx(ctx, s.db, func(tx *sql.Tx) error { return fn(&queries{db: tx}) })
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close implements store.Store.
func (s *Store) Close() error { return s.db.Close() }

// queries implements store.Queries on the database or, in InTx, on a transaction.
type queries struct {
	db sqlitex.DBTX
}

// utc is t as it reads back from micros: UTC, truncated to the microsecond.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// jsonText scans a JSON TEXT column into v.
type jsonText struct{ v any }

func (j jsonText) Scan(src any) error {
	s, ok := src.(string)
	if !ok {
		return fmt.Errorf("sqlite: JSON stored as %T, want TEXT", src)
	}
	return json.Unmarshal([]byte(s), j.v)
}

// optionalJSON is a nullable JSON TEXT column holding a *T, as an argument and to scan into:
// a nil pointer is NULL, and NULL scans as a nil pointer.
type optionalJSON[T any] struct{ p **T }

// Value implements driver.Valuer.
func (j optionalJSON[T]) Value() (driver.Value, error) {
	if *j.p == nil {
		return nil, nil
	}
	return jsonArg(*j.p)
}

// Scan implements sql.Scanner.
func (j optionalJSON[T]) Scan(src any) error {
	if src == nil {
		*j.p = nil
		return nil
	}
	*j.p = new(T)
	return jsonText{*j.p}.Scan(src)
}

// jsonArg is v as a JSON TEXT argument. (Given as a BLOB, JSON functions would read it as JSONB.)
func jsonArg(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// --- Projects

// CreateProject implements store.Queries.
func (q *queries) CreateProject(ctx context.Context, p store.Project) error {
	_, err := q.db.ExecContext(ctx,
		`INSERT INTO projects (id, name, description, type, repository_url, owner_id, status, current_gate, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.Name, p.Description, p.Type, p.RepositoryURL, p.OwnerID, p.Status, p.CurrentGate,
		sqlitex.Micros(p.CreatedAt), sqlitex.Micros(p.UpdatedAt))
	return check("create project", err)
}

const selectProjectWithRole = `SELECT p.id, p.name, p.description, p.type, p.repository_url, p.owner_id,
	p.status, p.current_gate, p.created_at, p.updated_at, m.role
	FROM members m JOIN projects p ON p.id = m.project_id `

func scanProjectWithRole(r sqlitex.Scanner) (store.ProjectWithRole, error) {
	var p store.ProjectWithRole
	err := r.Scan(&p.ID, &p.Name, &p.Description, &p.Type, &p.RepositoryURL, &p.OwnerID,
		&p.Status, &p.CurrentGate, sqlitex.ScanTime(&p.CreatedAt), sqlitex.ScanTime(&p.UpdatedAt), &p.Role)
	return p, err
}

// ProjectForMember implements store.Queries.
func (q *queries) ProjectForMember(ctx context.Context, projectID, userID string) (store.ProjectWithRole, error) {
	p, err := scanProjectWithRole(q.db.QueryRowContext(ctx,
		selectProjectWithRole+`WHERE m.project_id = ? AND m.user_id = ?`, projectID, userID))
	if err != nil {
		return store.ProjectWithRole{}, check("project for member", err)
	}
	return p, nil
}

// UpdateProject implements store.Queries.
func (q *queries) UpdateProject(ctx context.Context, p store.Project) error {
	res, err := q.db.ExecContext(ctx,
		`UPDATE projects SET name = ?, description = ?, repository_url = ?, status = ?, current_gate = ?, updated_at = ?
		 WHERE id = ?`,
		p.Name, p.Description, p.RepositoryURL, p.Status, p.CurrentGate, sqlitex.Micros(p.UpdatedAt), p.ID)
	return affected("update project", res, err)
}

// DeleteProject implements store.Queries. The foreign keys cascade to everything the project owns.
func (q *queries) DeleteProject(ctx context.Context, id string) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM projects WHERE id = ?`, id)
	return affected("delete project", res, err)
}

// ProjectsForMember implements store.Queries.
func (q *queries) ProjectsForMember(ctx context.Context, userID string, after *store.ProjectCursor, limit int) ([]store.ProjectWithRole, error) {
	if limit <= 0 {
		return nil, nil
	}
	query, args := selectProjectWithRole+`WHERE m.user_id = ? `, []any{userID}
	if after != nil {
		query += `AND (p.created_at, p.id) < (?, ?) `
		args = append(args, sqlitex.Micros(after.CreatedAt), after.ID)
	}
	rows, err := q.db.QueryContext(ctx, query+`ORDER BY p.created_at DESC, p.id DESC LIMIT ?`, append(args, limit)...)
	projects, err := sqlitex.Collect(rows, err, scanProjectWithRole)
	return projects, check("projects for member", err)
}

// --- Members

// AddMember implements store.Queries.
func (q *queries) AddMember(ctx context.Context, m store.Member) error {
	_, err := q.db.ExecContext(ctx,
		`INSERT INTO members (project_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`,
		m.ProjectID, m.UserID, m.Role, sqlitex.Micros(m.CreatedAt))
	return check("add member", err)
}

// SetMemberRole implements store.Queries.
func (q *queries) SetMemberRole(ctx context.Context, projectID, userID, role string) error {
	res, err := q.db.ExecContext(ctx,
		`UPDATE members SET role = ? WHERE project_id = ? AND user_id = ?`, role, projectID, userID)
	return affected("set member role", res, err)
}

// RemoveMember implements store.Queries.
func (q *queries) RemoveMember(ctx context.Context, projectID, userID string) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM members WHERE project_id = ? AND user_id = ?`, projectID, userID)
	return affected("remove member", res, err)
}

// Members implements store.Queries.
func (q *queries) Members(ctx context.Context, projectID string) ([]store.Member, error) {
	rows, err := q.db.QueryContext(ctx,
		`SELECT project_id, user_id, role, created_at FROM members WHERE project_id = ? ORDER BY created_at, user_id`,
		projectID)
	members, err := sqlitex.Collect(rows, err, func(r sqlitex.Scanner) (store.Member, error) {
		var m store.Member
		err := r.Scan(&m.ProjectID, &m.UserID, &m.Role, sqlitex.ScanTime(&m.CreatedAt))
		return m, err
	})
	return members, check("members", err)
}

// --- Gates

// CreateGate implements store.Queries.
func (q *queries) CreateGate(ctx context.Context, g store.Gate) error {
	_, err := q.db.ExecContext(ctx,
		`INSERT INTO gates (project_id, number, state, blocked_reason, blocked_from, revision, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		g.ProjectID, g.Number, g.State, g.BlockedReason, g.BlockedFrom, g.Revision, sqlitex.Micros(g.CreatedAt), sqlitex.Micros(g.UpdatedAt))
	return check("create gate", err)
}

const selectGate = `SELECT project_id, number, state, blocked_reason, blocked_from, revision, created_at, updated_at
	FROM gates `

func scanGate(r sqlitex.Scanner) (store.Gate, error) {
	var g store.Gate
	err := r.Scan(&g.ProjectID, &g.Number, &g.State, &g.BlockedReason, &g.BlockedFrom, &g.Revision,
		sqlitex.ScanTime(&g.CreatedAt), sqlitex.ScanTime(&g.UpdatedAt))
	return g, err
}

// Gate implements store.Queries. It needs no row lock: a transaction holds the database's write
// lock from BEGIN IMMEDIATE on.
func (q *queries) Gate(ctx context.Context, projectID string, number int) (store.Gate, error) {
	g, err := scanGate(q.db.QueryRowContext(ctx, selectGate+`WHERE project_id = ? AND number = ?`, projectID, number))
	if err != nil {
		return store.Gate{}, check("gate", err)
	}
	return g, nil
}

// Gates implements store.Queries.
func (q *queries) Gates(ctx context.Context, projectID string) ([]store.Gate, error) {
	rows, err := q.db.QueryContext(ctx, selectGate+`WHERE project_id = ? ORDER BY number`, projectID)
	gates, err := sqlitex.Collect(rows, err, scanGate)
	return gates, check("gates", err)
}

// UpdateGate implements store.Queries.
func (q *queries) UpdateGate(ctx context.Context, g store.Gate, fromState string) error {
	res, err := q.db.ExecContext(ctx,
		`UPDATE gates SET state = ?, blocked_reason = ?, blocked_from = ?, revision = ?, updated_at = ?
		 WHERE project_id = ? AND number = ? AND state = ?`,
		g.State, g.BlockedReason, g.BlockedFrom, g.Revision, sqlitex.Micros(g.UpdatedAt), g.ProjectID, g.Number, fromState)
	if err != nil {
		return check("update gate", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return check("update gate", err)
	}
	// Nothing matched: a lost race, or no such gate.
	var exists bool
	if err := q.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM gates WHERE project_id = ? AND number = ?)`,
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
	_, err := q.db.ExecContext(ctx,
		`INSERT INTO deliverables (project_id, gate, document_type, document_id, version, content_hash, complete, recorded_by, updated_at, revision)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (project_id, gate, document_id) DO UPDATE SET
		   document_type = excluded.document_type, version = excluded.version, content_hash = excluded.content_hash,
		   complete = excluded.complete, recorded_by = excluded.recorded_by, updated_at = excluded.updated_at,
		   revision = excluded.revision`,
		d.ProjectID, d.Gate, d.DocumentType, d.DocumentID, d.Version, d.ContentHash, d.Complete, d.RecordedBy, sqlitex.Micros(d.UpdatedAt), d.Revision)
	return check("put deliverable", err)
}

// Deliverables implements store.Queries.
func (q *queries) Deliverables(ctx context.Context, projectID string, gate int) ([]store.Deliverable, error) {
	rows, err := q.db.QueryContext(ctx,
		`SELECT project_id, gate, document_type, document_id, version, content_hash, complete, recorded_by, updated_at, revision
		 FROM deliverables WHERE project_id = ? AND gate = ? ORDER BY document_type, document_id`, projectID, gate)
	deliverables, err := sqlitex.Collect(rows, err, func(r sqlitex.Scanner) (store.Deliverable, error) {
		var d store.Deliverable
		err := r.Scan(&d.ProjectID, &d.Gate, &d.DocumentType, &d.DocumentID, &d.Version, &d.ContentHash,
			&d.Complete, &d.RecordedBy, sqlitex.ScanTime(&d.UpdatedAt), &d.Revision)
		return d, err
	})
	return deliverables, check("deliverables", err)
}

// AddProof implements store.Queries.
func (q *queries) AddProof(ctx context.Context, p store.Proof) error {
	_, err := q.db.ExecContext(ctx,
		`INSERT INTO proofs (id, project_id, gate, type, result, summary, produced_by, attested, created_at, revision, deliverables_hash, run)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.ProjectID, p.Gate, p.Type, p.Result, p.Summary, p.ProducedBy, p.Attested, sqlitex.Micros(p.CreatedAt), p.Revision, p.DeliverablesHash,
		optionalJSON[store.ProofRun]{&p.Run})
	return check("add proof", err)
}

// Proofs implements store.Queries.
func (q *queries) Proofs(ctx context.Context, projectID string, gate int) ([]store.Proof, error) {
	rows, err := q.db.QueryContext(ctx,
		`SELECT id, project_id, gate, type, result, summary, produced_by, attested, created_at, revision, deliverables_hash, run
		 FROM proofs WHERE project_id = ? AND gate = ? ORDER BY rowid`, projectID, gate)
	proofs, err := sqlitex.Collect(rows, err, func(r sqlitex.Scanner) (store.Proof, error) {
		var p store.Proof
		err := r.Scan(&p.ID, &p.ProjectID, &p.Gate, &p.Type, &p.Result, &p.Summary, &p.ProducedBy, &p.Attested, sqlitex.ScanTime(&p.CreatedAt),
			&p.Revision, &p.DeliverablesHash, optionalJSON[store.ProofRun]{&p.Run})
		return p, err
	})
	return proofs, check("proofs", err)
}

// AddReview implements store.Queries.
func (q *queries) AddReview(ctx context.Context, r store.Review) error {
	// The snapshot's times are stored like every other time, UTC to the microsecond.
	deliverables := slices.Clone(r.Deliverables)
	for i := range deliverables {
		deliverables[i].UpdatedAt = utc(deliverables[i].UpdatedAt)
	}
	proofs := slices.Clone(r.Proofs)
	for i := range proofs {
		proofs[i].CreatedAt = utc(proofs[i].CreatedAt)
	}
	dJSON, err := jsonArg(deliverables)
	if err != nil {
		return fmt.Errorf("add review: %w", err)
	}
	pJSON, err := jsonArg(proofs)
	if err != nil {
		return fmt.Errorf("add review: %w", err)
	}
	_, err = q.db.ExecContext(ctx,
		`INSERT INTO reviews (id, project_id, gate, decision, reviewer_id, notes, deliverables, proofs, created_at, revision)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.ProjectID, r.Gate, r.Decision, r.ReviewerID, r.Notes, dJSON, pJSON, sqlitex.Micros(r.CreatedAt), r.Revision)
	return check("add review", err)
}

// Reviews implements store.Queries.
func (q *queries) Reviews(ctx context.Context, projectID string, gate int) ([]store.Review, error) {
	rows, err := q.db.QueryContext(ctx,
		`SELECT id, project_id, gate, decision, reviewer_id, notes, deliverables, proofs, created_at, revision
		 FROM reviews WHERE project_id = ? AND gate = ? ORDER BY rowid`, projectID, gate)
	reviews, err := sqlitex.Collect(rows, err, func(row sqlitex.Scanner) (store.Review, error) {
		var r store.Review
		err := row.Scan(&r.ID, &r.ProjectID, &r.Gate, &r.Decision, &r.ReviewerID, &r.Notes,
			jsonText{&r.Deliverables}, jsonText{&r.Proofs}, sqlitex.ScanTime(&r.CreatedAt), &r.Revision)
		return r, err
	})
	return reviews, check("reviews", err)
}

// --- Tasks

// The tasks and dependencies of a batch travel as JSON arrays, so each statement is the same,
// and within SQLite's limit on bound parameters, whatever the number of tasks.
const (
	insertTasks = `INSERT INTO tasks (project_id, id, gate, title, description, owner_role, status, priority, created_at, updated_at, task_key)
	SELECT value->>'project_id', value->>'id', value->>'gate', value->>'title', value->>'description',
		value->>'owner_role', value->>'status', value->>'priority', value->>'created_at', value->>'updated_at', value->>'task_key'
	FROM json_each(?) ORDER BY key` // the rowid follows the order given
	insertDependencies = `INSERT INTO task_dependencies (project_id, task_id, depends_on_id)
	SELECT DISTINCT value->>0, value->>1, value->>2 FROM json_each(?)`
)

type taskRow struct {
	ProjectID   string `json:"project_id"`
	ID          string `json:"id"`
	Gate        int    `json:"gate"`
	Title       string `json:"title"`
	Description string `json:"description"`
	OwnerRole   string `json:"owner_role"`
	Status      string `json:"status"`
	Priority    string `json:"priority"`
	CreatedAt   int64  `json:"created_at"`
	UpdatedAt   int64  `json:"updated_at"`
	Key         string `json:"task_key"`
}

// CreateTasks implements store.Queries: two statements, in one transaction (SQLite has no round
// trips to save). The foreign keys make a dependency naming no task of the project fail it.
func (q *queries) CreateTasks(ctx context.Context, tasks []store.Task) error {
	if len(tasks) == 0 {
		return nil
	}
	rows := make([]taskRow, len(tasks))
	var deps [][3]string // project, task, dependency
	for i, t := range tasks {
		rows[i] = taskRow{t.ProjectID, t.ID, t.Gate, t.Title, t.Description, t.OwnerRole, t.Status, t.Priority,
			sqlitex.Micros(t.CreatedAt), sqlitex.Micros(t.UpdatedAt), t.Key}
		for _, dep := range t.DependsOn {
			deps = append(deps, [3]string{t.ProjectID, t.ID, dep})
		}
	}
	tasksJSON, err := jsonArg(rows)
	if err != nil {
		return fmt.Errorf("create tasks: %w", err)
	}
	depsJSON, err := jsonArg(deps)
	if err != nil {
		return fmt.Errorf("create tasks: %w", err)
	}
	err = sqlitex.Atomically(ctx, q.db, func(db sqlitex.DBTX) error {
		if _, err := db.ExecContext(ctx, insertTasks, tasksJSON); err != nil || len(deps) == 0 {
			return err
		}
		_, err := db.ExecContext(ctx, insertDependencies, depsJSON)
		return err
	})
	return check("create tasks", err)
}

const selectTask = `SELECT t.id, t.project_id, t.gate, t.title, t.description, t.owner_role, t.status, t.priority,
	(SELECT json_group_array(d.depends_on_id ORDER BY d.depends_on_id) FROM task_dependencies d
	 WHERE d.project_id = t.project_id AND d.task_id = t.id),
	t.rowid, t.created_at, t.updated_at, t.task_key
	FROM tasks t `

func scanTask(r sqlitex.Scanner) (store.Task, error) {
	var t store.Task
	err := r.Scan(&t.ID, &t.ProjectID, &t.Gate, &t.Title, &t.Description, &t.OwnerRole, &t.Status, &t.Priority,
		jsonText{&t.DependsOn}, &t.Position, sqlitex.ScanTime(&t.CreatedAt), sqlitex.ScanTime(&t.UpdatedAt), &t.Key)
	return t, err
}

// Tasks implements store.Queries.
func (q *queries) Tasks(ctx context.Context, projectID string, f store.TaskFilter) ([]store.Task, error) {
	query, args := selectTask+`WHERE t.project_id = ?`, []any{projectID}
	if f.Gate != 0 {
		query += ` AND t.gate = ?`
		args = append(args, f.Gate)
	}
	if f.ReadyOnly {
		query += ` AND t.status NOT IN ('done', 'blocked') AND NOT EXISTS (
			SELECT 1 FROM task_dependencies d JOIN tasks dep ON dep.project_id = d.project_id AND dep.id = d.depends_on_id
			WHERE d.project_id = t.project_id AND d.task_id = t.id AND dep.status <> 'done')`
	}
	if f.After != 0 {
		query += ` AND t.rowid > ?`
		args = append(args, f.After)
	}
	// Insertion order: tasks_project_id_idx (or tasks_project_id_gate_idx for one gate) holds
	// the rowid last, so returns the rows in it.
	query += ` ORDER BY t.rowid`
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := q.db.QueryContext(ctx, query, args...)
	tasks, err := sqlitex.Collect(rows, err, scanTask)
	return tasks, check("tasks", err)
}

// Task implements store.Queries.
func (q *queries) Task(ctx context.Context, projectID, id string) (store.Task, error) {
	t, err := scanTask(q.db.QueryRowContext(ctx, selectTask+`WHERE t.project_id = ? AND t.id = ?`, projectID, id))
	if err != nil {
		return store.Task{}, check("task", err)
	}
	return t, nil
}

// SetTaskStatus implements store.Queries.
func (q *queries) SetTaskStatus(ctx context.Context, projectID, id, status string, updated time.Time) error {
	res, err := q.db.ExecContext(ctx, `UPDATE tasks SET status = ?, updated_at = ? WHERE project_id = ? AND id = ?`,
		status, sqlitex.Micros(updated), projectID, id)
	return affected("set task status", res, err)
}

// SetTasksStatus implements store.Queries: one statement; lists travel as JSON arrays.
func (q *queries) SetTasksStatus(ctx context.Context, projectID string, sel store.TaskSelection, status string, at time.Time) ([]string, error) {
	from, err := jsonArg(sel.From)
	if err != nil {
		return nil, fmt.Errorf("set tasks status: %w", err)
	}
	query := `UPDATE tasks SET status = ?, updated_at = ?
	WHERE project_id = ? AND gate = ? AND status IN (SELECT value FROM json_each(?))`
	args := []any{status, sqlitex.Micros(at), projectID, sel.Gate, from}
	if sel.OwnerRole != "" {
		query += ` AND owner_role = ?`
		args = append(args, sel.OwnerRole)
	}
	if sel.Keys != nil {
		keys, err := jsonArg(sel.Keys)
		if err != nil {
			return nil, fmt.Errorf("set tasks status: %w", err)
		}
		query += ` AND task_key IN (SELECT value FROM json_each(?))`
		args = append(args, keys)
	}
	// RETURNING gives rows in no defined order: they are put in insertion order here.
	type changed struct {
		id    string
		rowid int64
	}
	rows, err := q.db.QueryContext(ctx, query+` RETURNING id, rowid`, args...)
	list, err := sqlitex.Collect(rows, err, func(r sqlitex.Scanner) (changed, error) {
		var c changed
		return c, r.Scan(&c.id, &c.rowid)
	})
	if err != nil {
		return nil, check("set tasks status", err)
	}
	slices.SortFunc(list, func(a, b changed) int { return cmp.Compare(a.rowid, b.rowid) })
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.id
	}
	return ids, nil
}

// CountTasks implements store.Queries.
func (q *queries) CountTasks(ctx context.Context, projectID string) (store.TaskCounts, error) {
	var c store.TaskCounts
	err := q.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'done') FROM tasks WHERE project_id = ?`,
		projectID).Scan(&c.Total, &c.Done)
	return c, check("count tasks", err)
}

// --- Events

// appendEvents inserts a batch of events in one statement. With one connection, writes are
// serialised: ids are committed in the order they are drawn, which Events(after) relies on.
const appendEvents = `INSERT INTO events (project_id, actor_id, actor_service, type, payload, created_at)
	SELECT value->>'project_id', value->>'actor_id', value->>'actor_service', value->>'type', value->>'payload', value->>'created_at'
	FROM json_each(?) ORDER BY key -- ids are drawn in the order given
	RETURNING id`

type eventRow struct {
	ProjectID    string `json:"project_id"`
	ActorID      string `json:"actor_id"`
	ActorService string `json:"actor_service"`
	Type         string `json:"type"`
	// The payload's text, as a JSON string: ->> returns it unchanged.
	Payload   string `json:"payload"`
	CreatedAt int64  `json:"created_at"`
}

// AppendEvents implements store.Queries. An event without CreatedAt gets the time of the call.
func (q *queries) AppendEvents(ctx context.Context, events []store.Event) ([]store.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	now := time.Now()
	out := slices.Clone(events)
	rows := make([]eventRow, len(out))
	for i := range out {
		e := &out[i]
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
		e.CreatedAt = utc(e.CreatedAt)
		rows[i] = eventRow{e.ProjectID, e.ActorID, e.ActorService, e.Type, string(e.Payload), sqlitex.Micros(e.CreatedAt)}
	}
	eventsJSON, err := jsonArg(rows)
	if err != nil {
		return nil, fmt.Errorf("append events: %w", err)
	}
	ids, err := insertedIDs(q.db.QueryContext(ctx, appendEvents, eventsJSON))
	if err != nil {
		return nil, check("append events", err)
	}
	for i := range out {
		out[i].ID = ids[i]
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
		WHERE project_id = ?`, []any{projectID}
	if f.After != 0 {
		query += ` AND id > ?`
		args = append(args, f.After)
	}
	if f.Before != 0 {
		query += ` AND id < ?`
		args = append(args, f.Before)
	}
	order := ` ORDER BY id`
	if f.NewestFirst {
		order = ` ORDER BY id DESC`
	}
	rows, err := q.db.QueryContext(ctx, query+order+` LIMIT ?`, append(args, f.Limit)...)
	events, err := sqlitex.Collect(rows, err, func(r sqlitex.Scanner) (store.Event, error) {
		var (
			e       store.Event
			payload string
		)
		err := r.Scan(&e.ID, &e.ProjectID, &e.ActorID, &e.ActorService, &e.Type, &payload, sqlitex.ScanTime(&e.CreatedAt))
		e.Payload = []byte(payload)
		return e, err
	})
	return events, check("events", err)
}

// --- Notifications

// addNotifications inserts a batch of notifications in one statement, as appendEvents does
// events (and, with one connection, their ids commit in order too).
const addNotifications = `INSERT INTO notifications (user_id, project_id, project_name, kind, message, gate, event_id, created_at)
	SELECT value->>'user_id', value->>'project_id', value->>'project_name', value->>'kind', value->>'message',
		value->>'gate', value->>'event_id', value->>'created_at'
	FROM json_each(?) ORDER BY key -- ids are drawn in the order given
	RETURNING id`

type notificationRow struct {
	UserID      string `json:"user_id"`
	ProjectID   string `json:"project_id"`
	ProjectName string `json:"project_name"`
	Kind        string `json:"kind"`
	Message     string `json:"message"`
	Gate        int    `json:"gate"`
	EventID     int64  `json:"event_id"`
	CreatedAt   int64  `json:"created_at"`
}

// AddNotifications implements store.Queries.
func (q *queries) AddNotifications(ctx context.Context, ns []store.Notification) ([]store.Notification, error) {
	if len(ns) == 0 {
		return nil, nil
	}
	out := slices.Clone(ns)
	rows := make([]notificationRow, len(out))
	for i := range out {
		n := &out[i]
		n.CreatedAt, n.ReadAt = utc(n.CreatedAt), time.Time{}
		rows[i] = notificationRow{n.UserID, n.ProjectID, n.ProjectName, n.Kind, n.Message, n.Gate, n.EventID, sqlitex.Micros(n.CreatedAt)}
	}
	rowsJSON, err := jsonArg(rows)
	if err != nil {
		return nil, fmt.Errorf("add notifications: %w", err)
	}
	ids, err := insertedIDs(q.db.QueryContext(ctx, addNotifications, rowsJSON))
	if err != nil {
		return nil, check("add notifications", err)
	}
	for i := range out {
		out[i].ID = ids[i]
	}
	return out, nil
}

// Notifications implements store.Queries.
func (q *queries) Notifications(ctx context.Context, userID string, f store.NotificationFilter) ([]store.Notification, error) {
	if f.Limit <= 0 {
		return nil, nil
	}
	query, args := `SELECT id, user_id, project_id, project_name, kind, message, gate, event_id, created_at, read_at
		FROM notifications WHERE user_id = ?`, []any{userID}
	if f.UnreadOnly {
		query += ` AND read_at IS NULL`
	}
	if f.After != 0 {
		query += ` AND id > ?`
		args = append(args, f.After)
	}
	if f.Before != 0 {
		query += ` AND id < ?`
		args = append(args, f.Before)
	}
	order := ` ORDER BY id DESC`
	if f.OldestFirst {
		order = ` ORDER BY id`
	}
	rows, err := q.db.QueryContext(ctx, query+order+` LIMIT ?`, append(args, f.Limit)...)
	ns, err := sqlitex.Collect(rows, err, func(r sqlitex.Scanner) (store.Notification, error) {
		var (
			n      store.Notification
			readAt sql.NullInt64
		)
		err := r.Scan(&n.ID, &n.UserID, &n.ProjectID, &n.ProjectName, &n.Kind, &n.Message, &n.Gate, &n.EventID,
			sqlitex.ScanTime(&n.CreatedAt), &readAt)
		if readAt.Valid {
			n.ReadAt = time.UnixMicro(readAt.Int64).UTC()
		}
		return n, err
	})
	return ns, check("notifications", err)
}

// MarkNotificationsRead implements store.Queries.
func (q *queries) MarkNotificationsRead(ctx context.Context, userID string, upTo int64, at time.Time) error {
	query, args := `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`, []any{sqlitex.Micros(at), userID}
	if upTo != 0 {
		query += ` AND id <= ?`
		args = append(args, upTo)
	}
	_, err := q.db.ExecContext(ctx, query, args...)
	return check("mark notifications read", err)
}

// UnreadNotifications implements store.Queries.
func (q *queries) UnreadNotifications(ctx context.Context, userID string) (int, error) {
	var n int
	err := q.db.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL`, userID).Scan(&n)
	return n, check("unread notifications", err)
}

// --- Helpers

// insertedIDs collects the ids an INSERT ... RETURNING id returned, in increasing order:
// RETURNING promises no order; the ids, drawn in the order of the rows given, do.
func insertedIDs(rows *sql.Rows, err error) ([]int64, error) {
	ids, err := sqlitex.Collect(rows, err, func(r sqlitex.Scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
	slices.Sort(ids)
	return ids, err
}

// affected is check for a statement that must change a row: none is ErrNotFound.
func affected(op string, res sql.Result, err error) error {
	if err != nil {
		return check(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return check(op, err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// check maps err to the store's errors: no row is ErrNotFound, a taken key ErrAlreadyExists, a
// foreign key violation (a row naming a missing project, gate or task) ErrNotFound. Other errors
// are wrapped with op.
func check(op string, err error) error {
	switch code := sqlitex.ErrorCode(err); {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, code == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return store.ErrAlreadyExists
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return store.ErrNotFound
	}
	return fmt.Errorf("%s: %w", op, err)
}
