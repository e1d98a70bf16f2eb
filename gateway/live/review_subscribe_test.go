package live_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/grpc"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
)

// slowPages models the projects service's round trip for ListEvents.
type slowPages struct {
	*projects
	delay time.Duration
}

func (s slowPages) ListEvents(ctx context.Context, in *projectsv1.ListEventsRequest, opts ...grpc.CallOption) (*projectsv1.ListEventsResponse, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.projects.ListEvents(ctx, in, opts...)
}

// TestReviewUnsubscribeStopsTheReplay: unsubscribing while the replay runs does not stop it
// (remove only deletes the subscription; the replay goroutine keeps its pointer and its pages),
// so events keep coming after "unsubscribed"; subscribing again from the last id seen then runs
// a second replay beside the first, and the client gets every event twice, out of order.
func TestReviewUnsubscribeStopsTheReplay(t *testing.T) {
	// A big queue, so that this shows the replay's goroutine, not the queue (see the paced tests).
	f := newReviewFixture(t, live.Config{SendBuffer: 1024}, reviewOpts{wrap: func(p *projects) live.Projects { return slowPages{projects: p, delay: 40 * time.Millisecond} }})
	bigTimeline(f.fixture, 2000, "")
	c := f.connect(t, "ann")
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1", "afterEventId": "0"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	if m := recv(t, c); m.Type != "event" || eventID(t, m) != 1 {
		t.Fatalf("want event 1: %+v", m)
	}
	send(t, c, map[string]string{"type": "unsubscribe", "projectId": "p1"})
	last := int64(1)
	for {
		m := recv(t, c)
		if m.Type == "unsubscribed" {
			break
		}
		if m.Type != "event" {
			t.Fatalf("before unsubscribed: %+v", m)
		}
		last = eventID(t, m)
	}
	// What a browser does to resume: subscribe again after the last event it saw.
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1", "afterEventId": fmt.Sprint(last)})
	resubscribed := false
	next := last + 1
	for next <= 2000 {
		m := recv(t, c)
		switch {
		case m.Type == "subscribed":
			resubscribed = true
		case m.Type == "event" && !resubscribed:
			t.Fatalf("event %d after unsubscribed, before subscribing again: the replay did not stop", eventID(t, m))
		case m.Type == "event":
			if id := eventID(t, m); id != next {
				t.Fatalf("after resubscribing from %d: want event %d, got %d (the first replay still runs beside the second: duplicates, out of order)", last, next, id)
			}
			next++
		default:
			t.Fatalf("unexpected %+v", m)
		}
	}
	if got, _ := readFor(t, c, 300*time.Millisecond); len(got) != 0 {
		t.Fatalf("after event 2000, %d more messages (first %+v)", len(got), got[0])
	}
}

// TestReviewUnsubscribeRightAfterSubscribe: subscribe runs on its own goroutine while
// unsubscribe runs on the reader, so an unsubscribe sent right after a subscribe is handled
// first: it finds nothing, answers nothing, and the subscription lands after it — the client
// that unsubscribed stays subscribed and keeps receiving the project's events.
func TestReviewUnsubscribeRightAfterSubscribe(t *testing.T) {
	f := newReviewFixture(t, live.Config{}, reviewOpts{wrap: func(p *projects) live.Projects { return slowAuth{projects: p, delay: 100 * time.Millisecond} }})
	c := f.connect(t, "ann")
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	send(t, c, map[string]string{"type": "unsubscribe", "projectId": "p1"})
	time.Sleep(300 * time.Millisecond) // both requests answered
	f.publish(t, event("p1", 1, 1))
	got, err := readFor(t, c, 700*time.Millisecond)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var unsubscribed bool
	for _, m := range got {
		if m.Type == "unsubscribed" {
			unsubscribed = true
		}
		if m.Type == "event" {
			t.Errorf("the client unsubscribed from p1 (right after subscribing) and still got its event %d; messages: %+v", eventID(t, m), got)
		}
	}
	if !unsubscribed {
		t.Errorf("the unsubscribe was never answered: %+v", got)
	}
}

// TestReviewDuplicateSubscribeIsAnswered: two subscribes of the same project in a row both pass
// the duplicate check (it runs before Authorize, the subscription is recorded after); the second
// then returns silently ("a racing duplicate"), so the client gets one answer for two requests.
func TestReviewDuplicateSubscribeIsAnswered(t *testing.T) {
	f := newReviewFixture(t, live.Config{}, reviewOpts{wrap: func(p *projects) live.Projects { return slowAuth{projects: p, delay: 100 * time.Millisecond} }})
	c := f.connect(t, "ann")
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	got, err := readFor(t, c, 700*time.Millisecond)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("two subscribes, want two answers (subscribed, AlreadyExists); got %+v", got)
	}
}

