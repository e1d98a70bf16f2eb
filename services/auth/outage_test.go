package auth

import (
	"context"
	"errors"
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
