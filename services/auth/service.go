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
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/outage"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store"
)

// Reasons attached to Unauthenticated errors so clients can tell them apart.
const (
	// ReasonRefreshRevoked: the refresh token had already been used (it was copied), so its
	// session was ended.
	ReasonRefreshRevoked = "REFRESH_TOKEN_REVOKED"
	// ReasonSessionEnded: the refresh token's session ended (logout, logout-all, password
	// reset) or expired; signing in again starts a new one.
	ReasonSessionEnded = "SESSION_ENDED"
	ReasonLoginLocked  = "LOGIN_TEMPORARILY_LOCKED"
	// ReasonSessionsEnded: a logout-all or password reset ended every session of the account
	// while this login was being checked; signing in again starts a session.
	ReasonSessionsEnded = "SESSIONS_ENDED"
)

const (
	resetTokenTTL = time.Hour
	// mailTimeout bounds one background reset mail, lookup and delivery included.
	mailTimeout = 30 * time.Second
	// commitTimeout bounds the work that must follow a change once it is made (revoking
	// sessions, clearing counters), done even if the client has hung up.
	commitTimeout = 5 * time.Second
)

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
	// ServiceCredential is the shared secret FuzzyLlama services present for delegated tokens
	// (IssueServiceToken); empty refuses every request for one.
	ServiceCredential string
	// ResetURL is the frontend page that takes a reset token as ?token=.
	ResetURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// dummyHash is verified against when the email is unknown, so that a failed login takes
	// the same time whether or not the account exists.
	dummyHash string
	// hashing bounds concurrent argon2id work (see hashLimiter).
	hashing *hashLimiter

	// mail counts the reset mails being sent in the background; closed refuses new ones once
	// Close has begun waiting.
	mu     sync.Mutex
	closed bool
	mail   sync.WaitGroup

	// resetMails records outages that keep reset mails from going out (mailOutage).
	outageOnce sync.Once
	resetMails *outage.Log

	// passwordChecked, set by tests, runs after each password check.
	passwordChecked func()
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

// detached returns a context for work that must finish once begun, even if the client hangs up.
func detached(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), timeout)
}

// hash hashes a new password within the argon2id concurrency bound.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.hashing.acquire(ctx); err != nil {
		return "", err
	}
	defer s.hashing.release()
	return hashPassword(password)
}

// verify checks a password within the argon2id concurrency bound.
func (s *Service) verify(ctx context.Context, hash, password string) (bool, error) {
	if err := s.hashing.acquire(ctx); err != nil {
		return false, err
	}
	ok, err := verifyPassword(hash, password)
	s.hashing.release()
	if s.passwordChecked != nil {
		s.passwordChecked()
	}
	return ok, err
}

// Register creates an account and starts its first session.
//
// Sessions live in Redis, so Register first checks that Redis answers: while it is down no
// account is created (Unavailable, try again), and a retry once it is back registers as if
// nothing happened. Should Redis fail between that check and the session (the account exists,
// without a session), the same registration retried — same email and password, within
// registrationRetry of the account's creation, the account never having had a session — signs
// in instead of answering AlreadyExists, so the person is not stuck. That retry is a login: it
// goes through the login throttle, and a wrong password answers AlreadyExists as before.
func (s *Service) Register(ctx context.Context, email, password, name, clientIP string) (store.User, Tokens, error) {
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
	hash, err := s.hash(ctx, password)
	if err != nil {
		return store.User{}, Tokens{}, err
	}
	if err := s.Sessions.Ping(ctx); err != nil {
		return store.User{}, Tokens{}, sessionsDown(err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	u := store.User{ID: uuid.NewString(), Email: email, Name: name, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrEmailTaken) {
			if u, t, retried, err := s.retryRegistration(ctx, email, password, clientIP); retried {
				return u, t, err
			}
			return store.User{}, Tokens{}, apperr.AlreadyExists("an account with this email already exists")
		}
		return store.User{}, Tokens{}, err
	}
	t, err := s.startSession(ctx, u.ID, 0) // a new account: its sessions were never ended
	return u, t, sessionsDown(err)
}

// registrationRetry is how long after an account's creation a registration that could not
// start its session may be retried (see Register).
const registrationRetry = time.Hour

// retryRegistration signs in a registration retried for an account that was created moments
// ago but never had a session (Redis failed after the account was created). retried is false
// when the email is someone else's registration: the caller answers AlreadyExists.
func (s *Service) retryRegistration(ctx context.Context, email, password, clientIP string) (u store.User, t Tokens, retried bool, err error) {
	existing, err := s.Store.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, Tokens{}, false, nil
	case err != nil:
		return store.User{}, Tokens{}, true, err
	case s.now().Sub(existing.CreatedAt) > registrationRetry:
		return store.User{}, Tokens{}, false, nil
	}
	switch started, err := s.Sessions.Started(ctx, existing.ID); {
	case err != nil:
		return store.User{}, Tokens{}, true, sessionsDown(err)
	case started:
		return store.User{}, Tokens{}, false, nil
	}
	u, t, err = s.Login(ctx, email, password, clientIP)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindUnauthenticated {
		return store.User{}, Tokens{}, false, nil // not the same password: not a retry
	}
	return u, t, true, err
}