// TestReviewSubscriptionLimitHoldsUnderConcurrentSubscribes: the MaxSubscriptions check reads
// len(c.subs) before Authorize and the subscription is added after it, so subscribes sent
// together all pass the check and a socket follows more projects than allowed.
func TestReviewSubscriptionLimitHoldsUnderConcurrentSubscribes(t *testing.T) {
	f := newReviewFixture(t, live.Config{MaxSubscriptions: 1}, reviewOpts{wrap: func(p *projects) live.Projects { return slowAuth{projects: p, delay: 100 * time.Millisecond} }})
	f.fake.mu.Lock()
	for _, p := range []string{"p3", "p4", "p5"} {
		f.fake.readers[p] = map[string]bool{"ann": true}
	}
	f.fake.mu.Unlock()
	c := f.connect(t, "ann")
	for _, p := range []string{"p1", "p3", "p4", "p5"} {
		send(t, c, map[string]string{"type": "subscribe", "projectId": p})
	}
	got, err := readFor(t, c, 700*time.Millisecond)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var subscribed []string
	for _, m := range got {
		if m.Type == "subscribed" {
			subscribed = append(subscribed, m.ProjectID)
		}
	}
	if len(subscribed) > 1 {
		t.Errorf("MaxSubscriptions is 1, the socket was subscribed to %v; Stats %+v", subscribed, f.hub.Stats())
	}
}

// countingAuth counts the Authorize calls in flight.
type countingAuth struct {
	*projects
	delay     time.Duration
	mu        sync.Mutex
	cur, peak int
}

func (a *countingAuth) Authorize(ctx context.Context, in *projectsv1.AuthorizeRequest, opts ...grpc.CallOption) (*projectsv1.AuthorizeResponse, error) {
	a.mu.Lock()
	a.cur++
	a.peak = max(a.peak, a.cur)
	a.mu.Unlock()
	defer func() { a.mu.Lock(); a.cur--; a.mu.Unlock() }()
	select {
	case <-time.After(a.delay):
	case <-ctx.Done():
	}
	return a.projects.Authorize(ctx, in, opts...)
}

// TestReviewSubscribeRequestsAreBounded: every subscribe request starts a goroutine and an
// Authorize call at once, with no bound: one socket sending a burst of tiny subscribe messages
// (of projects it cannot read, or any) makes the gateway hold as many goroutines and in-flight
// calls to the projects service as it sends messages.
func TestReviewSubscribeRequestsAreBounded(t *testing.T) {
	auth := &countingAuth{delay: 400 * time.Millisecond}
	f := newReviewFixture(t, live.Config{MaxSubscriptions: 10, SendBuffer: 4096}, reviewOpts{wrap: func(p *projects) live.Projects { auth.projects = p; return auth }})
	c := f.connect(t, "ann")
	const burst = 300
	var b strings.Builder
	for i := range burst {
		b.Reset()
		fmt.Fprintf(&b, `{"type":"subscribe","projectId":"q%d"}`, i)
		if err := c.Write(context.Background(), websocket.MessageText, []byte(b.String())); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(250 * time.Millisecond)
	auth.mu.Lock()
	peak := auth.peak
	auth.mu.Unlock()
	if peak > 10 {
		t.Errorf("one socket had %d Authorize calls (and subscribe goroutines) in flight at once; it may subscribe to at most 10 projects", peak)
	}
}

// TestReviewErrorCodesAreGRPCNames: the protocol's error code is the gRPC code's name
// ("InvalidArgument", "NotFound", … as every other error says), but a message that is not JSON,
// or of an unknown type, is answered with "INVALID_ARGUMENT".
func TestReviewErrorCodesAreGRPCNames(t *testing.T) {
	f := newFixture(t, live.Config{})
	c := f.connect(t, "ann")
	if err := c.Write(context.Background(), websocket.MessageText, []byte(`not json`)); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, c); m.Type != "error" || m.Code != "InvalidArgument" {
		t.Errorf("malformed JSON: code %q, want InvalidArgument (as for a bad afterEventId): %+v", m.Code, m)
	}
	sendRaw(t, c, `{"type":"subscribe"}`) // for comparison: the gRPC name
	if m := recv(t, c); m.Type != "error" || m.Code != "InvalidArgument" {
		t.Fatalf("subscribe without a project: %+v", m)
	}
	sendRaw(t, c, `{"type":"bogus"}`)
	if m := recv(t, c); m.Type != "error" || m.Code != "InvalidArgument" {
		t.Errorf("unknown type: code %q, want InvalidArgument: %+v", m.Code, m)
	}
}
