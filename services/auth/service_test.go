package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/config"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store"
)

const newPassword = "brand new pass 7"

// TestResetPasswordLooksUpTheTokenFirst: a bogus token must be refused without hashing (300
// parallel bogus resets once took 4.7 GB). The only argon2id slot is held throughout, so any
// reset that tried to hash would be answered 429 instead of 400.
func TestResetPasswordLooksUpTheTokenFirst(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, nil)
		ctx := context.Background()
		register(t, svc, "eve@example.com")
		token := resetToken(t, svc, "eve@example.com")
		svc.hashing = newHashLimiter(1, 10*time.Millisecond)
		if err := svc.hashing.acquire(ctx); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 300 {
			wg.Go(func() {
				err := svc.ResetPassword(ctx, token+string(rune('a'+i%26)), newPassword)
				if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || e.Fields[0].Field != "token" {
					t.Errorf("bogus token: %v, want a 400 naming token", err)
				}
			})
		}
		wg.Wait()
		// The real token reaches the hasher, which is busy: 429, and the token is not used up.
		wantErr(t, svc.ResetPassword(ctx, token, newPassword), apperr.KindResourceExhausted)
		svc.hashing.release()
		if err := svc.ResetPassword(ctx, token, newPassword); err != nil {
			t.Fatalf("reset once the hasher is free: %v", err)
		}
	})
}

// TestResetPasswordRefusesTheEmail: the "must not contain your email" rule applies once the
// token names the account, and the refused attempt does not use the token up.
func TestResetPasswordRefusesTheEmail(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, nil)
		ctx := context.Background()
		register(t, svc, "frank@example.com")
		token := resetToken(t, svc, "frank@example.com")
		wantField(t, svc.ResetPassword(ctx, token, "Frank password 9"), "newPassword")
		if err := svc.ResetPassword(ctx, token, newPassword); err != nil {
			t.Fatalf("reset with an acceptable password: %v", err)
		}
	})
}

// TestResetPasswordClearsTheLockout: the owner, back in control, can log in at once.
func TestResetPasswordClearsTheLockout(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, func(c *Config) { c.LoginMaxPerAccount = 2 })
		ctx := context.Background()
		register(t, svc, "gina@example.com")
		for range 2 {
			_, _, err := svc.Login(ctx, "gina@example.com", "guess number 1", clientIP)
			wantErr(t, err, apperr.KindUnauthenticated)
		}
		_, _, err := svc.Login(ctx, "gina@example.com", testPassword, clientIP)
		wantErr(t, err, apperr.KindResourceExhausted)
		if err := svc.ResetPassword(ctx, resetToken(t, svc, "gina@example.com"), newPassword); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Login(ctx, "gina@example.com", newPassword, clientIP); err != nil {
			t.Fatalf("login after the reset: %v", err)
		}
	})
}

// TestLoginRacingPasswordReset: a login that checked the old password just before a reset
// committed must not start a session that outlives the reset.
func TestLoginRacingPasswordReset(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, nil)
		ctx := context.Background()
		u := register(t, svc, "hal@example.com")
		token := resetToken(t, svc, "hal@example.com")
		svc.passwordChecked = func() {
			svc.passwordChecked = nil
			if err := svc.ResetPassword(ctx, token, newPassword); err != nil {
				t.Error(err)
			}
		}
		_, _, err := svc.Login(ctx, "hal@example.com", testPassword, clientIP)
		wantErr(t, err, apperr.KindUnauthenticated)
		if n := rdb.ZCard(ctx, svc.Sessions.indexKey(u.ID)).Val(); n != 0 {
			t.Fatalf("%d sessions after the reset, want 0", n)
		}
	})
}

// lookupHookStore runs after once UserByEmail has answered.
type lookupHookStore struct {
	store.Store
	after func()
}

func (s *lookupHookStore) UserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := s.Store.UserByEmail(ctx, email)
	if f := s.after; f != nil {
		s.after = nil
		f()
	}
	return u, err
}

// TestLoginRacingPasswordResetBeforeTheGenerationIsRead: a reset that commits and ends every
// session between the login's lookup and its generation read leaves the generation unchanged
// for Create; the password checked (the old hash) must still be found stale.
func TestLoginRacingPasswordResetBeforeTheGenerationIsRead(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, nil)
		ctx := context.Background()
		u := register(t, svc, "hal@example.com")
		token := resetToken(t, svc, "hal@example.com")
		svc.Store = &lookupHookStore{Store: svc.Store, after: func() {
			if err := svc.ResetPassword(ctx, token, newPassword); err != nil {
				t.Error(err)
			}
		}}
		_, _, err := svc.Login(ctx, "hal@example.com", testPassword, clientIP)
		wantErr(t, err, apperr.KindUnauthenticated)
		if n := rdb.ZCard(ctx, svc.Sessions.indexKey(u.ID)).Val(); n != 0 {
			t.Fatalf("%d sessions after the reset, want 0", n)
		}
	})
}