// Login checks a password and starts a new session. Every failure answers the same
// "invalid email or password", so the answer never tells whether an account exists.
func (s *Service) Login(ctx context.Context, email, password, clientIP string) (store.User, Tokens, error) {
	email = normalizeEmail(email)
	var v apperr.Violations
	checkEmailShape(&v, email)
	if password == "" {
		v.Add("password", "is required")
	}
	if err := v.Err(); err != nil {
		return store.User{}, Tokens{}, err
	}
	// The attempt is counted before the password is checked, in the script that enforces the
	// limit: of a burst of parallel guesses, only as many as the limit allows reach the check.
	if err := s.Throttle.Attempt(ctx, email, clientIP); err != nil {
		return store.User{}, Tokens{}, sessionsDown(err)
	}
	u, gen, ok, err := s.checkLogin(ctx, email, password)
	if err != nil {
		// Nothing was tested, so nothing was learnt: give the attempt back.
		if rerr := s.Throttle.Released(ctx, email, clientIP); rerr != nil {
			s.Logger.WarnContext(ctx, "cannot release a login attempt", "error", rerr.Error())
		}
		return store.User{}, Tokens{}, sessionsDown(err)
	}
	if ok {
		// A password reset may have committed since the lookup, before gen was read (then
		// Create cannot notice it): the password checked must still be the account's.
		cur, err := s.Store.UserByID(ctx, u.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.User{}, Tokens{}, err
		}
		ok = err == nil && cur.PasswordHash == u.PasswordHash
	}
	if !ok {
		return store.User{}, Tokens{}, apperr.Unauthenticated("invalid email or password")
	}
	if err := s.Throttle.Succeeded(ctx, email, clientIP); err != nil {
		s.Logger.WarnContext(ctx, "cannot clear failed logins", "error", err.Error())
	}
	t, err := s.startSession(ctx, u.ID, gen)
	return u, t, sessionsDown(err)
}

// sessionsDown turns a Redis outage into Unavailable (503 with Retry-After at the edge), not
// an internal error: sessions cannot be started or renewed without Redis, but nothing is broken.
func sessionsDown(err error) error {
	if redisx.IsUnavailable(err) {
		return fmt.Errorf("%w (%w)", apperr.Unavailable("signing in is unavailable right now; try again in a moment"), err)
	}
	return err
}

// checkLogin looks the account up, reads its session generation (before the password is
// checked, see Sessions) and checks the password. An unknown email is checked against a dummy
// hash, and reads a generation too, so that its timing matches a known one's. An error means
// no password was tested.
func (s *Service) checkLogin(ctx context.Context, email, password string) (u store.User, gen int64, ok bool, err error) {
	u, err = s.Store.UserByEmail(ctx, email)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.User{}, 0, false, err
	}
	hash := u.PasswordHash
	if !known {
		hash = s.dummyHash
	}
	if gen, err = s.Sessions.Generation(ctx, u.ID); err != nil {
		return store.User{}, 0, false, err
	}
	ok, err = s.verify(ctx, hash, password)
	if err != nil {
		return store.User{}, 0, false, fmt.Errorf("user %s: %w", u.ID, err)
	}
	return u, gen, ok && known, nil
}

