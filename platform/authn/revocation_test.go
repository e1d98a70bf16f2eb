package authn

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestWatchedRevocationsAnswerFromMemory: a watching process loads the revocations that exist,
// learns new ones from the channel, and answers without asking Redis.
func TestWatchedRevocationsAnswerFromMemory(t *testing.T) {
	rdb, prefix := redistest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	writer := &Revocations{Redis: rdb, Keys: prefix, TTL: time.Minute}
	if err := writer.RevokeSessions(ctx, "before-watch"); err != nil {
		t.Fatal(err)
	}
	reader := &Revocations{Redis: rdb, Keys: prefix}
	go reader.Watch(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	eventually(t, "the watch to go live", reader.live.Load)

	if err := writer.RevokeSessions(ctx, "s1", "s2"); err != nil {
		t.Fatal(err)
	}
	for _, sid := range []string{"before-watch", "s1", "s2"} {
		eventually(t, sid+" to be revoked", func() bool { ok, err := reader.IsRevoked(ctx, sid); return ok && err == nil })
	}
	// Answered from memory: the Redis entries are gone, the answers stay.
	rdb.Del(ctx, writer.key("s1"), writer.key("before-watch"))
	if ok, _ := reader.IsRevoked(ctx, "s1"); !ok {
		t.Fatal("a watched revocation was forgotten")
	}
	if ok, _ := reader.IsRevoked(ctx, "never-revoked"); ok {
		t.Fatal("an unknown session is revoked")
	}
}

// TestUnwatchedRevocationsAskRedis: without a live watch, each check goes to Redis, and a Redis
// failure is an error (the caller fails closed), never "not revoked".
func TestUnwatchedRevocationsAskRedis(t *testing.T) {
	rdb, prefix := redistest.New(t)
	ctx := context.Background()
	r := &Revocations{Redis: rdb, Keys: prefix, TTL: time.Minute}
	if err := r.RevokeSessions(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	other := &Revocations{Redis: rdb, Keys: prefix}
	if ok, err := other.IsRevoked(ctx, "gone"); !ok || err != nil {
		t.Fatalf("IsRevoked = %v, %v", ok, err)
	}
	_ = rdb.Close()
	if _, err := other.IsRevoked(ctx, "gone"); err == nil {
		t.Fatal("a Redis failure answered as not revoked")
	}
}
