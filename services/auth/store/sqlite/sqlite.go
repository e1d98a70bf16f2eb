// Package sqlite is the SQLite implementation of store.Store (modernc.org/sqlite, pure Go), the
// embedded default. Times are stored as INTEGER microseconds since the Unix epoch, so they
// round-trip exactly as the postgres store's TIMESTAMPTZ columns do: UTC, to the microsecond.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/database/sqlitex"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a store.Store backed by one SQLite file. Its *sql.DB has a single connection (see
// database.OpenSQLite), so nothing may use s.db while a transaction is open.
type Store struct {
	db *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the database file at path and applies pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := database.OpenSQLiteMigrated(ctx, path, migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// CreateUser implements store.Store.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.PasswordHash, sqlitex.Micros(u.CreatedAt), sqlitex.Micros(u.UpdatedAt))
	// email is the only UNIQUE column of users; a duplicate id is SQLITE_CONSTRAINT_PRIMARYKEY.
	if sqlitex.ErrorCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return store.ErrEmailTaken
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

const selectUser = `SELECT id, email, name, password_hash, created_at, updated_at FROM users `

// UserByEmail implements store.Store.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return s.user(ctx, selectUser+"WHERE email = ?", email)
}

// UserByID implements store.Store.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	return s.user(ctx, selectUser+"WHERE id = ?", id)
}

func (s *Store) user(ctx context.Context, query, arg string) (store.User, error) {
	var (
		u                store.User
		created, updated int64
	)
	err := s.db.QueryRowContext(ctx, query, arg).
		Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user: %w", err)
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return u, nil
}

// LookupUsers implements store.Store. The lists travel as JSON arrays, so the statement is the
// same whatever their length.
func (s *Store) LookupUsers(ctx context.Context, emails, ids []string) ([]store.User, error) {
	emailJSON, _ := json.Marshal(emails)
	idJSON, _ := json.Marshal(ids)
	rows, err := s.db.QueryContext(ctx, selectUser+
		`WHERE email IN (SELECT value FROM json_each(?)) OR id IN (SELECT value FROM json_each(?))`,
		string(emailJSON), string(idJSON))
	if err != nil {
		return nil, fmt.Errorf("lookup users: %w", err)
	}
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		var (
			u                store.User
			created, updated int64
		)
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &created, &updated); err != nil {
			return nil, fmt.Errorf("lookup users: %w", err)
		}
		u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
		users = append(users, u)
	}
	return users, rows.Err()
}

// CreatePasswordReset implements store.Store. An unknown user is ErrNotFound.
func (s *Store) CreatePasswordReset(ctx context.Context, r store.PasswordReset) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO password_resets (token_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)`,
		r.TokenHash, r.UserID, sqlitex.Micros(r.ExpiresAt), sqlitex.Micros(r.CreatedAt))
	if sqlitex.ErrorCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("create password reset: %w", err)
	}
	return nil
}

// UserByResetToken implements store.Store.
func (s *Store) UserByResetToken(ctx context.Context, tokenHash []byte, now time.Time) (store.User, error) {
	var (
		u                store.User
		created, updated int64
	)
	err := s.db.QueryRowContext(ctx,
		`SELECT u.id, u.email, u.name, u.password_hash, u.created_at, u.updated_at
		 FROM password_resets r JOIN users u ON u.id = r.user_id
		 WHERE r.token_hash = ? AND r.expires_at > ?`, tokenHash, sqlitex.Micros(now)).
		Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("user by reset token: %w", err)
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return u, nil
}

// ResetPassword implements store.Store.
func (s *Store) ResetPassword(ctx context.Context, tokenHash []byte, newPasswordHash string, now time.Time, ended store.Revocation) (string, error) {
	userID, err := s.resetPassword(ctx, tokenHash, newPasswordHash, sqlitex.Micros(now), ended)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("reset password: %w", err)
	}
	return userID, err
}

func (s *Store) resetPassword(ctx context.Context, tokenHash []byte, newPasswordHash string, now int64, ended store.Revocation) (string, error) {
	// BEGIN IMMEDIATE (database.OpenSQLite sets _txlock): the write lock is held from the start,
	// so concurrent resets with one token run one after the other and only the first finds it.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer func() { _ = tx.Rollback() }()

	var userID string
	err = tx.QueryRowContext(ctx,
		`DELETE FROM password_resets WHERE token_hash = ? AND expires_at > ? RETURNING user_id`,
		tokenHash, now).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`,
		newPasswordHash, now, userID); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM password_resets WHERE user_id = ?`, userID); err != nil {
		return "", err
	}
	ended.UserID = userID
	if err := revoke(ctx, tx, ended); err != nil {
		return "", err
	}
	return userID, tx.Commit()
}

// Revoke implements store.Store.
func (s *Store) Revoke(ctx context.Context, rs ...store.Revocation) error {
	if err := sqlitex.InTx(ctx, s.db, func(tx *sql.Tx) error {
		for _, r := range rs {
			if err := revoke(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	return nil
}

func revoke(ctx context.Context, tx *sql.Tx, r store.Revocation) error {
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO revoked_sessions (user_id, session_id, ended_at, access_until, refresh_until)
		 VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (user_id, session_id) DO UPDATE SET
		   ended_at = max(ended_at, excluded.ended_at),
		   access_until = max(access_until, excluded.access_until),
		   refresh_until = max(refresh_until, excluded.refresh_until)`,
		r.UserID, r.SessionID, sqlitex.Micros(r.EndedAt), sqlitex.Micros(r.AccessUntil), sqlitex.Micros(r.RefreshUntil)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM revoked_sessions WHERE refresh_until <= ?`, sqlitex.Micros(r.EndedAt))
	return err
}

// Revoked implements store.Store.
func (s *Store) Revoked(ctx context.Context, now time.Time) ([]store.Revocation, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT user_id, session_id, ended_at, access_until, refresh_until FROM revoked_sessions WHERE access_until > ?`,
		sqlitex.Micros(now))
	if err != nil {
		return nil, fmt.Errorf("revoked sessions: %w", err)
	}
	defer rows.Close()
	var list []store.Revocation
	for rows.Next() {
		var (
			v                      store.Revocation
			ended, access, refresh int64
		)
		if err := rows.Scan(&v.UserID, &v.SessionID, &ended, &access, &refresh); err != nil {
			return nil, fmt.Errorf("revoked sessions: %w", err)
		}
		v.EndedAt, v.AccessUntil, v.RefreshUntil = fromMicros(ended), fromMicros(access), fromMicros(refresh)
		list = append(list, v)
	}
	return list, rows.Err()
}

// SessionRevoked implements store.Store.
func (s *Store) SessionRevoked(ctx context.Context, userID, sessionID string, started, now time.Time) (bool, error) {
	var revoked bool
	err := s.db.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE user_id = ? AND refresh_until > ?
		   AND (session_id = ? OR (session_id = '' AND ended_at >= ?)))`,
		userID, sqlitex.Micros(now), sessionID, sqlitex.Micros(started)).Scan(&revoked)
	if err != nil {
		return false, fmt.Errorf("session revoked: %w", err)
	}
	return revoked, nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close implements store.Store.
func (s *Store) Close() error { return s.db.Close() }