// startSession creates a session for a user whose session generation was gen when the
// credentials were checked.
func (s *Service) startSession(ctx context.Context, uid string, gen int64) (Tokens, error) {
	sid, jti := authn.NewSessionID(), uuid.NewString() // the session id carries its start
	switch err := s.Sessions.Create(ctx, uid, sid, jti, gen); {
	case errors.Is(err, ErrGenerationChanged):
		return Tokens{}, apperr.Unauthenticated("your sessions were ended while you were signing in; sign in again").
			WithReason(ReasonSessionsEnded)
	case err != nil:
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
// whole session is revoked, its access tokens included. A session ended by logout, logout-all
// or a password reset stays ended even if Redis lost that (the durable list is consulted).
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
	uid, sid := claims.Subject, claims.SessionID
	start, _ := authn.SessionStart(sid) // unknown (zero): every "all sessions" entry ends it
	switch ended, err := s.Store.SessionRevoked(ctx, uid, sid, start, s.now()); {
	case err != nil:
		return Tokens{}, err
	case ended:
		return Tokens{}, sessionEnded()
	}
	jti, err := s.Sessions.Rotate(ctx, uid, sid, claims.ID, uuid.NewString())
	switch {
	case errors.Is(err, ErrRefreshReused):
		s.Logger.WarnContext(ctx, "refresh token reused: session revoked", "user_id", uid, "session_id", sid)
		ctx, cancel := detached(ctx, commitTimeout) // the session is gone: so must its access tokens be
		defer cancel()
		if err := s.revoke(ctx, s.revocation(uid, sid)); err != nil {
			return Tokens{}, err
		}
		return Tokens{}, apperr.Unauthenticated("refresh token revoked").WithReason(ReasonRefreshRevoked)
	case errors.Is(err, ErrSessionEnded):
		return Tokens{}, sessionEnded()
	case err != nil:
		return Tokens{}, sessionsDown(err)
	}
	return s.issue(uid, sid, jti)
}

func sessionEnded() error {
	return apperr.Unauthenticated("session ended: sign in again").WithReason(ReasonSessionEnded)
}

// revocation is the entry that ends session sid of uid now ("" for every session of uid that
// started until now). It matters to verifiers while an access token issued before now may
// still be presented, and to Refresh while a refresh token may.
func (s *Service) revocation(uid, sid string) store.Revocation {
	now := s.now().UTC()
	return store.Revocation{UserID: uid, SessionID: sid, EndedAt: now,
		AccessUntil: now.Add(s.AccessTTL + authn.DefaultLeeway), RefreshUntil: now.Add(s.RefreshTTL + authn.DefaultLeeway)}
}

// revoke records rs durably, then makes them known: at once in this process, pushed to the
// others.
func (s *Service) revoke(ctx context.Context, rs ...store.Revocation) error {
	if err := s.Store.Revoke(ctx, rs...); err != nil {
		return err
	}
	s.announce(ctx, rs...)
	return nil
}

func (s *Service) announce(ctx context.Context, rs ...store.Revocation) {
	entries := make([]authn.Revoked, len(rs))
	for i, r := range rs {
		entries[i] = authn.Revoked{UserID: r.UserID, SessionID: r.SessionID, EndedAt: r.EndedAt, Expires: r.AccessUntil}
	}
	s.Revocations.Announce(ctx, s.Logger, entries...)
}

// RevokedSessions lists the durable revocations verifiers need (ListRevokedSessions, and the
// auth process's own authn.Revocations source).
func (s *Service) RevokedSessions(ctx context.Context) ([]authn.Revoked, error) {
	list, err := s.Store.Revoked(ctx, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]authn.Revoked, len(list))
	for i, r := range list {
		out[i] = authn.Revoked{UserID: r.UserID, SessionID: r.SessionID, EndedAt: r.EndedAt, Expires: r.AccessUntil}
	}
	return out, nil
}

// Logout ends the caller's current session. The durable record is what ends it: once written,
// logout succeeds even if Redis is down (Refresh consults the record, so the Redis session
// left behind cannot be renewed).
func (s *Service) Logout(ctx context.Context, id authn.Identity) error {
	if id.Delegated() {
		return errDelegatedLogout
	}
	ctx, cancel := detached(ctx, commitTimeout)
	defer cancel()
	if err := s.revoke(ctx, s.revocation(id.UserID, id.SessionID)); err != nil {
		return err
	}
	if err := s.Sessions.End(ctx, id.UserID, id.SessionID); err != nil {
		s.warnUnlessOutage(ctx, "logout recorded, but its Redis session could not be deleted (refresh refuses it anyway)", err)
	}
	return nil
}

// errDelegatedLogout: a service's delegated token belongs to no login session; ending
// "svc:<service>" would stop the service's work for the user, which is not a logout.
var errDelegatedLogout = apperr.PermissionDenied("a service cannot end a user's sessions")

// warnUnlessOutage logs a failure of a best-effort Redis step at WARN, or at DEBUG when Redis
// is down: an outage is reported once by the process, not by every request it touches.
func (s *Service) warnUnlessOutage(ctx context.Context, msg string, err error) {
	level := slog.LevelWarn
	if redisx.IsUnavailable(err) {
		level = slog.LevelDebug
	}
	s.Logger.Log(ctx, level, msg, "error", err.Error())
}

