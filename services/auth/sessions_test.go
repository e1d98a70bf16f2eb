package auth

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
)

func newSessions(rdb *redis.Client, keys redisx.Keyspace, ttl time.Duration) *Sessions {
	return &Sessions{Redis: rdb, Keys: keys, TTL: ttl}
}

// create starts a session the way a login does: generation first, then Create.
func create(ctx context.Context, s *Sessions, uid string) (sid, jti string, err error) {
	gen, err := s.Generation(ctx, uid)
	if err != nil {
		return "", "", err
	}
	sid, jti = uuid.NewString(), uuid.NewString()
	return sid, jti, s.Create(ctx, uid, sid, jti, gen)
}

func mustCreate(t *testing.T, s *Sessions, uid string) (sid, jti string) {
	t.Helper()
	sid, jti, err := create(context.Background(), s, uid)
	if err != nil {
		t.Fatal(err)
	}
	return sid, jti
}

func alive(t *testing.T, s *Sessions, sid string) bool {
	t.Helper()
	n, err := s.Redis.Exists(context.Background(), s.sessionKey(sid)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestEndAllRacingCreate reproduces the escape: with SMEMBERS then DEL, a session created in
// between lost its index entry and survived every later logout-all. Whatever the interleaving,
// once the last EndAll has run no session of the user may remain.
func TestEndAllRacingCreate(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		s := newSessions(rdb, keys, time.Hour)
		ctx := context.Background()
		uid := uuid.NewString()
		var (
			mu      sync.Mutex
			created []string
			stop    atomic.Bool
			wg      sync.WaitGroup
		)
		for range 4 {
			wg.Go(func() {
				for !stop.Load() {
					sid, _, err := create(ctx, s, uid)
					if errors.Is(err, ErrGenerationChanged) {
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					created = append(created, sid)
					mu.Unlock()
				}
			})
		}
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			if _, err := s.EndAll(ctx, uid); err != nil {
				t.Fatal(err)
			}
		}
		stop.Store(true)
		wg.Wait()
		if _, err := s.EndAll(ctx, uid); err != nil {
			t.Fatal(err)
		}
		escaped := slices.DeleteFunc(created, func(sid string) bool { return !alive(t, s, sid) })
		if len(escaped) > 0 || len(created) == 0 {
			t.Fatalf("%d of the sessions created survived the last logout-all", len(escaped))
		}
	})
}

// TestCreateRefusedAfterEndAll: a login that read the generation before a logout-all or reset
// ended every session (and so may have checked the old password) cannot start a session after.
func TestCreateRefusedAfterEndAll(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		s := newSessions(rdb, keys, time.Hour)
		ctx := context.Background()
		uid := uuid.NewString()
		gen, err := s.Generation(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.EndAll(ctx, uid); err != nil {
			t.Fatal(err)
		}
		sid := uuid.NewString()
		if err := s.Create(ctx, uid, sid, uuid.NewString(), gen); !errors.Is(err, ErrGenerationChanged) {
			t.Fatalf("Create with the generation from before EndAll: %v, want ErrGenerationChanged", err)
		}
		if alive(t, s, sid) {
			t.Fatal("refused session stored anyway")
		}
		mustCreate(t, s, uid) // a login that starts afterwards works
	})
}

// TestRotateRefusesAnOlderGeneration: a session recorded under an older generation is ended,
// never renewed.
func TestRotateRefusesAnOlderGeneration(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		s := newSessions(rdb, keys, time.Hour)
		ctx := context.Background()
		uid := uuid.NewString()
		sid, jti := mustCreate(t, s, uid)
		rdb.Incr(ctx, s.genKey(uid)) // as if an EndAll had missed it
		if _, err := s.Rotate(ctx, uid, sid, jti, uuid.NewString()); !errors.Is(err, ErrSessionEnded) {
			t.Fatalf("Rotate: %v, want ErrSessionEnded", err)
		}
		if alive(t, s, sid) {
			t.Fatal("stale session kept")
		}
	})
}

// TestSessionIndexOnlyHoldsLiveSessions: expired sessions leave the user's index, and
// logout-all reports (and revokes) only the sessions it actually ended.
func TestSessionIndexOnlyHoldsLiveSessions(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		ctx := context.Background()
		uid := uuid.NewString()
		short := newSessions(rdb, keys, 100*time.Millisecond)
		for range 3 {
			mustCreate(t, short, uid)
		}
		time.Sleep(200 * time.Millisecond)
		s := newSessions(rdb, keys, time.Hour)
		live, _ := mustCreate(t, s, uid)
		other, _ := mustCreate(t, s, uid)
		if err := s.End(ctx, uid, other); err != nil {
			t.Fatal(err)
		}
		if n := rdb.ZCard(ctx, s.indexKey(uid)).Val(); n != 1 {
			t.Fatalf("index holds %d sessions, want the 1 live one", n)
		}
		ended, err := s.EndAll(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ended, []string{live}) {
			t.Fatalf("EndAll ended %v, want [%s]", ended, live)
		}
		if ended, _ := s.EndAll(ctx, uid); len(ended) != 0 {
			t.Fatalf("second EndAll ended %v", ended)
		}
	})
}

// TestRotateReuseGrace: the token just rotated out, presented again within the grace, gets the
// current jti (two tabs refreshing at once); an older token, or the same one after the grace,
// is reuse and ends the session.
func TestRotateReuseGrace(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		s := newSessions(rdb, keys, time.Hour)
		s.ReuseGrace = 300 * time.Millisecond
		ctx := context.Background()
		uid := uuid.NewString()
		rotate := func(sid, presented string) (string, error) {
			return s.Rotate(ctx, uid, sid, presented, uuid.NewString())
		}

		sid, a := mustCreate(t, s, uid)
		b, err := rotate(sid, a)
		if err != nil || b == a {
			t.Fatalf("rotate: %q, %v", b, err)
		}
		if again, err := rotate(sid, a); err != nil || again != b {
			t.Fatalf("a again within the grace: %q, %v; want %q", again, err, b)
		}
		c, err := rotate(sid, b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rotate(sid, a); !errors.Is(err, ErrRefreshReused) {
			t.Fatalf("a after two rotations: %v, want ErrRefreshReused", err)
		}
		if _, err := rotate(sid, c); !errors.Is(err, ErrSessionEnded) {
			t.Fatalf("the session survived reuse: %v", err)
		}

		sid, a = mustCreate(t, s, uid)
		if _, err := rotate(sid, a); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
		if _, err := rotate(sid, a); !errors.Is(err, ErrRefreshReused) {
			t.Fatalf("a after the grace: %v, want ErrRefreshReused", err)
		}

		s.ReuseGrace = 0
		sid, a = mustCreate(t, s, uid)
		if _, err := rotate(sid, a); err != nil {
			t.Fatal(err)
		}
		if _, err := rotate(sid, a); !errors.Is(err, ErrRefreshReused) {
			t.Fatalf("no grace: %v, want ErrRefreshReused", err)
		}
	})
}
