package eventbus

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

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
