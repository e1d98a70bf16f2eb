// Package store is the persistence boundary of the auth service: users, password-reset tokens
// and the durable list of ended sessions (revocations). Live sessions and refresh tokens live in
// Redis (see the sessions file of package auth), not here. Two implementations satisfy Store — postgres (pgx/v5, production) and sqlite (modernc,
// the embedded default) — and both must pass the storetest conformance suite.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when the requested user or token does not exist (or is no longer
// usable, for reset tokens).
var ErrNotFound = errors.New("store: not found")

// ErrEmailTaken is returned by CreateUser when another user already has the email.
var ErrEmailTaken = errors.New("store: email already registered")

// User is an account. Email is stored normalised (trimmed, lower-case) by the caller; the store
// enforces its uniqueness.
type User struct {
	ID           string
	Email        string
	Name         string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// PasswordReset is a pending reset. Only the SHA-256 hash of the token is ever stored.
type PasswordReset struct {
	TokenHash []byte
	UserID    string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Revocation records ended sessions: one session, or every session of a user that started at
// or before EndedAt (logout-all, password reset: the ids of those sessions are in Redis, which
// may be down). Recording one again keeps the later of each time.
type Revocation struct {
	UserID string
	// SessionID is the ended session; "" means every session of UserID that started at or
	// before EndedAt.
	SessionID string
	EndedAt   time.Time
	// AccessUntil is when the access tokens the entry refuses have all expired: verifiers need
	// the entry until then (Revoked lists it).
	AccessUntil time.Time
	// RefreshUntil is when the refresh tokens of the ended sessions have all expired: refresh
	// consults the entry until then (SessionRevoked), and then it is deleted.
	RefreshUntil time.Time
}

// Store persists users, password-reset tokens and revocations.
type Store interface {
	// CreateUser inserts u. It returns ErrEmailTaken if the email is already registered.
	CreateUser(ctx context.Context, u User) error
	// UserByEmail returns the user with the normalised email, or ErrNotFound.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UserByID returns the user with the id, or ErrNotFound.
	UserByID(ctx context.Context, id string) (User, error)
	// LookupUsers returns the users whose normalised email or id is listed, in no order.
	LookupUsers(ctx context.Context, emails, ids []string) ([]User, error)
	// CreatePasswordReset stores a reset token hash for a user.
	CreatePasswordReset(ctx context.Context, r PasswordReset) error
	// UserByResetToken returns the user a usable reset token (one with the given hash that
	// expires after now) belongs to, without consuming it; otherwise ErrNotFound. It lets a
	// caller refuse a bogus token before doing anything costly; ResetPassword still decides.
	UserByResetToken(ctx context.Context, tokenHash []byte, now time.Time) (User, error)
	// ResetPassword atomically consumes the reset token with the given hash, sets the user's
	// password hash and records ended (with UserID set to the token's user): the reset ends
	// every session in the same transaction that changes the password. The token must exist and
	// expire after now; on success every reset token of that user is deleted (single use),
	// UpdatedAt is set to now, and the user id is returned. An unknown, used or expired token
	// returns ErrNotFound and changes nothing.
	ResetPassword(ctx context.Context, tokenHash []byte, newPasswordHash string, now time.Time, ended Revocation) (userID string, err error)
	// Revoke records each r, in one transaction (keeping the later times of one already
	// recorded), and deletes the entries past their RefreshUntil as of r.EndedAt, so the table
	// holds only what matters.
	Revoke(ctx context.Context, rs ...Revocation) error
	// Revoked lists the entries whose AccessUntil is after now, in no order.
	Revoked(ctx context.Context, now time.Time) ([]Revocation, error)
	// SessionRevoked reports whether an entry whose RefreshUntil is after now ends the session
	// of userID that started at started: its own entry, or a user entry with EndedAt at or after
	// started. A zero started (unknown) matches every user entry.
	SessionRevoked(ctx context.Context, userID, sessionID string, started, now time.Time) (bool, error)
	// Ping checks the database answers (readiness).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
