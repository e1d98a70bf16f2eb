package auth

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
)

const clientIP = "192.0.2.1"

// TestLoginBurstChecksAtMostTheLimit: parallel wrong guesses must not all pass the limit check
// before any of them is counted (a burst of 60 once got 50 checks against a limit of 5).
func TestLoginBurstChecksAtMostTheLimit(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, nil) // 5 per account
		ctx := context.Background()
		register(t, svc, "ann@example.com")
		var checks atomic.Int64
		svc.passwordChecked = func() { checks.Add(1) }

		const n = 30
		var wg sync.WaitGroup
		var refused, wrong atomic.Int64
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				_, _, err := svc.Login(ctx, "ann@example.com", "wrong password 1", clientIP)
				switch e, _ := apperr.As(err); {
				case e != nil && e.Kind == apperr.KindUnauthenticated:
					wrong.Add(1)
				case e != nil && e.Kind == apperr.KindResourceExhausted && e.Reason == ReasonLoginLocked && e.RetryAfter > 0:
					refused.Add(1)
				default:
					t.Errorf("login: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if checks.Load() > 5 || wrong.Load() != checks.Load() || wrong.Load()+refused.Load() != n {
			t.Fatalf("%d password checks, %d × 401, %d × 429 of %d parallel logins; want at most 5 checks",
				checks.Load(), wrong.Load(), refused.Load(), n)
		}
		// Locked: even the right password waits.
		_, _, err := svc.Login(ctx, "ann@example.com", testPassword, clientIP)
		wantErr(t, err, apperr.KindResourceExhausted)
	})
}

// TestLoginSuccessCountsNothing: attempts are counted before the check, so a success must give
// its count back: it clears the account's failures and does not use up the IP's budget.
func TestLoginSuccessCountsNothing(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, func(c *Config) { c.LoginMaxPerAccount, c.LoginMaxPerIP = 3, 3 })
		ctx := context.Background()
		register(t, svc, "bob@example.com")
		for _, round := range []string{"first", "second"} {
			for range 2 {
				_, _, err := svc.Login(ctx, "bob@example.com", "wrong password 1", "")
				wantErr(t, err, apperr.KindUnauthenticated)
			}
			if _, _, err := svc.Login(ctx, "bob@example.com", testPassword, ""); err != nil {
				t.Fatalf("%s round: %v", round, err)
			}
		}
		for i := range 5 { // more successes from one address than its limit
			if _, _, err := svc.Login(ctx, "bob@example.com", testPassword, clientIP); err != nil {
				t.Fatalf("success %d from one IP: %v", i+1, err)
			}
		}
	})
}

// TestLockoutCounterWithoutExpiry: a counter left without an expiry (a crash between INCR and
// EXPIRE in an older version) must not lock the account forever.
func TestLockoutCounterWithoutExpiry(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, nil)
		ctx := context.Background()
		key := svc.Throttle.accountKey("cat@example.com")
		if err := rdb.Set(ctx, key, 9, 0).Err(); err != nil {
			t.Fatal(err)
		}
		_, _, err := svc.Login(ctx, "cat@example.com", "any password 1", "")
		if e := wantErr(t, err, apperr.KindResourceExhausted); e.RetryAfter < 14*time.Minute || e.RetryAfter > 15*time.Minute {
			t.Errorf("Retry-After %v, want the 15m window", e.RetryAfter)
		}
		if ttl := rdb.PTTL(ctx, key).Val(); ttl <= 0 {
			t.Fatalf("counter still has no expiry (PTTL %v)", ttl)
		}
	})
}

// TestLoginBusyHasherGivesTheAttemptBack: a login refused because every argon2id slot is busy
// tested no password, so it must not count towards the lockout.
func TestLoginBusyHasherGivesTheAttemptBack(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, func(c *Config) { c.LoginMaxPerAccount = 1 })
		ctx := context.Background()
		register(t, svc, "dan@example.com")
		svc.hashing = newHashLimiter(1, 10*time.Millisecond)
		if err := svc.hashing.acquire(ctx); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			_, _, err := svc.Login(ctx, "dan@example.com", testPassword, clientIP)
			if e := wantErr(t, err, apperr.KindResourceExhausted); e.Reason != "" || e.RetryAfter <= 0 {
				t.Fatalf("busy answer: %+v", e)
			}
		}
		svc.hashing.release()
		if _, _, err := svc.Login(ctx, "dan@example.com", testPassword, clientIP); err != nil {
			t.Fatalf("login once the hasher is free: %v", err)
		}
	})
}

// TestHashLimiterBoundsConcurrency: at most n argon2id computations run at once; past the wait,
// callers get a 429 with Retry-After.
func TestHashLimiterBoundsConcurrency(t *testing.T) {
	l := newHashLimiter(2, 30*time.Millisecond)
	var running, peak, busy atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := l.acquire(context.Background()); err != nil {
				if e := wantErr(t, err, apperr.KindResourceExhausted); e.RetryAfter <= 0 {
					t.Errorf("no Retry-After: %+v", e)
				}
				busy.Add(1)
				return
			}
			defer l.release()
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(20 * time.Millisecond)
			running.Add(-1)
		})
	}
	wg.Wait()
	if peak.Load() > 2 || busy.Load() == 0 {
		t.Fatalf("peak %d concurrent, %d refused; want at most 2 and some refused", peak.Load(), busy.Load())
	}
}

// TestLoginValidatesEmailBeforeTheStore: PostgreSQL fails on a NUL in text (a 500), so emails are
// checked first. The service has no store and no Redis: reaching either would panic.
func TestLoginValidatesEmailBeforeTheStore(t *testing.T) {
	svc := &Service{}
	ctx := context.Background()
	for name, email := range map[string]string{
		"NUL":        "a\x00b@example.com",
		"control":    "a\x1bb@example.com",
		"C1 control": "a\u0085b@example.com",
		"too long":   strings.Repeat("a", 250) + "@example.com",
		"missing":    " ",
	} {
		_, _, err := svc.Login(ctx, email, "x", clientIP)
		wantField(t, err, "email")
		_, _, err = svc.Register(ctx, email, testPassword, "Ann", clientIP)
		wantField(t, err, "email")
		wantField(t, svc.ForgotPassword(ctx, email), "email")
		if name != "missing" {
			_, err = svc.LookupUsers(ctx, []string{email}, nil)
			wantField(t, err, "emails")
		}
	}
	_, _, err := svc.Register(ctx, "ann@example.com", testPassword, "A\x00nn", clientIP)
	wantField(t, err, "name")
	_, err = svc.LookupUsers(ctx, nil, []string{"id\x00"})
	wantField(t, err, "ids")
}
