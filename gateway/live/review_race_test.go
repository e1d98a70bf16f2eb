package live_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
	agentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
)

func publishQuietly(f *fixture, e *projectsv1.Event) {
	b, _ := edge.JSON.Marshal(e)
	_ = f.bus.Publish(context.Background(), eventbus.ProjectTopic(e.GetProjectId()), b)
}

// removeAfterAuthorize: the member is removed (and the removal dispatched) after the projects
// service said yes but before the gateway acted on the answer.
type removeAfterAuthorize struct {
	*projects
	once sync.Once
	hook func()
}

func (a *removeAfterAuthorize) Authorize(ctx context.Context, in *projectsv1.AuthorizeRequest, opts ...grpc.CallOption) (*projectsv1.AuthorizeResponse, error) {
	resp, err := a.projects.Authorize(ctx, in, opts...)
	if err == nil {
		a.once.Do(a.hook)
	}
	return resp, err
}

// TestReviewRemovalDuringSubscribeIsNotMissed: subscribe authorises, then joins the fan-out.
// A removal dispatched in between reaches no subscription of the socket, so the socket joins
// after it and then follows, live and for as long as it stays open, a project its user was
// removed from (nothing rechecks: the drop happens only at the removal event).
func TestReviewRemovalDuringSubscribeIsNotMissed(t *testing.T) {
	a := &removeAfterAuthorize{}
	f := newReviewFixture(t, live.Config{}, reviewOpts{wrap: func(p *projects) live.Projects { a.projects = p; return a }})
	a.hook = func() {
		f.fake.mu.Lock()
		delete(f.fake.readers["p1"], "ann")
		f.fake.mu.Unlock()
		publishQuietly(f.fixture, memberRemoved("p1", 1, "ann"))
		time.Sleep(200 * time.Millisecond) // the hub has dispatched the removal
	}
	c := f.connect(t, "ann")
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	time.Sleep(400 * time.Millisecond)
	f.publish(t, event("p1", 2, 3)) // after ann's removal
	got, err := readFor(t, c, 700*time.Millisecond)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	for _, m := range got {
		if m.Type == "event" {
			t.Fatalf("ann, removed from p1 by event 1, received its event %d: %+v", eventID(t, m), got)
		}
	}
}

// removeDuringPage is the projects service's ListEvents, which authorises the caller: the
// member is removed while a replay page is being read, so the page holds the removal and what
// followed it.
type removeDuringPage struct {
	*projects
	once sync.Once
	hook func()
}

func (a *removeDuringPage) ListEvents(ctx context.Context, in *projectsv1.ListEventsRequest, opts ...grpc.CallOption) (*projectsv1.ListEventsResponse, error) {
	who, _ := authn.FromContext(ctx)
	a.projects.mu.Lock()
	ok := a.projects.readers[in.GetProjectId()][who.UserID]
	a.projects.mu.Unlock()
	if !ok {
		return nil, status.Error(codes.PermissionDenied, "not a member")
	}
	if in.GetPageSize() > 1 {
		a.once.Do(a.hook)
	}
	return a.projects.ListEvents(ctx, in, opts...)
}

