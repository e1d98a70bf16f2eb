// Package postgres is the PostgreSQL implementation of store.Store (pgx/v5), used in production.
// Its tables live in the "documents" schema of the shared database.
//
// Batches travel as arrays, one per column, so storing N documents costs the same few
// statements whatever N is. Write serialises a project's writers with a transaction-level
// advisory lock, which is what makes versions' seq grow in commit order.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

// Schema is the PostgreSQL schema the documents service owns.
const Schema = "documents"

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a store.Store backed by a pgx pool. Its Queries run on the pool, each on its own.
type Store struct {
	queries
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url, creates the documents schema if needed and applies
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

func newStore(pool *pgxpool.Pool) *Store {
	return &Store{queries: queries{db: pool, pool: pool}, pool: pool}
}

// writeLockClass is the first key of the advisory locks that serialise a project's writers
// (the second is the hash of the project id). Two-key advisory locks do not collide with
// one-key ones (goose's).
const writeLockClass = 0x646f6373 // "docs"

// Write implements store.Store.
func (s *Store) Write(ctx context.Context, projectID string, fn func(q store.Queries) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, writeLockClass, projectID); err != nil {
			return fmt.Errorf("lock project: %w", err)
		}
		return fn(&queries{db: tx})
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

// queries implements store.Queries on the pool or, in Write, on a transaction.
type queries struct {
	db dbtx
	// pool is set outside a transaction, for statements that need one of their own.
	pool *pgxpool.Pool
}

// ts is how a time is stored: UTC, at the microsecond precision of TIMESTAMPTZ. Times read back
// go through it too, since pgx returns them in the local zone.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// InsertDocuments implements store.Queries.
func (q *queries) InsertDocuments(ctx context.Context, docs []store.Document) error {
	if len(docs) == 0 {
		return nil
	}
	n := len(docs)
	ids, projectIDs, types, titles, keys, creators := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	gates, created := make([]int32, n), make([]time.Time, n)
	for i, d := range docs {
		ids[i], projectIDs[i], types[i], titles[i], keys[i], creators[i] = d.ID, d.ProjectID, d.Type, d.Title, d.TitleKey, d.CreatedBy
		gates[i], created[i] = int32(d.Gate), ts(d.CreatedAt)
	}
	_, err := q.db.Exec(ctx,
		`INSERT INTO documents (id, project_id, gate, type, title, title_key, created_by, created_at, latest_version)
		 SELECT id, project_id, gate, type, title, title_key, created_by, created_at, 0
		 FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
		   WITH ORDINALITY AS d(id, project_id, gate, type, title, title_key, created_by, created_at, ord)
		 ORDER BY ord`, // seq follows the order given
		ids, projectIDs, gates, types, titles, keys, creators, created)
	return check("insert documents", err)
}

// addVersions advances each document from number-1 to number and inserts the versions of the
// documents it advanced, in one statement; the caller compares the counts. The versions are
// inserted in the order given, so seq follows it.
const addVersions = `WITH new AS (
	SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::bytea[], $5::text[], $6::bigint[], $7::text[], $8::text[],
		$9::text[], $10::text[], $11::timestamptz[])
		WITH ORDINALITY AS v(document_id, number, project_id, content, content_hash, size, author_user_id, agent_run_id,
			agent_role, change_note, created_at, ord)
), advanced AS (
	UPDATE documents d SET latest_version = new.number
	FROM new WHERE d.id = new.document_id AND d.project_id = new.project_id AND d.latest_version = new.number - 1
	RETURNING d.id
), inserted AS (
	INSERT INTO versions (document_id, number, project_id, content, content_hash, size, author_user_id, agent_run_id,
		agent_role, change_note, created_at)
	SELECT document_id, number, project_id, content, content_hash, size, author_user_id, agent_run_id, agent_role,
		change_note, created_at
	FROM new WHERE document_id IN (SELECT id FROM advanced) ORDER BY ord
	RETURNING 1
)
SELECT (SELECT count(*) FROM advanced), (SELECT count(*) FROM inserted),
	(SELECT count(*) FROM documents d JOIN new ON d.id = new.document_id AND d.project_id = new.project_id)`

// AddVersions implements store.Queries. Outside Write it runs in a transaction of its own, so
// that a conflict stores nothing.
func (q *queries) AddVersions(ctx context.Context, versions []store.Version) error {
	if len(versions) == 0 {
		return nil
	}
	if q.pool != nil {
		return pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error { return (&queries{db: tx}).AddVersions(ctx, versions) })
	}
	n := len(versions)
	docIDs, projectIDs, hashes, authors, runs, roles, notes := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	numbers, sizes, contents, created := make([]int32, n), make([]int64, n), make([][]byte, n), make([]time.Time, n)
	for i, v := range versions {
		docIDs[i], projectIDs[i], hashes[i], authors[i], runs[i], roles[i], notes[i] = v.DocumentID, v.ProjectID, v.ContentHash, v.AuthorUserID, v.AgentRunID, v.AgentRole, v.ChangeNote
		numbers[i], sizes[i], created[i] = int32(v.Number), v.Size, ts(v.CreatedAt)
		contents[i] = v.Content
		if contents[i] == nil {
			contents[i] = []byte{} // NOT NULL: an empty document is empty, not null
		}
	}
	var advanced, inserted, existing int
	err := q.db.QueryRow(ctx, addVersions, docIDs, numbers, projectIDs, contents, hashes, sizes, authors, runs, roles, notes, created).
		Scan(&advanced, &inserted, &existing)
	if err != nil {
		return check("add versions", err)
	}
	switch {
	case existing < n:
		return store.ErrNotFound
	case advanced < n || inserted < n:
		return store.ErrConflict
	}
	return nil
}