// TestLoginRacingLogoutAll: a session must not start after a logout-all that began once the
// login's password was checked; the answer says to sign in again.
func TestLoginRacingLogoutAll(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, nil)
		ctx := context.Background()
		u, first, err := svc.Register(ctx, "ivy@example.com", testPassword, "Ivy", clientIP)
		if err != nil {
			t.Fatal(err)
		}
		claims, err := svc.verifier().Verify(ctx, first.Access, authn.TypeAccess)
		if err != nil {
			t.Fatal(err)
		}
		svc.passwordChecked = func() {
			svc.passwordChecked = nil
			if n, err := svc.LogoutAll(ctx, authn.Identity{UserID: u.ID, SessionID: claims.SessionID}); err != nil || n != 1 {
				t.Errorf("LogoutAll = %d, %v; want 1", n, err)
			}
		}
		_, _, err = svc.Login(ctx, "ivy@example.com", testPassword, clientIP)
		if e := wantErr(t, err, apperr.KindUnauthenticated); e.Reason != ReasonSessionsEnded {
			t.Fatalf("reason %q, want %s", e.Reason, ReasonSessionsEnded)
		}
		if _, _, err := svc.Login(ctx, "ivy@example.com", testPassword, clientIP); err != nil {
			t.Fatalf("signing in again: %v", err)
		}
	})
}

// TestRefreshTwiceInParallel: two tabs refreshing with one token both get a pair on the same
// session; reuse of an older token still revokes the session.
func TestRefreshTwiceInParallel(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, nil)
		ctx := context.Background()
		_, first, err := svc.Register(ctx, "jo@example.com", testPassword, "Jo", clientIP)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		pairs := make([]Tokens, 2)
		for i := range pairs {
			wg.Go(func() {
				var err error
				if pairs[i], err = svc.Refresh(ctx, first.Refresh); err != nil {
					t.Errorf("refresh %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if _, err := svc.Refresh(ctx, pairs[0].Refresh); err != nil {
			t.Fatalf("refresh with the first tab's token: %v", err)
		}
		_, err = svc.Refresh(ctx, first.Refresh) // two rotations old: copied
		if e := wantErr(t, err, apperr.KindUnauthenticated); e.Reason != ReasonRefreshRevoked {
			t.Fatalf("reuse: %+v", e)
		}
	})
}

// blockingMailer holds every Send until release is closed.
type blockingMailer struct {
	sent    chan Mail
	release chan struct{}
}

func (m blockingMailer) Send(ctx context.Context, msg Mail) error {
	m.sent <- msg
	<-m.release
	return nil
}

// TestCloseWaitsForResetMail: shutdown must not cut a reset mail off midway.
func TestCloseWaitsForResetMail(t *testing.T) {
	rdb, keys := redistest.New(t)
	svc := newService(t, rdb, keys, nil)
	ctx := context.Background()
	register(t, svc, "kim@example.com")
	m := blockingMailer{sent: make(chan Mail, 1), release: make(chan struct{})}
	svc.Mailer = m
	if err := svc.ForgotPassword(ctx, "kim@example.com"); err != nil {
		t.Fatal(err)
	}
	<-m.sent
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := svc.Close(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with a mail in flight: %v, want DeadlineExceeded", err)
	}
	close(m.release)
	if err := svc.Close(ctx); err != nil {
		t.Fatalf("Close once the mail is sent: %v", err)
	}
	wantErr(t, svc.ForgotPassword(ctx, "kim@example.com"), apperr.KindUnavailable)
}

// TestHandlersRequireAnIdentity: without a verified caller, the handlers refuse rather than act
// for an empty user.
func TestHandlersRequireAnIdentity(t *testing.T) {
	h := &Handler{Service: &Service{}}
	ctx := context.Background()
	_, err := h.Logout(ctx, nil)
	wantErr(t, err, apperr.KindUnauthenticated)
	_, err = h.LogoutAll(ctx, nil)
	wantErr(t, err, apperr.KindUnauthenticated)
	_, err = h.GetMe(ctx, nil)
	wantErr(t, err, apperr.KindUnauthenticated)
}

// TestConfigRefusesLockoutsThatNeverEnd: a limit of 0 would refuse every login, a window of 0
// would disable the lockout; each problem names its variable.
func TestConfigRefusesLockoutsThatNeverEnd(t *testing.T) {
	var c Config
	s := config.NewSet()
	production := false
	c.Register(s, &production)
	env := map[string]string{
		"AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT": "0",
		"AUTH_LOGIN_MAX_FAILURES_PER_IP":      "-1",
		"AUTH_LOGIN_LOCKOUT_WINDOW":           "0s",
	}
	err := s.Parse(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil {
		t.Fatal("accepted")
	}
	for name := range env {
		if !strings.Contains(err.Error(), name+": must be at least") {
			t.Errorf("no problem reported for %s: %v", name, err)
		}
	}
}

// countingMailer counts what it is asked to send.
type countingMailer struct{ n *atomic.Int32 }

func (m countingMailer) Send(context.Context, Mail) error { m.n.Add(1); return nil }

// TestResetMailsAreThrottledPerAccount: asking again and again sends one mail a minute per
// account, while the caller's answer stays the same.
func TestResetMailsAreThrottledPerAccount(t *testing.T) {
	rdb, keys := redistest.New(t)
	svc := newService(t, rdb, keys, nil)
	ctx := context.Background()
	for _, email := range []string{"ann@example.com", "ben@example.com"} {
		register(t, svc, email)
	}
	sent := &atomic.Int32{}
	svc.Mailer = countingMailer{n: sent}
	for range 5 {
		for _, email := range []string{"ann@example.com", "ben@example.com"} {
			if err := svc.ForgotPassword(ctx, email); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := svc.Close(ctx); err != nil { // waits for the background sends
		t.Fatal(err)
	}
	if got := sent.Load(); got != 2 {
		t.Fatalf("%d reset mails sent for 10 requests on 2 accounts, want 2", got)
	}
}
