// Package postgres is the PostgreSQL implementation of store.Store (pgx/v5), used in production.
// Its tables live in the "auth" schema of the shared database.
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
	"github.com/fuzzyllama/fuzzyllama/services/auth/store"
)

// Schema is the PostgreSQL schema the auth service owns.
const Schema = "auth"

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a store.Store backed by a pgx pool.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url, creates the auth schema if needed and applies pending
// migrations.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := database.OpenPostgresMigrated(ctx, url, Schema, migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// ts is how a time is stored: UTC, at the microsecond precision of TIMESTAMPTZ.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// CreateUser implements store.Store.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO users (id, email, name, password_hash, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6)`,
		u.ID, u.Email, u.Name, u.PasswordHash, ts(u.CreatedAt), ts(u.UpdatedAt))
	if isViolation(err, "23505", "users_email_key") { // unique_violation
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
	return s.user(ctx, selectUser+"WHERE email = $1", email)
}

// UserByID implements store.Store.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	return s.user(ctx, selectUser+"WHERE id = $1", id)
}

func (s *Store) user(ctx context.Context, query, arg string) (store.User, error) {
	var u store.User
	err := s.pool.QueryRow(ctx, query, arg).
		Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user: %w", err)
	}
	u.CreatedAt, u.UpdatedAt = ts(u.CreatedAt), ts(u.UpdatedAt) // pgx returns local time
	return u, nil
}

// LookupUsers implements store.Store.
func (s *Store) LookupUsers(ctx context.Context, emails, ids []string) ([]store.User, error) {
	rows, err := s.pool.Query(ctx, selectUser+"WHERE email = ANY($1) OR id = ANY($2)", emails, ids)
	if err != nil {
		return nil, fmt.Errorf("lookup users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.User, error) {
		var u store.User
		err := r.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.CreatedAt, &u.UpdatedAt)
		u.CreatedAt, u.UpdatedAt = ts(u.CreatedAt), ts(u.UpdatedAt)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("lookup users: %w", err)
	}
	return users, nil
}

// CreatePasswordReset implements store.Store. An unknown user is ErrNotFound.
func (s *Store) CreatePasswordReset(ctx context.Context, r store.PasswordReset) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO password_resets (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)`,
		r.TokenHash, r.UserID, ts(r.ExpiresAt), ts(r.CreatedAt))
	if isViolation(err, "23503", "") { // foreign_key_violation: no such user
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("create password reset: %w", err)
	}
	return nil
}

// UserByResetToken implements store.Store.
func (s *Store) UserByResetToken(ctx context.Context, tokenHash []byte, now time.Time) (store.User, error) {
	var u store.User
	err := s.pool.QueryRow(ctx,
		`SELECT u.id, u.email, u.name, u.password_hash, u.created_at, u.updated_at
		 FROM password_resets r JOIN users u ON u.id = r.user_id
		 WHERE r.token_hash = $1 AND r.expires_at > $2`, tokenHash, ts(now)).
		Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("user by reset token: %w", err)
	}
	u.CreatedAt, u.UpdatedAt = ts(u.CreatedAt), ts(u.UpdatedAt)
	return u, nil
}

// ResetPassword implements store.Store.
func (s *Store) ResetPassword(ctx context.Context, tokenHash []byte, newPasswordHash string, now time.Time, ended store.Revocation) (string, error) {
	now = ts(now)
	var userID string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Deleting the token claims it: of concurrent resets with one token, the others wait on
		// the row lock and then find the row gone, so exactly one goes on.
		err := tx.QueryRow(ctx,
			`DELETE FROM password_resets WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id`,
			tokenHash, now).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1`,
			userID, newPasswordHash, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM password_resets WHERE user_id = $1`, userID); err != nil {
			return err
		}
		ended.UserID = userID
		return revoke(ctx, tx, ended)
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("reset password: %w", err)
	}
	return userID, nil
}

// Revoke implements store.Store.
func (s *Store) Revoke(ctx context.Context, rs ...store.Revocation) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, r := range rs {
			if err := revoke(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	return nil
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func revoke(ctx context.Context, db execer, r store.Revocation) error {
	if _, err := db.Exec(ctx,
		`INSERT INTO revoked_sessions (user_id, session_id, ended_at, access_until, refresh_until)
		 VALUES ($1, $2, $3, $4, $5)
		 ON CONFLICT (user_id, session_id) DO UPDATE SET
		   ended_at = GREATEST(revoked_sessions.ended_at, EXCLUDED.ended_at),
		   access_until = GREATEST(revoked_sessions.access_until, EXCLUDED.access_until),
		   refresh_until = GREATEST(revoked_sessions.refresh_until, EXCLUDED.refresh_until)`,
		r.UserID, r.SessionID, ts(r.EndedAt), ts(r.AccessUntil), ts(r.RefreshUntil)); err != nil {
		return err
	}
	_, err := db.Exec(ctx, `DELETE FROM revoked_sessions WHERE refresh_until <= $1`, ts(r.EndedAt))
	return err
}

// Revoked implements store.Store.
func (s *Store) Revoked(ctx context.Context, now time.Time) ([]store.Revocation, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT user_id, session_id, ended_at, access_until, refresh_until FROM revoked_sessions WHERE access_until > $1`, ts(now))
	if err != nil {
		return nil, fmt.Errorf("revoked sessions: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Revocation, error) {
		var v store.Revocation
		err := r.Scan(&v.UserID, &v.SessionID, &v.EndedAt, &v.AccessUntil, &v.RefreshUntil)
		v.EndedAt, v.AccessUntil, v.RefreshUntil = ts(v.EndedAt), ts(v.AccessUntil), ts(v.RefreshUntil)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("revoked sessions: %w", err)
	}
	return list, nil
}

// SessionRevoked implements store.Store.
func (s *Store) SessionRevoked(ctx context.Context, userID, sessionID string, started, now time.Time) (bool, error) {
	var revoked bool
	err := s.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE user_id = $1 AND refresh_until > $4
		   AND (session_id = $2 OR (session_id = '' AND ended_at >= $3)))`,
		userID, sessionID, ts(started), ts(now)).Scan(&revoked)
	if err != nil {
		return false, fmt.Errorf("session revoked: %w", err)
	}
	return revoked, nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close implements store.Store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// isViolation reports whether err is a PostgreSQL error with the SQLSTATE code, on the named
// constraint unless constraint is "".
func isViolation(err error, code, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code && (constraint == "" || pgErr.ConstraintName == constraint)
}