const selectDocument = `SELECT d.id, d.project_id, d.gate, d.type, d.title, d.title_key, d.created_by, d.created_at, d.seq,
	v.number, v.content_hash, v.size, v.author_user_id, v.agent_run_id, v.agent_role, v.change_note, v.created_at, v.seq`

const fromDocuments = ` FROM documents d JOIN versions v ON v.document_id = d.id AND v.number = d.latest_version `

func scanDocument(r pgx.Row, content bool) (store.Document, error) {
	var d store.Document
	dest := []any{&d.ID, &d.ProjectID, &d.Gate, &d.Type, &d.Title, &d.TitleKey, &d.CreatedBy, &d.CreatedAt, &d.Seq,
		&d.Latest.Number, &d.Latest.ContentHash, &d.Latest.Size, &d.Latest.AuthorUserID, &d.Latest.AgentRunID,
		&d.Latest.AgentRole, &d.Latest.ChangeNote, &d.Latest.CreatedAt, &d.Latest.Seq}
	if content {
		dest = append(dest, &d.Latest.Content)
	}
	err := r.Scan(dest...)
	d.CreatedAt, d.Latest.CreatedAt = ts(d.CreatedAt), ts(d.Latest.CreatedAt)
	d.Latest.DocumentID, d.Latest.ProjectID = d.ID, d.ProjectID
	return d, err
}

func scanDocuments(rows pgx.Rows, err error) ([]store.Document, error) {
	return collect(rows, err, func(r pgx.Row) (store.Document, error) { return scanDocument(r, false) })
}

