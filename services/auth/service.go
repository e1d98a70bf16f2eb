// Package auth is the auth service: accounts, credentials, login sessions with rotating refresh
// tokens, password reset, and the keys that sign access tokens.
//
// Layers: module.go wires it, handler.go translates proto <-> domain, this file holds the domain
// rules, and package store persists users (sessions live in Redis, see sessions.go).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store"
)

// Reasons attached to Unauthenticated errors so clients can tell them apart.
const (
	ReasonRefreshRevoked = "REFRESH_TOKEN_REVOKED"
	ReasonLoginLocked    = "LOGIN_TEMPORARILY_LOCKED"
)

const resetTokenTTL = time.Hour

// Service implements the auth domain.
type Service struct {
	Store       store.Store
	Sessions    *Sessions
	Revocations *authn.Revocations
	Throttle    *LoginThrottle
	Keys        *Keyring
	Mailer      Mailer
	Logger      *slog.Logger

	Issuer, Audience string
	AccessTTL        time.Duration
	RefreshTTL       time.Duration
	// ResetURL is the frontend page that takes a reset token as ?token=.
	ResetURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// dummyHash is verified against when the email is unknown, so that a failed login takes
	// the same time whether or not the account exists.
	dummyHash string
}

// Tokens is an issued access/refresh pair.
type Tokens struct {
	Access, Refresh string
	AccessTTL       time.Duration
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) signer() authn.Signer {
	return authn.Signer{Key: s.Keys.Current, Issuer: s.Issuer, Audience: s.Audience}
}

func (s *Service) verifier() *authn.Verifier {
	return &authn.Verifier{Keys: s.Keys, Issuer: s.Issuer, Audience: s.Audience, Now: s.Now, Leeway: authn.DefaultLeeway}
}

// Register creates an account and starts its first session.
func (s *Service) Register(ctx context.Context, email, password, name string) (store.User, Tokens, error) {
	email, name = normalizeEmail(email), strings.TrimSpace(name)
	var v apperr.Violations
	checkEmail(&v, email)
	if password == "" {
		v.Add("password", "is required")
	} else {
		checkPasswordPolicy(&v, "password", password, email)
	}
	checkName(&v, name)
	if err := v.Err(); err != nil {
		return store.User{}, Tokens{}, err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return store.User{}, Tokens{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	u := store.User{ID: uuid.NewString(), Email: email, Name: name, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrEmailTaken) {
			return store.User{}, Tokens{}, apperr.AlreadyExists("an account with this email already exists")
		}
		return store.User{}, Tokens{}, err
	}
	t, err := s.startSession(ctx, u.ID)
	return u, t, err
}

// Login checks a password and starts a new session. Every failure answers the same
// "invalid email or password", so the answer never tells whether an account exists.
func (s *Service) Login(ctx context.Context, email, password, clientIP string) (store.User, Tokens, error) {
	email = normalizeEmail(email)
	var v apperr.Violations
	if email == "" {
		v.Add("email", "is required")
	}
	if password == "" {
		v.Add("password", "is required")
	}
	if err := v.Err(); err != nil {
		return store.User{}, Tokens{}, err
	}
	if wait, err := s.Throttle.Blocked(ctx, email, clientIP); err != nil {
		return store.User{}, Tokens{}, err
	} else if wait > 0 {
		return store.User{}, Tokens{}, apperr.ResourceExhausted(wait,
			"too many failed login attempts; try again in %s", wait.Round(time.Second)).WithReason(ReasonLoginLocked)
	}
	u, err := s.Store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.User{}, Tokens{}, err
	}
	hash := u.PasswordHash
	if err != nil {
		hash = s.dummyHash
	}
	ok, verr := verifyPassword(hash, password)
	if verr != nil {
		return store.User{}, Tokens{}, fmt.Errorf("user %s: %w", u.ID, verr)
	}
	if err != nil || !ok {
		if ferr := s.Throttle.Failed(ctx, email, clientIP); ferr != nil {
			s.Logger.WarnContext(ctx, "cannot count failed login", "error", ferr.Error())
		}
		return store.User{}, Tokens{}, apperr.Unauthenticated("invalid email or password")
	}
	if err := s.Throttle.Succeeded(ctx, email); err != nil {
		s.Logger.WarnContext(ctx, "cannot reset failed-login count", "error", err.Error())
	}
	t, err := s.startSession(ctx, u.ID)
	return u, t, err
}

func (s *Service) startSession(ctx context.Context, uid string) (Tokens, error) {
	sid, jti := uuid.NewString(), uuid.NewString()
	if err := s.Sessions.Create(ctx, uid, sid, jti); err != nil {
		return Tokens{}, err
	}
	return s.issue(uid, sid, jti)
}

func (s *Service) issue(uid, sid, refreshJTI string) (Tokens, error) {
	now, sg := s.now(), s.signer()
	access, err := sg.Sign(authn.TypeAccess, uid, sid, uuid.NewString(), now, s.AccessTTL)
	if err != nil {
		return Tokens{}, err
	}
	refresh, err := sg.Sign(authn.TypeRefresh, uid, sid, refreshJTI, now, s.RefreshTTL)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{Access: access, Refresh: refresh, AccessTTL: s.AccessTTL}, nil
}