// LogoutAll ends every session of the caller and returns how many were still alive (0 if Redis,
// which counts them, is down).
func (s *Service) LogoutAll(ctx context.Context, id authn.Identity) (int, error) {
	if id.Delegated() {
		return 0, errDelegatedLogout
	}
	return s.endAllSessions(ctx, id.UserID)
}

// endAllSessions ends the user's sessions in Redis (refusing logins under way, see Sessions),
// then records durably that they have ended: one entry for each session Redis ended, and one
// for the user, "every session started until now". Redis goes first so that a session it let
// start is in its answer; if Redis is down, no login can start one, and the user's entry alone
// ends them all.
//
// The session entries are what make logout-all independent of the clocks of the auth
// replicas: the user's entry compares the session id's time (the clock of the replica that
// started the session) with this replica's, so a session started moments before on a replica
// whose clock is ahead would look newer and outlive it. Only while Redis is down does the
// user's entry stand alone: then a session started within the replicas' clock skew (NTP: a few
// ms) before the logout-all survives it.
func (s *Service) endAllSessions(ctx context.Context, uid string) (int, error) {
	ctx, cancel := detached(ctx, commitTimeout)
	defer cancel()
	sids, err := s.Sessions.EndAll(ctx, uid)
	if err != nil {
		s.warnUnlessOutage(ctx, "cannot end the sessions in Redis; the durable record ends them", err)
	}
	ended := []store.Revocation{s.revocation(uid, "")}
	for _, sid := range sids {
		ended = append(ended, s.revocation(uid, sid))
	}
	if err := s.revoke(ctx, ended...); err != nil {
		return 0, err
	}
	return len(sids), nil
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
	var v apperr.Violations
	if len(emails) > lookupLimit || len(ids) > lookupLimit {
		v.Add("emails", fmt.Sprintf("at most %d emails and %d ids per call", lookupLimit, lookupLimit))
	}
	normalized := make([]string, len(emails))
	for i, e := range emails {
		normalized[i] = normalizeEmail(e)
	}
	if slices.ContainsFunc(normalized, func(e string) bool { return len(e) > emailMaxLen || hasControl(e) }) {
		v.Add("emails", "must each be at most 254 characters long, without control characters")
	}
	if slices.ContainsFunc(ids, hasControl) {
		v.Add("ids", "must not contain control characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.Store.LookupUsers(ctx, normalized, ids)
}

// ForgotPasswordMessage is the one answer of ForgotPassword, whether or not the account exists.
const ForgotPasswordMessage = "If an account exists for this email, a password reset link has been sent to it."

// ForgotPassword mails a reset link if the account exists. The reply and its timing do not
// depend on that: the lookup and mail happen after the reply, in the background.
//
// The mail needs the database and Redis: an outage of either known before the reply is
// answered Unavailable (try again; the same for every email, so it tells nothing about
// accounts) rather than 200 for a mail that would be lost. One that begins after the reply
// loses that mail; it is logged once per outage at WARN (mailOutage), and the request can
// simply be repeated: the per-account cooldown is given back when the mail did not go out.
func (s *Service) ForgotPassword(ctx context.Context, email string) error {
	email = normalizeEmail(email)
	var v apperr.Violations
	checkEmail(&v, email)
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.mailDependenciesUp(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return apperr.Unavailable("the service is shutting down; try again in a moment")
	}
	// Detached from the request: the caller must not wait for (or time) the mail.
	s.mail.Go(func() {
		ctx, cancel := detached(ctx, mailTimeout)
		defer cancel()
		switch err := s.sendReset(ctx, email); {
		case err == nil:
			s.mailOutage().Up(ctx)
		case database.IsUnavailable(err) || redisx.IsUnavailable(err):
			s.mailOutage().Down(ctx, err)
		default:
			s.Logger.ErrorContext(ctx, "password reset mail failed", "error", err.Error())
		}
	})
	return nil
}

// mailDependenciesUp checks that the database and Redis answer, so that a reset mail can be
// sent: an outage is Unavailable (and recorded in mailOutage), anything else is returned as is.
func (s *Service) mailDependenciesUp(ctx context.Context) error {
	err := s.Store.Ping(ctx)
	if err == nil {
		err = s.Sessions.Ping(ctx)
	}
	if database.IsUnavailable(err) || redisx.IsUnavailable(err) {
		s.mailOutage().Down(ctx, err)
		return fmt.Errorf("%w (%w)", apperr.Unavailable("password reset is unavailable right now; try again in a moment"), err)
	}
	return err
}

// mailOutage records the outages that keep reset mails from being sent: one WARN when the
// first request meets one, one INFO when a mail goes out again.
func (s *Service) mailOutage() *outage.Log {
	s.outageOnce.Do(func() {
		s.resetMails = &outage.Log{Dependency: "database or redis for password reset mails", Logger: s.Logger}
	})
	return s.resetMails
}

// Close waits until the reset mails being sent in the background are done, or ctx ends, and
// refuses new ones. The process calls it once its servers have stopped, before it closes the
// store.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.mail.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("auth: reset mails still being sent: %w", ctx.Err())
	}
}