// DocumentsByKey implements store.Queries.
func (q *queries) DocumentsByKey(ctx context.Context, projectID string, keys []store.DocumentKey) ([]store.Document, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	types, titleKeys := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		types[i], titleKeys[i] = k.Type, k.TitleKey
	}
	rows, err := q.db.Query(ctx, selectDocument+fromDocuments+
		`WHERE d.project_id = $1 AND (d.type, d.title_key) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
		projectID, types, titleKeys)
	docs, err := scanDocuments(rows, err)
	return docs, check("documents by key", err)
}

// Document implements store.Queries.
func (q *queries) Document(ctx context.Context, projectID, id string, withContent bool) (store.Document, error) {
	query := selectDocument
	if withContent {
		query += `, v.content`
	}
	d, err := scanDocument(q.db.QueryRow(ctx, query+fromDocuments+`WHERE d.project_id = $1 AND d.id = $2`, projectID, id), withContent)
	if err != nil {
		return store.Document{}, check("document", err)
	}
	return d, nil
}

// Documents implements store.Queries.
func (q *queries) Documents(ctx context.Context, projectID string, f store.DocumentFilter) ([]store.Document, error) {
	query, args := selectDocument+fromDocuments+`WHERE d.project_id = $1`, []any{projectID}
	if f.Type != "" {
		args = append(args, f.Type)
		query += fmt.Sprintf(` AND d.type = $%d`, len(args))
	}
	if f.Gate != 0 {
		args = append(args, f.Gate)
		query += fmt.Sprintf(` AND d.gate = $%d`, len(args))
	}
	if !f.ChangedSince.IsZero() {
		args = append(args, ts(f.ChangedSince))
		query += fmt.Sprintf(` AND v.created_at >= $%d`, len(args))
	}
	if f.After != nil {
		args = append(args, f.After.Type, f.After.TitleKey)
		query += fmt.Sprintf(` AND (d.type, d.title_key) > ($%d, $%d)`, len(args)-1, len(args))
	}
	query += ` ORDER BY d.type, d.title_key`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := q.db.Query(ctx, query, args...)
	docs, err := scanDocuments(rows, err)
	return docs, check("documents", err)
}

const selectVersion = `SELECT document_id, project_id, number, content_hash, size, author_user_id, agent_run_id, agent_role,
	change_note, created_at, seq`

func scanVersion(r pgx.Row, content bool) (store.Version, error) {
	var v store.Version
	dest := []any{&v.DocumentID, &v.ProjectID, &v.Number, &v.ContentHash, &v.Size, &v.AuthorUserID, &v.AgentRunID,
		&v.AgentRole, &v.ChangeNote, &v.CreatedAt, &v.Seq}
	if content {
		dest = append(dest, &v.Content)
	}
	err := r.Scan(dest...)
	v.CreatedAt = ts(v.CreatedAt)
	return v, err
}

func scanVersions(rows pgx.Rows, err error) ([]store.Version, error) {
	return collect(rows, err, func(r pgx.Row) (store.Version, error) { return scanVersion(r, false) })
}

// Version implements store.Queries.
func (q *queries) Version(ctx context.Context, projectID, documentID string, number int) (store.Version, error) {
	v, err := scanVersion(q.db.QueryRow(ctx, selectVersion+`, content FROM versions
		WHERE project_id = $1 AND document_id = $2 AND number = $3`, projectID, documentID, number), true)
	if err != nil {
		return store.Version{}, check("version", err)
	}
	return v, nil
}

// Versions implements store.Queries.
func (q *queries) Versions(ctx context.Context, projectID, documentID string, before, limit int) ([]store.Version, error) {
	query, args := selectVersion+` FROM versions WHERE project_id = $1 AND document_id = $2`, []any{projectID, documentID}
	if before > 0 {
		args = append(args, before)
		query += fmt.Sprintf(` AND number < $%d`, len(args))
	}
	query += ` ORDER BY number DESC`
	if limit > 0 {
		args = append(args, limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := q.db.Query(ctx, query, args...)
	versions, err := scanVersions(rows, err)
	return versions, check("versions", err)
}

// History implements store.Queries.
func (q *queries) History(ctx context.Context, projectID string, after, upTo int64, limit int) ([]store.Version, error) {
	if limit <= 0 {
		return nil, nil
	}
	query, args := selectVersion+` FROM versions WHERE project_id = $1 AND seq > $2`, []any{projectID, after, limit}
	if upTo > 0 {
		args = append(args, upTo)
		query += ` AND seq <= $4`
	}
	rows, err := q.db.Query(ctx, query+` ORDER BY seq LIMIT $3`, args...)
	versions, err := scanVersions(rows, err)
	return versions, check("history", err)
}

// Contents implements store.Queries.
func (q *queries) Contents(ctx context.Context, projectID string, refs []store.VersionRef) (map[store.VersionRef][]byte, error) {
	if len(refs) == 0 {
		return map[store.VersionRef][]byte{}, nil
	}
	docIDs, numbers := make([]string, len(refs)), make([]int32, len(refs))
	for i, r := range refs {
		docIDs[i], numbers[i] = r.DocumentID, int32(r.Number)
	}
	rows, err := q.db.Query(ctx, `SELECT document_id, number, content FROM versions
		WHERE project_id = $1 AND (document_id, number) IN (SELECT * FROM unnest($2::text[], $3::int[]))`,
		projectID, docIDs, numbers)
	if err != nil {
		return nil, check("contents", err)
	}
	out := make(map[store.VersionRef][]byte, len(refs))
	var (
		ref     store.VersionRef
		content []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&ref.DocumentID, &ref.Number, &content}, func() error {
		out[ref] = content
		content = nil // the next row scans into a fresh slice
		return nil
	})
	return out, check("contents", err)
}

// PutIdempotent implements store.Queries.
func (q *queries) PutIdempotent(ctx context.Context, r store.Idempotent) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO idempotency_keys (project_id, key, request_hash, result, created_at) VALUES ($1, $2, $3, $4, $5)`,
		r.ProjectID, r.Key, r.RequestHash, r.Result, ts(r.CreatedAt))
	return check("put idempotent", err)
}

// Idempotent implements store.Queries.
func (q *queries) Idempotent(ctx context.Context, projectID, key string) (store.Idempotent, error) {
	var r store.Idempotent
	err := q.db.QueryRow(ctx,
		`SELECT project_id, key, request_hash, result, created_at FROM idempotency_keys WHERE project_id = $1 AND key = $2`,
		projectID, key).Scan(&r.ProjectID, &r.Key, &r.RequestHash, &r.Result, &r.CreatedAt)
	r.CreatedAt = ts(r.CreatedAt)
	return r, check("idempotent", err)
}

// collect scans every row of a Query's result (rows, err) with scan.
func collect[T any](rows pgx.Rows, err error, scan func(pgx.Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}

// check maps err to the store's errors: no row is ErrNotFound, a unique violation (a taken key)
// ErrAlreadyExists, a foreign key violation (a version of a missing document) ErrNotFound.
// Other errors are wrapped with op.
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
