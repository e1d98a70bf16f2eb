package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store"
)

// privateRedis returns a Redis of the test's own, which it may stop and start, and a client
// that fails at once while it is down.
func privateRedis(t *testing.T) (*redistest.PrivateRedis, *redis.Client) {
	t.Helper()
	pr := redistest.NewPrivate(t)
	rdb := redis.NewClient(&redis.Options{Addr: pr.Addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	return pr, rdb
}

// TestRegisterWithRedisDownCreatesNoAccount: while Redis is down a registration answers
// Unavailable without creating the account, so that the retry once Redis is back succeeds
// (it answered 409 ALREADY_EXISTS: the account existed, without a session).
func TestRegisterWithRedisDownCreatesNoAccount(t *testing.T) {
	pr, rdb := privateRedis(t)
	svc := newService(t, rdb, "test", nil)
	ctx := context.Background()
	pr.Stop()
	_, _, err := svc.Register(ctx, "rae@example.com", testPassword, "Rae", clientIP)
	wantErr(t, err, apperr.KindUnavailable)
	if _, err := svc.Store.UserByEmail(ctx, "rae@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an account was created while sessions could not be: %v", err)
	}
	pr.Start()
	if _, tok, err := svc.Register(ctx, "rae@example.com", testPassword, "Rae", clientIP); err != nil || tok.Access == "" {
		t.Fatalf("the retry once Redis is back: %v", err)
	}
}

// failAfterCreate is a store whose CreateUser runs after once the account is created.
type failAfterCreate struct {
	store.Store
	after func()
}

func (f *failAfterCreate) CreateUser(ctx context.Context, u store.User) error {
	err := f.Store.CreateUser(ctx, u)
	if f.after != nil {
		f.after()
		f.after = nil
	}
	return err
}

// TestRegisterRetriedAfterItsSessionFailed: Redis fails after the account was created, before
// its session: the registration answers Unavailable, and retrying it (same email and password)
// signs in instead of answering ALREADY_EXISTS. Another password is still ALREADY_EXISTS, and
// so is registering again once the account has had a session.
func TestRegisterRetriedAfterItsSessionFailed(t *testing.T) {
	pr, rdb := privateRedis(t)
	svc := newService(t, rdb, "test", nil)
	svc.Store = &failAfterCreate{Store: svc.Store, after: pr.Stop}
	ctx := context.Background()
	_, _, err := svc.Register(ctx, "sol@example.com", testPassword, "Sol", clientIP)
	wantErr(t, err, apperr.KindUnavailable)
	pr.Start()

	_, _, err = svc.Register(ctx, "sol@example.com", "another password 9", "Sol", clientIP)
	wantErr(t, err, apperr.KindAlreadyExists)
	u, tok, err := svc.Register(ctx, "sol@example.com", testPassword, "Sol", clientIP)
	if err != nil {
		t.Fatalf("the same registration retried: %v", err)
	}
	if c, err := svc.verifier().Verify(ctx, tok.Access, authn.TypeAccess); err != nil || c.Subject != u.ID || u.Email != "sol@example.com" {
		t.Fatalf("the retry's token: %+v, %v", c, err)
	}
	_, _, err = svc.Register(ctx, "sol@example.com", testPassword, "Sol", clientIP)
	wantErr(t, err, apperr.KindAlreadyExists)
}

// TestRegisterTwiceIsAlreadyExists: an account that has had a session is not registered again,
// even with its own password (on both Redis implementations: Started reads what Create left).
func TestRegisterTwiceIsAlreadyExists(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, nil)
		ctx := context.Background()
		_, tok, err := svc.Register(ctx, "tam@example.com", testPassword, "Tam", clientIP)
		if err != nil {
			t.Fatal(err)
		}
		// Even once its only session has ended, the account has had one.
		if err := svc.Logout(ctx, identity(t, svc, tok)); err != nil {
			t.Fatal(err)
		}
		_, _, err = svc.Register(ctx, "tam@example.com", testPassword, "Tam", clientIP)
		wantErr(t, err, apperr.KindAlreadyExists)
	})
}