func (s *Service) sendReset(ctx context.Context, email string) error {
	u, err := s.Store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if ok, err := s.Throttle.ResetMailAllowed(ctx, u.ID); err != nil || !ok {
		return err // a mail went out less than a minute ago: the reply to the caller is the same
	}
	err = s.mailReset(ctx, u)
	if err != nil {
		// No mail went out: the cooldown must not hold back the retry.
		if rerr := s.Throttle.ResetMailFailed(ctx, u.ID); rerr != nil {
			s.warnUnlessOutage(ctx, "cannot give back the reset mail cooldown", rerr)
		}
	}
	return err
}

// mailReset stores a new reset token for u and mails it.
func (s *Service) mailReset(ctx context.Context, u store.User) error {
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
		checkPasswordPolicy(&v, "newPassword", newPassword, "") // the email is not known yet
	}
	if err := v.Err(); err != nil {
		return err
	}
	// The token is looked up before the password is hashed: a bogus token costs one indexed
	// query, not 19 MiB of argon2id.
	sum := sha256.Sum256([]byte(token))
	u, err := s.Store.UserByResetToken(ctx, sum[:], s.now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return invalidResetToken()
	} else if err != nil {
		return err
	}
	if checkPasswordNotEmail(&v, "newPassword", newPassword, u.Email); len(v) > 0 {
		return v.Err()
	}
	hash, err := s.hash(ctx, newPassword)
	if err != nil {
		return err
	}
	// Consuming the token stays atomic: of concurrent resets with one token, one wins; the
	// same transaction records that every session of the account has ended.
	ended := s.revocation("", "")
	uid, err := s.Store.ResetPassword(ctx, sum[:], hash, s.now().UTC(), ended)
	if errors.Is(err, store.ErrNotFound) {
		return invalidResetToken()
	} else if err != nil {
		return err
	}
	// The password has changed: what follows must happen even if the client has hung up.
	ctx, cancel := detached(ctx, commitTimeout)
	defer cancel()
	ended.UserID = uid
	s.announce(ctx, ended)
	if err := s.Throttle.Clear(ctx, u.Email); err != nil { // the owner is back in control
		s.Logger.WarnContext(ctx, "cannot clear failed logins after a reset", "error", err.Error())
	}
	_, err = s.endAllSessions(ctx, uid)
	return err
}

func invalidResetToken() error {
	var v apperr.Violations
	v.Add("token", "is invalid, already used or expired; request a new reset link")
	return v.Err()
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

// serviceTokenTTL is the lifetime of a delegated token: long enough for a few calls, short
// enough that a leaked one is soon worthless.
const serviceTokenTTL = 5 * time.Minute

// IssueServiceToken gives a FuzzyLlama service, proven by the shared service credential, an access
// token to act for an existing user.
func (s *Service) IssueServiceToken(ctx context.Context, service, credential, userID string) (string, time.Time, error) {
	if !authn.CredentialMatches(credential, s.ServiceCredential) {
		return "", time.Time{}, apperr.Unauthenticated("invalid service credential")
	}
	var v apperr.Violations
	if !serviceNamePattern.MatchString(service) {
		v.Add("service", "must be a service name: 1-32 lower-case letters")
	}
	if userID == "" {
		v.Add("userId", "is required")
	}
	if err := v.Err(); err != nil {
		return "", time.Time{}, err
	}
	users, err := s.Store.LookupUsers(ctx, nil, []string{userID})
	if err != nil {
		return "", time.Time{}, err
	}
	if len(users) == 0 {
		return "", time.Time{}, apperr.NotFound("user %s does not exist", userID)
	}
	now := s.now()
	token, err := s.signer().SignDelegated(userID, service, uuid.NewString(), now, serviceTokenTTL)
	return token, now.Add(serviceTokenTTL), err
}

var serviceNamePattern = regexp.MustCompile(`^[a-z]{1,32}$`)
