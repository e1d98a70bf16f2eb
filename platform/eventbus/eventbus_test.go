package eventbus

import (
	"context"
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