// logged is a log of the test's own, safe for the background mail goroutines.
type logged struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (l *logged) Write(p []byte) (int, error) {
	var line map[string]any
	if err := json.Unmarshal(p, &line); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	return len(p), nil
}

// count returns how many lines were logged at level whose message contains msg.
func (l *logged) count(level, msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if line["level"] == level && strings.Contains(fmt.Sprint(line["msg"]), msg) {
			n++
		}
	}
	return n
}

// sentMailer counts the mails sent.
type sentMailer struct{ sent atomic.Int32 }

func (m *sentMailer) Send(context.Context, Mail) error { m.sent.Add(1); return nil }

// flakyResetStore runs hooks in the middle of a reset mail's work.
type flakyResetStore struct {
	store.Store
	afterLookup  func() // once, after UserByEmail
	failReset    bool   // the next CreatePasswordReset meets a lost connection
	failedResets int
}

func (f *flakyResetStore) UserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := f.Store.UserByEmail(ctx, email)
	if f.afterLookup != nil {
		f.afterLookup()
		f.afterLookup = nil
	}
	return u, err
}

func (f *flakyResetStore) CreatePasswordReset(ctx context.Context, r store.PasswordReset) error {
	if f.failReset {
		f.failReset = false
		f.failedResets++
		return fmt.Errorf("insert reset: %w", syscall.ECONNREFUSED)
	}
	return f.Store.CreatePasswordReset(ctx, r)
}

// TestForgotPasswordDuringAnOutage: an outage of Redis or the database is not a bug: it is
// logged once at WARN (INFO when mails go out again), never at ERROR per request; an outage
// known before the reply is Unavailable (try again), the same for every email; and a mail lost
// to an outage that began after the reply does not hold back the retry (the cooldown is given
// back), so asking again simply works.
func TestForgotPasswordDuringAnOutage(t *testing.T) {
	pr, rdb := privateRedis(t)
	svc := newService(t, rdb, "test", nil)
	logs := &logged{}
	svc.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	mailer := &sentMailer{}
	svc.Mailer = mailer
	flaky := &flakyResetStore{Store: svc.Store}
	svc.Store = flaky
	register(t, svc, "val@example.com")
	ctx := context.Background()
	forgot := func(email string) error {
		t.Helper()
		err := svc.ForgotPassword(ctx, email)
		svc.mail.Wait()
		return err
	}

	// Redis down before the reply: Unavailable, for a known and an unknown email alike.
	pr.Stop()
	for _, email := range []string{"val@example.com", "nobody@example.com", "val@example.com"} {
		wantErr(t, forgot(email), apperr.KindUnavailable)
	}
	pr.Start()
	// Redis lost after the reply (between the lookup and the cooldown): the mail is lost.
	flaky.afterLookup = pr.Stop
	if err := forgot("val@example.com"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, forgot("val@example.com"), apperr.KindUnavailable)
	pr.Start()
	if err := forgot("val@example.com"); err != nil || mailer.sent.Load() != 1 {
		t.Fatalf("once Redis is back: %v, %d mails sent, want 1", err, mailer.sent.Load())
	}

	// The database lost after the cooldown started: the retry, at once, sends the mail.
	// (The mail above started a minute's cooldown for its account: use another one.)
	register(t, svc, "wes@example.com")
	flaky.failReset = true
	if err := forgot("wes@example.com"); err != nil || flaky.failedResets != 1 {
		t.Fatalf("forgot with the database failing: %v (%d failures)", err, flaky.failedResets)
	}
	if err := forgot("wes@example.com"); err != nil || mailer.sent.Load() != 2 {
		t.Fatalf("the retry: %v, %d mails sent, want 2", err, mailer.sent.Load())
	}

	if n := logs.count("ERROR", ""); n != 0 {
		t.Errorf("%d lines at ERROR, want none: %v", n, logs.lines)
	}
	// Two outages (Redis, then the database), each one WARN and one INFO.
	if w, i := logs.count("WARN", "password reset mails unavailable"), logs.count("INFO", "password reset mails available again"); w != 2 || i != 2 {
		t.Errorf("%d WARN and %d INFO lines for the outages, want 2 and 2: %v", w, i, logs.lines)
	}
}
