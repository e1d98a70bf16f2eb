package live_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
)

func waitStats(t *testing.T, f *fixture, want live.Stats, within time.Duration) live.Stats {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := f.hub.Stats()
		if s == want || time.Now().After(deadline) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func bigTimeline(f *fixture, n int64, reason string) {
	f.fake.mu.Lock()
	defer f.fake.mu.Unlock()
	for i := int64(1); i <= n; i++ {
		e := event("p1", i, 1)
		e.GetGateChanged().Reason = reason
		f.fake.timeline["p1"] = append(f.fake.timeline["p1"], e)
	}
}

// TestDisconnectMidReplayFreesTheSocket: a client that leaves while its replay is still being sent frees the socket's goroutines, registrations and per-user count.
func TestDisconnectMidReplayFreesTheSocket(t *testing.T) {
	f := newReviewFixture(t, live.Config{SendBuffer: 4, MaxConnsPerUser: 1, WriteTimeout: time.Second}, reviewOpts{})
	bigTimeline(f.fixture, 2000, strings.Repeat("x", 16<<10))
	c, _, err := f.dial(t, f.token(t, "ann", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1", "afterEventId": "0"})
	c.SetReadLimit(1 << 20)
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	recv(t, c) // one replayed event, then the client goes away
	_ = c.CloseNow()

	if s := waitStats(t, f.fixture, live.Stats{}, 8*time.Second); s != (live.Stats{}) {
		t.Errorf("8s after the client left mid-replay the hub still holds %+v", s)
	}
	if c2, resp, err := f.dial(t, f.token(t, "ann", time.Hour)); err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		t.Errorf("the user can no longer connect (status %d): the leaked socket still counts against the limit", code)
	} else {
		c2.CloseNow()
	}
}

// TestNonReadingClientMidReplayIsFreed: a client that stops reading mid-replay (never closes) is let go when its write times out.
func TestNonReadingClientMidReplayIsFreed(t *testing.T) {
	f := newReviewFixture(t, live.Config{SendBuffer: 4, WriteTimeout: 300 * time.Millisecond, Heartbeat: 500 * time.Millisecond}, reviewOpts{})
	bigTimeline(f.fixture, 2000, strings.Repeat("x", 16<<10))
	c, _, err := f.dial(t, f.token(t, "ann", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1", "afterEventId": "0"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	// Never read again. The server should give up on this socket (write timeout, ping timeout).
	if s := waitStats(t, f.fixture, live.Stats{}, 8*time.Second); s != (live.Stats{}) {
		t.Errorf("a client that stopped reading mid-replay is never released: hub holds %+v", s)
	}
}

// TestLiveEventsHeldDuringReplayAreSentPaced: live events held back during a long replay are sent as paced as the replay, so a client that keeps up is not closed as too slow.
func TestLiveEventsHeldDuringReplayAreSentPaced(t *testing.T) {
	f := newReviewFixture(t, live.Config{SendBuffer: 4}, reviewOpts{})
	bigTimeline(f.fixture, 1000, strings.Repeat("x", 16<<10))
	c, _, err := f.dial(t, f.token(t, "ann", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1", "afterEventId": "0"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	// Eight events happen while the replay runs (the fake timeline does not have them: they are
	// newer than the replay's pages, exactly the case pending exists for).
	for id := int64(1001); id <= 1008; id++ {
		f.publish(t, event("p1", id, 2))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for want := int64(1); want <= 1008; want++ {
		time.Sleep(time.Millisecond) // a steady reader: 1,000 messages a second
		b, err := read(t, ctx, c)
		if err != nil {
			t.Fatalf("want event %d: closed with %v (%v)", want, websocket.CloseStatus(err), err)
		}
		var m msg
		_ = json.Unmarshal(b, &m)
		if m.Type != "event" || eventID(t, m) != want {
			t.Fatalf("want event %d, got %s", want, b)
		}
	}
}

// TestLatePublishIsStillDelivered: two changes commit 1 then 2 but reach the bus 2 then 1: the client still gets 1, once.
func TestLatePublishIsStillDelivered(t *testing.T) {
	f := newReviewFixture(t, live.Config{}, reviewOpts{})
	c, _, err := f.dial(t, f.token(t, "ann", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	f.fake.mu.Lock()
	f.fake.timeline["p1"] = []*projectsv1.Event{event("p1", 1, 1), event("p1", 2, 2)}
	f.fake.mu.Unlock()
	f.publish(t, event("p1", 2, 2))
	f.publish(t, event("p1", 1, 1))
	f.publish(t, event("p1", 3, 3))
	seen := map[int64]bool{}
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		b, err := read(t, ctx, c)
		cancel()
		if err != nil {
			break
		}
		var m msg
		_ = json.Unmarshal(b, &m)
		if m.Type == "event" {
			seen[eventID(t, m)] = true
		}
	}
	if !seen[1] {
		t.Errorf("event 1 (committed, published late) never reached the client: got %v", seen)
	}
}

// TestSubscribeWithoutAfterIsLiveOnly: without afterEventId a subscription gets live events only, not the project's whole history.
func TestSubscribeWithoutAfterIsLiveOnly(t *testing.T) {
	f := newReviewFixture(t, live.Config{}, reviewOpts{})
	bigTimeline(f.fixture, 3, "")
	c, _, err := f.dial(t, f.token(t, "ann", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	f.publish(t, event("p1", 4, 2))
	if m := recv(t, c); m.Type != "event" || eventID(t, m) != 4 {
		t.Errorf("without afterEventId the first message should be the live event 4, got event %d", eventID(t, m))
	}
}

// announce ends sessions the way the auth service does from another process: the entry goes
// out on the revocation channel, which the gateway's list follows.
func (f *reviewFixture) announce(t *testing.T, e authn.Revoked) {
	t.Helper()
	e.EndedAt, e.Expires = time.Now(), time.Now().Add(time.Hour)
	auth := &authn.Revocations{Redis: f.bus.Redis, Keys: f.bus.Keys}
	auth.Announce(context.Background(), nil, e)
}

// wantClosedRevoked fails the test unless the socket closes with 4001 without anything else
// being sent first. The heartbeat is a minute away and nothing is published: only the
// revocation itself can close it.
func wantClosedRevoked(t *testing.T, c *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := read(t, ctx, c)
	if code := websocket.CloseStatus(err); code != live.CloseTokenExpired {
		t.Fatalf("after the revocation: read %s, %v; want close %d", b, err, live.CloseTokenExpired)
	}
}

// TestRevokedSessionClosesItsSocketsAndStreams: a logout elsewhere closes the session's open
// socket and event stream with 4001 at once (not at the next message or heartbeat), its token
// opens neither again (401), and another user's socket carries on.
func TestRevokedSessionClosesItsSocketsAndStreams(t *testing.T) {
	f := newReviewFixture(t, live.Config{Heartbeat: time.Minute}, reviewOpts{revocations: true})
	annToken := f.token(t, "ann", time.Hour)
	c, _, err := f.dial(t, annToken)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	_, events := f.openStream(t, "/api/v1/notifications:stream", annToken, nil)
	if e := next(t, events); e.data.Type != "subscribed" {
		t.Fatalf("stream: %+v", e)
	}
	bob := f.connect(t, "bob")
	send(t, bob, map[string]string{"type": "subscribe", "projectId": "p2"})
	if m := recv(t, bob); m.Type != "subscribed" {
		t.Fatalf("bob: %+v", m)
	}

	f.announce(t, authn.Revoked{UserID: "ann", SessionID: "s-ann"})
	wantClosedRevoked(t, c)
	if e := next(t, events); e.event != live.StreamCloseEvent || e.closing.Code != int(live.CloseTokenExpired) {
		t.Fatalf("the event stream after the revocation: %+v, want its close event with %d", e, live.CloseTokenExpired)
	}
	if _, resp, err := f.dial(t, annToken); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a revoked session's token opened a socket: %v", err)
	}
	if resp, _ := f.openStream(t, "/api/v1/notifications:stream", annToken, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a revoked session's token opened an event stream: %d", resp.StatusCode)
	}
	f.publish(t, event("p2", 1, 1))
	if m := recv(t, bob); m.Type != "event" {
		t.Fatalf("another user's socket after the revocation: %+v", m)
	}
}

// TestLogoutAllClosesEverySocketOfTheUser: an entry ending every session of a user (logout-all,
// password reset) closes all of that user's sockets, and no one else's.
func TestLogoutAllClosesEverySocketOfTheUser(t *testing.T) {
	f := newReviewFixture(t, live.Config{Heartbeat: time.Minute}, reviewOpts{revocations: true})
	first, second, bob := f.connect(t, "ann"), f.connect(t, "ann"), f.connect(t, "bob")
	f.announce(t, authn.Revoked{UserID: "ann"}) // every session of ann's that started until now
	wantClosedRevoked(t, first)
	wantClosedRevoked(t, second)
	send(t, bob, map[string]string{"type": "subscribe", "projectId": "p2"})
	if m := recv(t, bob); m.Type != "subscribed" {
		t.Fatalf("bob after ann's logout-all: %+v", m)
	}
}

// TestUnloadedRevocationListIsUnavailable: until the process has loaded the revocation list it
// cannot tell a revoked token from a valid one: a socket or event stream is refused with 503
// (retry shortly), not 401 (sign in again).
func TestUnloadedRevocationListIsUnavailable(t *testing.T) {
	f := newReviewFixture(t, live.Config{}, reviewOpts{unloadedRevocations: true})
	tok := f.token(t, "ann", time.Hour)
	if _, resp, err := f.dial(t, tok); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a socket before the list is loaded: %v, want 503", err)
	}
	if resp, _ := f.openStream(t, "/api/v1/notifications:stream", tok, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("an event stream before the list is loaded: %d, want 503", resp.StatusCode)
	}
}

// slowAuth models the projects service's round trip (and optionally an outage) for Authorize.
type slowAuth struct {
	*projects
	delay   time.Duration
	failing func() bool
}

func (s slowAuth) Authorize(ctx context.Context, in *projectsv1.AuthorizeRequest, opts ...grpc.CallOption) (*projectsv1.AuthorizeResponse, error) {
	time.Sleep(s.delay)
	if s.failing != nil && s.failing() {
		return nil, status.Error(codes.Unavailable, "projects service unavailable")
	}
	return s.projects.Authorize(ctx, in, opts...)
}

func memberRemoved(project string, id int64, user string) *projectsv1.Event {
	return asServed(&projectsv1.Event{Id: id, ProjectId: project, Payload: &projectsv1.Event_MemberChanged{MemberChanged: &projectsv1.MemberChanged{UserId: user}}})
}

// TestRemovedMemberGetsNothingAfter: a member removed from a project is dropped at the removal event, before anything that follows.
func TestRemovedMemberGetsNothingAfter(t *testing.T) {
	f := newReviewFixture(t, live.Config{}, reviewOpts{wrap: func(p *projects) live.Projects { return slowAuth{projects: p, delay: 100 * time.Millisecond} }})
	c, _, err := f.dial(t, f.token(t, "ann", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	f.fake.mu.Lock()
	delete(f.fake.readers["p1"], "ann")
	f.fake.mu.Unlock()
	f.publish(t, memberRemoved("p1", 1, "ann"))
	f.publish(t, event("p1", 2, 3)) // committed after she was removed
	for range 3 {
		m := recv(t, c)
		if m.Type == "event" && eventID(t, m) == 2 {
			t.Fatalf("ann, removed by event 1, received event 2 of the project")
		}
		if m.Type == "error" && m.Code == "PermissionDenied" {
			return // dropped, and told why
		}
	}
}

// TestRemovalNeedsNoRoundTrip: dropping a removed member does not depend on reaching the projects service.
func TestRemovalNeedsNoRoundTrip(t *testing.T) {
	var down bool
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	failing := func() bool { <-mu; d := down; mu <- struct{}{}; return d }
	f := newReviewFixture(t, live.Config{}, reviewOpts{wrap: func(p *projects) live.Projects { return slowAuth{projects: p, failing: failing} }})
	c, _, err := f.dial(t, f.token(t, "ann", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	f.fake.mu.Lock()
	delete(f.fake.readers["p1"], "ann")
	f.fake.mu.Unlock()
	<-mu
	down = true
	mu <- struct{}{}
	f.publish(t, memberRemoved("p1", 1, "ann"))
	if m := recv(t, c); m.Type != "error" || m.Code != "PermissionDenied" {
		t.Fatalf("removal: %+v", m)
	}
	time.Sleep(300 * time.Millisecond)
	<-mu
	down = false
	mu <- struct{}{}
	f.publish(t, event("p1", 2, 3))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if b, err := read(t, ctx, c); err == nil {
		t.Errorf("removed member still subscribed after a failed recheck; got %s", b)
	}
}

// TestShutdownMidReplayEndsTheSocket: Shutdown ends a socket even while its replay waits for room in its send queue.
func TestShutdownMidReplayEndsTheSocket(t *testing.T) {
	f := newReviewFixture(t, live.Config{SendBuffer: 4}, reviewOpts{})
	bigTimeline(f.fixture, 2000, strings.Repeat("x", 16<<10))
	c, _, err := f.dial(t, f.token(t, "ann", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1", "afterEventId": "0"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	recv(t, c)
	// The client keeps reading, as a well-behaved one does, until the server closes.
	go func() {
		for {
			if _, err := read(t, context.Background(), c); err != nil {
				return
			}
		}
	}()
	f.hub.Shutdown()
	if s := waitStats(t, f.fixture, live.Stats{}, 8*time.Second); s != (live.Stats{}) {
		t.Errorf("8s after Shutdown the hub still holds %+v", s)
	}
}