// TestReviewReplayStopsAtRemoval: a member removed while her resuming subscription replays is
// dropped (the live removal event), but the replay goes on: it sends the rest of the record it
// read — the removal itself and the events after it — to the removed member, after the error
// that told her she is no longer subscribed. Replayed items are never checked for the
// removal, and the replay does not notice its subscription is gone.
func TestReviewReplayStopsAtRemoval(t *testing.T) {
	a := &removeDuringPage{}
	f := newReviewFixture(t, live.Config{}, reviewOpts{wrap: func(p *projects) live.Projects { a.projects = p; return a }})
	f.fake.timeline["p1"] = []*projectsv1.Event{event("p1", 1, 1), event("p1", 2, 1)}
	a.hook = func() {
		f.fake.mu.Lock()
		delete(f.fake.readers["p1"], "ann")
		removal, secret := memberRemoved("p1", 3, "ann"), event("p1", 4, 5)
		secret.GetGateChanged().Reason = "written after ann was removed"
		f.fake.timeline["p1"] = append(f.fake.timeline["p1"], removal, secret)
		f.fake.mu.Unlock()
		publishQuietly(f.fixture, removal)
		time.Sleep(200 * time.Millisecond) // the hub has dropped the subscription
	}
	c := f.connect(t, "ann")
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1", "afterEventId": "1"})
	got, err := readFor(t, c, 700*time.Millisecond)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	dropped := false
	for _, m := range got {
		if m.Type == "error" && m.Code == "PermissionDenied" {
			dropped = true
		}
		if m.Type == "event" && eventID(t, m) >= 3 {
			t.Errorf("ann (dropped: %v) received event %d, the removal or after it: %s", dropped, eventID(t, m), m.Event)
		}
	}
}

// TestReviewWatchAgainAfterItEnded: a watch's goroutine sends its last word (the error, or
// "unwatched" when the run finished) and only then forgets the watch, so a client that watches
// the run again as soon as it is told is often answered AlreadyExists for a watch that has ended.
func TestReviewWatchAgainAfterItEnded(t *testing.T) {
	f := newFixture(t, live.Config{})
	c := f.connect(t, "ann")
	for i := range 2000 {
		send(t, c, map[string]string{"type": "watchRun", "projectId": "p1", "runId": "gone"})
		if m := recv(t, c); m.Type != "error" || m.Code != "NotFound" {
			t.Fatalf("watch %d of a run the service does not show: %+v (the previous watch had already failed)", i+1, m)
		}
	}
	for i := range 200 {
		r1 := f.stream("r1")
		send(t, c, map[string]string{"type": "watchRun", "projectId": "p1", "runId": "r1"})
		go func() { feed(t, r1, runMessage(agentsv1.RunState_RUN_STATE_SUCCEEDED)); close(r1) }()
		if m := recv(t, c); m.Type != "run" {
			t.Fatalf("watch %d of a finished run: %+v (the previous watch had ended with unwatched)", i+1, m)
		}
		if m := recv(t, c); m.Type != "unwatched" {
			t.Fatalf("watch %d: want unwatched, got %+v", i+1, m)
		}
	}
}

// TestReviewSubscribedComesFirst: subscribe joins the fan-out, then queues "subscribed"; a live
// event dispatched in between is queued first, so the client gets an event of a project before
// being told it is subscribed to it.
func TestReviewSubscribedComesFirst(t *testing.T) {
	f := newFixture(t, live.Config{SendBuffer: 4096})
	var stop atomic.Bool
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		b, _ := edge.JSON.Marshal(event("p1", 1, 1))
		for !stop.Load() {
			_ = f.bus.Publish(context.Background(), eventbus.ProjectTopic("p1"), b)
		}
	}()
	defer func() { stop.Store(true); <-flooded }()
	var bad atomic.Value
	var wg sync.WaitGroup
	for range 16 {
		c := f.connect(t, "ann")
		wg.Add(1)
		go func() {
			defer wg.Done()
			read := func() (msg, bool) {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				b, err := read(t, ctx, c)
				if err != nil {
					t.Errorf("read: %v", err)
					return msg{}, false
				}
				var m msg
				_ = json.Unmarshal(b, &m)
				return m, true
			}
			for range 150 {
				if bad.Load() != nil {
					return
				}
				send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
				m, ok := read()
				if !ok {
					return
				}
				if m.Type != "subscribed" {
					bad.Store(m.Type)
					return
				}
				send(t, c, map[string]string{"type": "unsubscribe", "projectId": "p1"})
				for { // after "unsubscribed" nothing of p1 is queued any more
					m, ok := read()
					if !ok {
						return
					}
					if m.Type == "unsubscribed" {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	if v := bad.Load(); v != nil {
		t.Fatalf("the first message after subscribe was %q, not subscribed", v)
	}
}
