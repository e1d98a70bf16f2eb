package eventbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/logging/logtest"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
)

func TestPublishReachesSubscribersOfTheTopicOnly(t *testing.T) {
	rdb, prefix := redistest.New(t)
	bus := &Bus{Redis: rdb, Keys: prefix}
	ctx := context.Background()
	sub, err := bus.Subscribe(ctx, ProjectTopic("p1"))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	other := &Bus{Redis: rdb, Keys: prefix + "-other"} // another deployment on the same Redis
	if err := other.Publish(ctx, ProjectTopic("p1"), []byte("not for us")); err != nil {
		t.Fatal(err)
	}
	if err := bus.Publish(ctx, ProjectTopic("p2"), []byte("other project")); err != nil {
		t.Fatal(err)
	}
	if err := bus.Publish(ctx, ProjectTopic("p1"), []byte(`{"id":1}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-sub.C:
		if string(got) != `{"id":1}` {
			t.Fatalf("got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	for range sub.C { // drains and ends: Close closes C
	}
}

// TestPatternSubscriptionAndAbandonedReceiver: a pattern subscription gets every matching topic;
// a receiver that stopped reading with the buffer full does not keep the subscription's
// goroutine alive after Close.
func TestPatternSubscriptionAndAbandonedReceiver(t *testing.T) {
	rdb, prefix := redistest.New(t)
	bus := &Bus{Redis: rdb, Keys: prefix}
	ctx := context.Background()
	if err := bus.Publish(ctx, "warm-up", nil); err != nil { // the client's own goroutines start
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	sub, err := bus.SubscribePattern(ctx, ProjectTopic("*"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if err := bus.Publish(ctx, ProjectTopic(fmt.Sprint("p", i)), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case got := <-sub.C:
		if string(got) != "x" {
			t.Fatalf("got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message on the pattern")
	}
	time.Sleep(100 * time.Millisecond) // let the buffer fill
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	// Nobody reads C any more: the goroutines of the subscription must still end.
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before the subscription", runtime.NumGoroutine(), before)
		}
	}
}

// TestRedisOutagePausesLiveEvents: while Redis is down, Publish fails at once with
// ErrUnavailable (a write that publishes is not held up, nor failed by its caller) and the outage
// is logged once; when Redis is back, an existing subscription receives again without being
// made anew, and the recovery is logged.
func TestRedisOutagePausesLiveEvents(t *testing.T) {
	r := redistest.NewPrivate(t)
	ctx := context.Background()
	rdb, err := redisx.Open(ctx, r.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	var logs logtest.Buffer
	bus := &Bus{Redis: rdb, Keys: "outage", Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	sub, err := bus.Subscribe(ctx, ProjectTopic("p1"))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	r.Stop()
	for range 3 {
		if err := bus.Publish(ctx, ProjectTopic("p1"), []byte("lost")); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("publish while Redis is down: %v, want ErrUnavailable", err)
		}
	}

	r.Start()
	deadline := time.After(15 * time.Second)
	for received := false; !received; {
		_ = bus.Publish(ctx, ProjectTopic("p1"), []byte("after"))
		select {
		case got := <-sub.C:
			received = string(got) == "after"
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("the subscription received nothing after Redis came back")
		}
	}
	if err := bus.Publish(ctx, ProjectTopic("p1"), []byte("again")); err != nil {
		t.Fatalf("publish after recovery: %v", err)
	}
	var levels []any
	for _, rec := range logs.Records() {
		levels = append(levels, rec["level"])
	}
	if len(levels) != 2 || levels[0] != "WARN" || levels[1] != "INFO" {
		t.Errorf("want one WARN for the outage and one INFO for the recovery, got %v", levels)
	}
}
