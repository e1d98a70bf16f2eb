// Package sqlite is the SQLite implementation of store.Store (modernc.org/sqlite, pure Go), the
// embedded default. It behaves as the postgres store does; batches travel as one JSON argument
// read with json_each (content hex-encoded, since JSON cannot carry bytes), so a batch of N
// documents costs the same few statements whatever N is. A version's seq is its rowid.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/database/sqlitex"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a store.Store backed by one SQLite file. Its *sql.DB has a single connection (see
// database.OpenSQLite), so nothing may use the Store while a transaction of Write is open.
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

// Write implements store.Store. SQLite has one writer at a time (BEGIN IMMEDIATE, see
// database.OpenSQLite), so a project's writes are serialised as the contract asks.
func (s *Store) Write(ctx context.Context, _ string, fn func(q store.Queries) error) error {
	return sqlitex.InTx(ctx, s.db, func(tx *sql.Tx) error { return fn(&queries{db: tx}) })
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close implements store.Store.
func (s *Store) Close() error { return s.db.Close() }

// queries implements store.Queries on the database or, in Write, on a transaction.
type queries struct {
	db sqlitex.DBTX
}

// jsonArg is v as a JSON TEXT argument for json_each. (Given as a BLOB, JSON functions would
// read it as JSONB.)
func jsonArg(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// InsertDocuments implements store.Queries.
func (q *queries) InsertDocuments(ctx context.Context, docs []store.Document) error {
	if len(docs) == 0 {
		return nil
	}
	rows := make([][8]any, len(docs))
	for i, d := range docs {
		rows[i] = [8]any{d.ID, d.ProjectID, d.Gate, d.Type, d.Title, d.TitleKey, d.CreatedBy, sqlitex.Micros(d.CreatedAt)}
	}
	arg, err := jsonArg(rows)
	if err != nil {
		return fmt.Errorf("insert documents: %w", err)
	}
	_, err = q.db.ExecContext(ctx,
		`INSERT INTO documents (id, project_id, gate, type, title, title_key, created_by, created_at, latest_version)
		 SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, 0 FROM json_each(?) ORDER BY key`, arg) // the rowid (seq) follows the order given
	return check("insert documents", err)
}

// AddVersions implements store.Queries: the documents are advanced and the versions inserted
// under one savepoint (or transaction), undone together on a conflict.
func (q *queries) AddVersions(ctx context.Context, versions []store.Version) error {
	if len(versions) == 0 {
		return nil
	}
	rows := make([][11]any, len(versions))
	for i, v := range versions {
		rows[i] = [11]any{v.DocumentID, v.Number, v.ProjectID, hex.EncodeToString(v.Content), v.ContentHash, v.Size,
			v.AuthorUserID, v.AgentRunID, v.AgentRole, v.ChangeNote, sqlitex.Micros(v.CreatedAt)}
	}
	arg, err := jsonArg(rows)
	if err != nil {
		return fmt.Errorf("add versions: %w", err)
	}
	err = sqlitex.Atomically(ctx, q.db, func(db sqlitex.DBTX) error {
		var existing int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM documents d JOIN json_each(?) v
			ON d.id = v.value->>0 AND d.project_id = v.value->>2`, arg).Scan(&existing); err != nil {
			return err
		}
		if existing < len(versions) {
			return store.ErrNotFound
		}
		res, err := db.ExecContext(ctx, `UPDATE documents SET latest_version = v.value->>1
			FROM json_each(?) v
			WHERE documents.id = v.value->>0 AND documents.project_id = v.value->>2 AND documents.latest_version = (v.value->>1) - 1`, arg)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n < int64(len(versions)) {
			return store.ErrConflict
		}
		// unhex: content travels hex-encoded; an empty string unhexes to an empty BLOB.
		_, err = db.ExecContext(ctx, `INSERT INTO versions (document_id, number, project_id, content, content_hash, size,
				author_user_id, agent_run_id, agent_role, change_note, created_at)
			SELECT value->>0, value->>1, value->>2, unhex(value->>3), value->>4, value->>5, value->>6, value->>7, value->>8,
				value->>9, value->>10
			FROM json_each(?) ORDER BY key`, arg) // the rowid (seq) follows the order given
		return err
	})
	return check("add versions", err)
}

const selectDocument = `SELECT d.id, d.project_id, d.gate, d.type, d.title, d.title_key, d.created_by, d.created_at, d.rowid,
	v.number, v.content_hash, v.size, v.author_user_id, v.agent_run_id, v.agent_role, v.change_note, v.created_at, v.rowid`

const fromDocuments = ` FROM documents d JOIN versions v ON v.document_id = d.id AND v.number = d.latest_version `

func scanDocument(r sqlitex.Scanner, content bool) (store.Document, error) {
	var d store.Document
	dest := []any{&d.ID, &d.ProjectID, &d.Gate, &d.Type, &d.Title, &d.TitleKey, &d.CreatedBy, sqlitex.ScanTime(&d.CreatedAt), &d.Seq,
		&d.Latest.Number, &d.Latest.ContentHash, &d.Latest.Size, &d.Latest.AuthorUserID, &d.Latest.AgentRunID,
		&d.Latest.AgentRole, &d.Latest.ChangeNote, sqlitex.ScanTime(&d.Latest.CreatedAt), &d.Latest.Seq}
	if content {
		dest = append(dest, blob{&d.Latest.Content})
	}
	err := r.Scan(dest...)
	d.Latest.DocumentID, d.Latest.ProjectID = d.ID, d.ProjectID
	return d, err
}

func scanDocuments(rows *sql.Rows, err error) ([]store.Document, error) {
	return sqlitex.Collect(rows, err, func(r sqlitex.Scanner) (store.Document, error) { return scanDocument(r, false) })
}

// DocumentsByKey implements store.Queries.
func (q *queries) DocumentsByKey(ctx context.Context, projectID string, keys []store.DocumentKey) ([]store.Document, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	pairs := make([][2]string, len(keys))
	for i, k := range keys {
		pairs[i] = [2]string{k.Type, k.TitleKey}
	}
	arg, err := jsonArg(pairs)
	if err != nil {
		return nil, fmt.Errorf("documents by key: %w", err)
	}
	rows, err := q.db.QueryContext(ctx, selectDocument+fromDocuments+
		`WHERE d.project_id = ? AND (d.type, d.title_key) IN (SELECT value->>0, value->>1 FROM json_each(?))`, projectID, arg)
	docs, err := scanDocuments(rows, err)
	return docs, check("documents by key", err)
}

// Document implements store.Queries.
func (q *queries) Document(ctx context.Context, projectID, id string, withContent bool) (store.Document, error) {
	query := selectDocument
	if withContent {
		query += `, v.content`
	}
	d, err := scanDocument(q.db.QueryRowContext(ctx, query+fromDocuments+`WHERE d.project_id = ? AND d.id = ?`, projectID, id), withContent)
	if err != nil {
		return store.Document{}, check("document", err)
	}
	return d, nil
}

// Documents implements store.Queries.
func (q *queries) Documents(ctx context.Context, projectID string, f store.DocumentFilter) ([]store.Document, error) {
	query, args := selectDocument+fromDocuments+`WHERE d.project_id = ?`, []any{projectID}
	if f.Type != "" {
		query += ` AND d.type = ?`
		args = append(args, f.Type)
	}
	if f.Gate != 0 {
		query += ` AND d.gate = ?`
		args = append(args, f.Gate)
	}
	if !f.ChangedSince.IsZero() {
		query += ` AND v.created_at >= ?`
		args = append(args, sqlitex.Micros(f.ChangedSince))
	}
	if f.After != nil {
		query += ` AND (d.type, d.title_key) > (?, ?)`
		args = append(args, f.After.Type, f.After.TitleKey)
	}
	query += ` ORDER BY d.type, d.title_key`
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := q.db.QueryContext(ctx, query, args...)
	docs, err := scanDocuments(rows, err)
	return docs, check("documents", err)
}

const selectVersion = `SELECT document_id, project_id, number, content_hash, size, author_user_id, agent_run_id, agent_role,
	change_note, created_at, rowid`

func scanVersion(r sqlitex.Scanner, content bool) (store.Version, error) {
	var v store.Version
	dest := []any{&v.DocumentID, &v.ProjectID, &v.Number, &v.ContentHash, &v.Size, &v.AuthorUserID, &v.AgentRunID,
		&v.AgentRole, &v.ChangeNote, sqlitex.ScanTime(&v.CreatedAt), &v.Seq}
	if content {
		dest = append(dest, blob{&v.Content})
	}
	return v, r.Scan(dest...)
}

func scanVersions(rows *sql.Rows, err error) ([]store.Version, error) {
	return sqlitex.Collect(rows, err, func(r sqlitex.Scanner) (store.Version, error) { return scanVersion(r, false) })
}

// Version implements store.Queries.
func (q *queries) Version(ctx context.Context, projectID, documentID string, number int) (store.Version, error) {
	v, err := scanVersion(q.db.QueryRowContext(ctx, selectVersion+`, content FROM versions
		WHERE project_id = ? AND document_id = ? AND number = ?`, projectID, documentID, number), true)
	if err != nil {
		return store.Version{}, check("version", err)
	}
	return v, nil
}

// Versions implements store.Queries.
func (q *queries) Versions(ctx context.Context, projectID, documentID string, before, limit int) ([]store.Version, error) {
	query, args := selectVersion+` FROM versions WHERE project_id = ? AND document_id = ?`, []any{projectID, documentID}
	if before > 0 {
		query += ` AND number < ?`
		args = append(args, before)
	}
	query += ` ORDER BY number DESC`
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := q.db.QueryContext(ctx, query, args...)
	versions, err := scanVersions(rows, err)
	return versions, check("versions", err)
}

// History implements store.Queries.
func (q *queries) History(ctx context.Context, projectID string, after, upTo int64, limit int) ([]store.Version, error) {
	if limit <= 0 {
		return nil, nil
	}
	query, args := selectVersion+` FROM versions WHERE project_id = ? AND rowid > ?`, []any{projectID, after}
	if upTo > 0 {
		query += ` AND rowid <= ?`
		args = append(args, upTo)
	}
	rows, err := q.db.QueryContext(ctx, query+` ORDER BY rowid LIMIT ?`, append(args, limit)...)
	versions, err := scanVersions(rows, err)
	return versions, check("history", err)
}

// Contents implements store.Queries.
func (q *queries) Contents(ctx context.Context, projectID string, refs []store.VersionRef) (map[store.VersionRef][]byte, error) {
	out := make(map[store.VersionRef][]byte, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	pairs := make([][2]any, len(refs))
	for i, r := range refs {
		pairs[i] = [2]any{r.DocumentID, r.Number}
	}
	arg, err := jsonArg(pairs)
	if err != nil {
		return nil, fmt.Errorf("contents: %w", err)
	}
	rows, err := q.db.QueryContext(ctx, `SELECT document_id, number, content FROM versions
		WHERE project_id = ? AND (document_id, number) IN (SELECT value->>0, value->>1 FROM json_each(?))`, projectID, arg)
	_, err = sqlitex.Collect(rows, err, func(r sqlitex.Scanner) (struct{}, error) {
		var (
			ref     store.VersionRef
			content []byte
		)
		err := r.Scan(&ref.DocumentID, &ref.Number, blob{&content})
		out[ref] = content
		return struct{}{}, err
	})
	if err != nil {
		return nil, check("contents", err)
	}
	return out, nil
}

// PutIdempotent implements store.Queries.
func (q *queries) PutIdempotent(ctx context.Context, r store.Idempotent) error {
	_, err := q.db.ExecContext(ctx,
		`INSERT INTO idempotency_keys (project_id, key, request_hash, result, created_at) VALUES (?, ?, ?, ?, ?)`,
		r.ProjectID, r.Key, r.RequestHash, r.Result, sqlitex.Micros(r.CreatedAt))
	return check("put idempotent", err)
}

// Idempotent implements store.Queries.
func (q *queries) Idempotent(ctx context.Context, projectID, key string) (store.Idempotent, error) {
	var r store.Idempotent
	err := q.db.QueryRowContext(ctx,
		`SELECT project_id, key, request_hash, result, created_at FROM idempotency_keys WHERE project_id = ? AND key = ?`,
		projectID, key).Scan(&r.ProjectID, &r.Key, &r.RequestHash, blob{&r.Result}, sqlitex.ScanTime(&r.CreatedAt))
	return r, check("idempotent", err)
}

// blob scans a BLOB into a fresh, non-nil byte slice (an empty BLOB reads as empty, not nil,
// as in the postgres store).
type blob struct{ b *[]byte }

func (s blob) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		*s.b = append([]byte{}, v...)
	case string:
		*s.b = []byte(v)
	case nil:
		*s.b = []byte{}
	default:
		return fmt.Errorf("sqlite: content stored as %T, want BLOB", src)
	}
	return nil
}

// check maps err to the store's errors: no row is ErrNotFound, a taken key ErrAlreadyExists, a
// version of a missing document ErrNotFound; the store's own errors pass through. Other errors
// are wrapped with op.
func check(op string, err error) error {
	switch code := sqlitex.ErrorCode(err); {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, code == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return store.ErrAlreadyExists
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return store.ErrNotFound
	}
	return fmt.Errorf("%s: %w", op, err)
}
