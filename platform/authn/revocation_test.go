package authn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// durableList stands in for the auth store: what the processes load, which survives anything
// that happens to Redis.
type durableList struct {
	mu      sync.Mutex
	entries []Revoked
	down    bool
}

func (d *durableList) add(e ...Revoked) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.entries = append(d.entries, e...)
}

func (d *durableList) setDown(down bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.down = down
}

func (d *durableList) load(context.Context) ([]Revoked, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return nil, errors.New("auth service unreachable")
	}
	return slices.Clone(d.entries), nil
}

// callbacks records what OnRevoke reported.
type callbacks struct {
	mu   sync.Mutex
	seen map[Revoked]bool
}

func (c *callbacks) record(entries []Revoked) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[Revoked]bool{}
	}
	for _, e := range entries {
		c.seen[e] = true
	}
}

func (c *callbacks) saw(e Revoked) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[e]
}

func session(uid, sid string) Revoked {
	now := time.Now().Truncate(time.Millisecond) // as the channel carries it
	return Revoked{UserID: uid, SessionID: sid, EndedAt: now, Expires: now.Add(time.Minute)}
}

func watching(t *testing.T, rdb *redis.Client, keys redisx.Keyspace, src *durableList) (*Revocations, *callbacks) {
	t.Helper()
	r := &Revocations{Redis: rdb, Keys: keys, Source: src.load, ReloadEvery: 20 * time.Millisecond}
	cb := &callbacks{}
	r.OnRevoke(cb.record)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Watch(ctx, quiet) }()
	t.Cleanup(func() { cancel(); <-done })
	eventually(t, "the list to load", r.Loaded)
	return r, cb
}

func revoked(r *Revocations, uid, sid string) bool {
	ok, err := r.IsRevoked(uid, sid)
	return ok && err == nil
}

// TestRevocationsFollowDurableListAndChannel: a process loads the durable list, learns new
// entries from the channel (and reports them), and keeps answering from memory when the Redis
// keys are flushed.
func TestRevocationsFollowDurableListAndChannel(t *testing.T) {
	rdb, keys := redistest.New(t)
	src := &durableList{}
	before := session("u1", "before-watch")
	src.add(before)
	reader, cb := watching(t, rdb, keys, src)
	writer := &Revocations{Redis: rdb, Keys: keys, Source: src.load}

	if !revoked(reader, "u1", "before-watch") {
		t.Fatal("an entry of the durable list is not revoked after the load")
	}
	pushed := session("u2", "s2")
	src.add(pushed)
	writer.Announce(context.Background(), quiet, pushed)
	eventually(t, "the pushed entry", func() bool { return revoked(reader, "u2", "s2") })
	eventually(t, "the callback of the pushed entry", func() bool { return cb.saw(pushed) })

	redistest.Flush(context.Background(), rdb, keys) // whatever Redis held under our prefix is gone
	for _, sid := range []string{"before-watch", "s2"} {
		if !revoked(reader, map[string]string{"before-watch": "u1", "s2": "u2"}[sid], sid) {
			t.Fatalf("%s forgotten after a flush", sid)
		}
	}
	if revoked(reader, "u1", "never-ended") {
		t.Fatal("a session never ended is revoked")
	}
	if revoked(reader, "u9", "s2") {
		t.Fatal("an entry ended another user's session of the same id")
	}
}

