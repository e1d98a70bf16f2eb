package auth

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store/sqlite"
)

const testPassword = "correct horse 42"

// eachRedis runs f against the test Redis and against miniredis, the in-process Redis of the
// embedded mode, so that every Lua script is known to work on both.
func eachRedis(t *testing.T, f func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace)) {
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		rdb, keys := redistest.New(t)
		f(t, rdb, keys)
	})
	t.Run("miniredis", func(t *testing.T) {
		t.Parallel()
		mr := miniredis.RunT(t)
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { _ = rdb.Close() })
		f(t, rdb, "test")
	})
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// newService returns a Service on a fresh SQLite store and the given Redis. tweak may change the
// configuration first.
func newService(t *testing.T, rdb *redis.Client, keys redisx.Keyspace, tweak func(*Config)) *Service {
	t.Helper()
	ctx := context.Background()
	cfg := Config{AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, MailFrom: "Test <no-reply@example.com>",
		LoginWindow: 15 * time.Minute, LoginMaxPerAccount: 5, LoginMaxPerIP: 1000}
	if tweak != nil {
		tweak(&cfg)
	}
	st, err := sqlite.Open(ctx, dbtest.NewSQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	kr, err := LoadKeyring("", nil, filepath.Join(t.TempDir(), "signing-key"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(cfg, Deps{Store: st, Redis: rdb, Keys: keys, Keyring: kr, Logger: discard,
		DataDir: t.TempDir(), FrontendURL: "https://app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	if err := svc.Revocations.Load(ctx); err != nil {
		t.Fatal(err)
	}
	return svc
}

// wantErr fails the test unless err is an *apperr.Error of the kind, and returns it.
func wantErr(t *testing.T, err error, kind apperr.Kind) *apperr.Error {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != kind {
		t.Fatalf("err = %v, want an apperr of kind %d", err, kind)
	}
	return e
}

// wantField fails the test unless err is a validation error naming field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	for _, f := range wantErr(t, err, apperr.KindInvalid).Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("err = %v, want a violation of %s", err, field)
}

// resetToken stores a reset token for the user and returns it.
func resetToken(t *testing.T, svc *Service, email string) string {
	t.Helper()
	ctx := context.Background()
	u, err := svc.Store.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	token, hash, err := newResetToken()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	r := store.PasswordReset{TokenHash: hash, UserID: u.ID, ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	if err := svc.Store.CreatePasswordReset(ctx, r); err != nil {
		t.Fatal(err)
	}
	return token
}

// register creates an account with testPassword, failing the test if it cannot.
func register(t *testing.T, svc *Service, email string) store.User {
	t.Helper()
	u, _, err := svc.Register(context.Background(), email, testPassword, "Test "+email, clientIP)
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return u
}