// Refresh rotates a refresh token. A token that was already rotated means it was copied: the
// whole session is revoked, its access tokens included.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	if refreshToken == "" {
		var v apperr.Violations
		v.Add("refreshToken", "is required")
		return Tokens{}, v.Err()
	}
	claims, err := s.verifier().Verify(ctx, refreshToken, authn.TypeRefresh)
	if err != nil {
		return Tokens{}, apperr.Unauthenticated("invalid or expired refresh token")
	}
	uid, sid, newJTI := claims.Subject, claims.SessionID, uuid.NewString()
	switch err := s.Sessions.Rotate(ctx, uid, sid, claims.ID, newJTI); {
	case errors.Is(err, ErrRefreshReused):
		s.Logger.WarnContext(ctx, "refresh token reused: session revoked", "user_id", uid, "session_id", sid)
		if err := s.Revocations.RevokeSessions(ctx, sid); err != nil {
			return Tokens{}, err
		}
		return Tokens{}, apperr.Unauthenticated("refresh token revoked").WithReason(ReasonRefreshRevoked)
	case errors.Is(err, ErrSessionEnded):
		return Tokens{}, apperr.Unauthenticated("refresh token revoked").WithReason(ReasonRefreshRevoked)
	case err != nil:
		return Tokens{}, err
	}
	return s.issue(uid, sid, newJTI)
}

// Logout ends the caller's current session.
func (s *Service) Logout(ctx context.Context, id authn.Identity) error {
	if err := s.Sessions.End(ctx, id.UserID, id.SessionID); err != nil {
		return err
	}
	return s.Revocations.RevokeSessions(ctx, id.SessionID)
}

// LogoutAll ends every session of the caller and returns how many there were.
func (s *Service) LogoutAll(ctx context.Context, id authn.Identity) (int, error) {
	return s.endAllSessions(ctx, id.UserID)
}

func (s *Service) endAllSessions(ctx context.Context, uid string) (int, error) {
	sids, err := s.Sessions.EndAll(ctx, uid)
	if err != nil {
		return 0, err
	}
	return len(sids), s.Revocations.RevokeSessions(ctx, sids...)
}

// Me returns the caller's account.
func (s *Service) Me(ctx context.Context, id authn.Identity) (store.User, error) {
	u, err := s.Store.UserByID(ctx, id.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, apperr.Unauthenticated("account no longer exists")
	}
	return u, err
}

// lookupLimit bounds one LookupUsers call.
const lookupLimit = 100

// LookupUsers returns the accounts with the given emails or ids; unknown ones are left out.
func (s *Service) LookupUsers(ctx context.Context, emails, ids []string) ([]store.User, error) {
	if len(emails) > lookupLimit || len(ids) > lookupLimit {
		var v apperr.Violations
		v.Add("emails", fmt.Sprintf("at most %d emails and %d ids per call", lookupLimit, lookupLimit))
		return nil, v.Err()
	}
	normalized := make([]string, len(emails))
	for i, e := range emails {
		normalized[i] = normalizeEmail(e)
	}
	return s.Store.LookupUsers(ctx, normalized, ids)
}

// ForgotPasswordMessage is the one answer of ForgotPassword, whether or not the account exists.
const ForgotPasswordMessage = "If an account exists for this email, a password reset link has been sent to it."

// ForgotPassword mails a reset link if the account exists. The reply and its timing do not
// depend on that: the lookup and mail happen after the reply, in the background.
func (s *Service) ForgotPassword(ctx context.Context, email string) error {
	email = normalizeEmail(email)
	var v apperr.Violations
	checkEmail(&v, email)
	if err := v.Err(); err != nil {
		return err
	}
	// Detached from the request: the caller must not wait for (or time) the mail.
	bg := context.WithoutCancel(ctx)
	go func() {
		ctx, cancel := context.WithTimeout(bg, 30*time.Second)
		defer cancel()
		if err := s.sendReset(ctx, email); err != nil {
			s.Logger.ErrorContext(ctx, "password reset mail failed", "error", err.Error())
		}
	}()
	return nil
}

func (s *Service) sendReset(ctx context.Context, email string) error {
	u, err := s.Store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	token, hash, err := newResetToken()
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if err := s.Store.CreatePasswordReset(ctx, store.PasswordReset{TokenHash: hash, UserID: u.ID, ExpiresAt: now.Add(resetTokenTTL), CreatedAt: now}); err != nil {
		return err
	}
	return s.Mailer.Send(ctx, Mail{
		To:      u.Email,
		Subject: "Reset your FuzzyLlama password",
		Body: fmt.Sprintf("Hello %s,\n\nSomeone asked to reset the password of your FuzzyLlama account.\n"+
			"To choose a new password, open this link within one hour:\n\n%s?token=%s\n\n"+
			"If it was not you, ignore this message: your password stays as it is.\n", u.Name, s.ResetURL, token),
	})
}

// ResetPassword sets a new password with a reset token and ends every session of the account.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) error {
	var v apperr.Violations
	if token == "" {
		v.Add("token", "is required")
	}
	if newPassword == "" {
		v.Add("newPassword", "is required")
	} else {
		checkPasswordPolicy(&v, "newPassword", newPassword, "")
	}
	if err := v.Err(); err != nil {
		return err
	}
	hash, err := hashPassword(newPassword)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(token))
	uid, err := s.Store.ResetPassword(ctx, sum[:], hash, s.now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		var v apperr.Violations
		v.Add("token", "is invalid, already used or expired; request a new reset link")
		return v.Err()
	} else if err != nil {
		return err
	}
	_, err = s.endAllSessions(ctx, uid)
	return err
}

// newResetToken returns a random token for the mail and the SHA-256 hash that is stored.
func newResetToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], nil
}