// TestRevocationsSurviveRedisRestart: while Redis is down the list is reloaded from the durable
// source (a revocation recorded meanwhile is learnt, and reported); a restart, which comes back
// empty, forgets nothing, and the channel works again afterwards.
func TestRevocationsSurviveRedisRestart(t *testing.T) {
	pr := redistest.NewPrivate(t)
	rdb := redis.NewClient(&redis.Options{Addr: pr.Addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	src := &durableList{}
	first := session("u1", "first")
	src.add(first)
	reader, cb := watching(t, rdb, "t", src)

	pr.Stop()
	duringOutage := session("u2", "during-outage")
	src.add(duringOutage) // the auth service recorded it; nothing could be published
	eventually(t, "the reload to find the entry recorded during the outage", func() bool { return revoked(reader, "u2", "during-outage") })
	if !cb.saw(duringOutage) {
		t.Fatal("the entry found by a reload was not reported")
	}
	if !revoked(reader, "u1", "first") {
		t.Fatal("the outage made a revoked session valid")
	}

	pr.Start()
	writer := &Revocations{Redis: rdb, Keys: "t", Source: src.load}
	afterRestart := session("u3", "after-restart")
	// Announced (not recorded in src): only the channel can deliver it, so once it arrives
	// the process has resubscribed.
	eventually(t, "the channel to carry revocations again", func() bool {
		writer.Announce(context.Background(), quiet, afterRestart)
		return revoked(reader, "u3", "after-restart")
	})
	for _, e := range []Revoked{first, duringOutage} {
		if !revoked(reader, e.UserID, e.SessionID) {
			t.Fatalf("%s valid again after the Redis restart", e.SessionID)
		}
	}
}

// TestRevocationsFailClosedUntilLoaded: before the first load a process cannot tell a revoked
// token from a valid one, so every check fails (the caller answers 503); a source that fails
// later never empties the list.
func TestRevocationsFailClosedUntilLoaded(t *testing.T) {
	rdb, keys := redistest.New(t)
	src := &durableList{down: true}
	r := &Revocations{Redis: rdb, Keys: keys, Source: src.load}
	if _, err := r.IsRevoked("u1", "s1"); !errors.Is(err, ErrListNotLoaded) {
		t.Fatalf("IsRevoked before a load: err = %v, want ErrListNotLoaded", err)
	}
	if err := r.Load(context.Background()); err == nil {
		t.Fatal("Load from a source that is down succeeded")
	}
	k := testKey(t)
	v := NewVerifier(NewStaticKeys(k), r)
	tok, err := Signer{Key: k, Issuer: Issuer, Audience: Audience}.Sign(TypeAccess, "u1", "s1", "j1", time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok, TypeAccess); !errors.Is(err, ErrRevokedCheck) {
		t.Fatalf("Verify before a load: err = %v, want ErrRevokedCheck", err)
	}

	src.setDown(false)
	src.add(session("u1", "s1"))
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	src.setDown(true)
	if err := r.Load(context.Background()); err == nil {
		t.Fatal("Load from a source that is down succeeded")
	}
	if !revoked(r, "u1", "s1") {
		t.Fatal("a failed reload emptied the list")
	}
	if _, err := v.Verify(context.Background(), tok, TypeAccess); !errors.Is(err, ErrRevoked) {
		t.Fatalf("Verify of the revoked session: err = %v, want ErrRevoked", err)
	}
}

// TestUserEntryEndsSessionsStartedBefore: a logout-all or reset entry ends the user's sessions
// that started at or before it (and those whose start is unknown), not later ones, not other
// users', not delegated tokens; entries end when they expire.
func TestUserEntryEndsSessionsStartedBefore(t *testing.T) {
	now := time.Now()
	clock := now
	r := &Revocations{Now: func() time.Time { return clock }}
	older := NewSessionID()
	time.Sleep(2 * time.Millisecond)
	cut := time.Now()
	time.Sleep(2 * time.Millisecond)
	newer := NewSessionID()
	r.remember([]Revoked{{UserID: "u1", EndedAt: cut, Expires: now.Add(time.Minute)}}, true)

	for name, tc := range map[string]struct {
		uid, sid string
		want     bool
	}{
		"started before":            {"u1", older, true},
		"started after":             {"u1", newer, false},
		"start unknown (UUIDv4)":    {"u1", uuid.NewString(), true},
		"another user's":            {"u2", older, false},
		"a delegated token's":       {"u1", ServiceSessionPrefix + "agents", false},
		"not a uuid, start unknown": {"u1", "legacy", true},
	} {
		if got, err := r.IsRevoked(tc.uid, tc.sid); err != nil || got != tc.want {
			t.Errorf("%s: IsRevoked = %v, %v; want %v", name, got, err, tc.want)
		}
	}
	clock = now.Add(time.Minute)
	if revoked(r, "u1", older) {
		t.Fatal("an expired entry still revokes")
	}
	r.prune()
	if len(r.users) != 0 {
		t.Fatalf("prune kept %d expired entries", len(r.users))
	}
}

func TestSessionStart(t *testing.T) {
	before := time.Now().Truncate(time.Millisecond)
	start, ok := SessionStart(NewSessionID())
	if !ok || start.Before(before) || start.After(time.Now()) {
		t.Fatalf("SessionStart(new id) = %v, %v; want a time from %v on", start, ok, before)
	}
	if _, ok := SessionStart(uuid.NewString()); ok {
		t.Fatal("a UUIDv4 has a start")
	}
}

// TestAnnounceLogsAnOutageOnce: while Redis is down each revocation still counts in this
// process, and the failed pushes are logged once at WARN (not once per logout), then once at
// INFO when a push works again.
func TestAnnounceLogsAnOutageOnce(t *testing.T) {
	pr := redistest.NewPrivate(t)
	rdb := redis.NewClient(&redis.Options{Addr: pr.Addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	r := &Revocations{Redis: rdb, Keys: "t", Source: (&durableList{}).load}
	ctx := context.Background()
	if err := r.Load(ctx); err != nil {
		t.Fatal(err)
	}
	pr.Stop()
	for i := range 5 {
		sid := fmt.Sprintf("s%d", i)
		r.Announce(ctx, log, session("u", sid))
		if !revoked(r, "u", sid) {
			t.Fatalf("%s not revoked in the announcing process", sid)
		}
	}
	pr.Start()
	r.Announce(ctx, log, session("u", "after"))
	r.Announce(ctx, log, session("u", "after2"))
	warn, info := strings.Count(logs.String(), `"level":"WARN"`), strings.Count(logs.String(), "available again")
	if warn != 1 || info != 1 {
		t.Errorf("%d WARN and %d INFO lines, want 1 and 1:\n%s", warn, info, logs.String())
	}
}
