package live_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
	agentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	documentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
)

// projects is a fake projects service: who may read which project, and each project's timeline.
type projects struct {
	mu            sync.Mutex
	readers       map[string]map[string]bool // project -> user ids
	timeline      map[string][]*projectsv1.Event
	notifications map[string][]*projectsv1.Notification // user id -> theirs, oldest first
}

func (p *projects) Authorize(ctx context.Context, in *projectsv1.AuthorizeRequest, _ ...grpc.CallOption) (*projectsv1.AuthorizeResponse, error) {
	who, _ := authn.FromContext(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.readers[in.GetProjectId()][who.UserID] {
		return nil, status.Error(codes.NotFound, "project not found")
	}
	return &projectsv1.AuthorizeResponse{Role: projectsv1.Role_ROLE_VIEWER}, nil
}

func (p *projects) ListEvents(_ context.Context, in *projectsv1.ListEventsRequest, _ ...grpc.CallOption) (*projectsv1.ListEventsResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*projectsv1.Event
	for _, e := range p.timeline[in.GetProjectId()] {
		if e.GetId() > in.GetAfter() && len(out) < int(in.GetPageSize()) {
			out = append(out, e)
		}
	}
	return &projectsv1.ListEventsResponse{Events: out}, nil
}

func (p *projects) ListNotifications(ctx context.Context, in *projectsv1.ListNotificationsRequest, _ ...grpc.CallOption) (*projectsv1.ListNotificationsResponse, error) {
	who, _ := authn.FromContext(ctx)
	if !in.GetOldestFirst() {
		return nil, status.Error(codes.Unimplemented, "the fake lists oldest first only")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*projectsv1.Notification
	for _, n := range p.notifications[who.UserID] {
		if n.GetId() > in.GetAfterId() && len(out) < int(in.GetPageSize()) {
			out = append(out, n)
		}
	}
	return &projectsv1.ListNotificationsResponse{Notifications: out}, nil
}

// runs is a fake agents service: the project's runs, and a stream per watched run that the test
// feeds (closing it ends the stream).
type runs struct {
	mu           sync.Mutex
	list         []*agentsv1.Run
	changedSince []*timestamppb.Timestamp // what each ListRuns asked for
	streams      map[string]chan *agentsv1.WatchRunResponse
}

func (r *runs) ListRuns(_ context.Context, in *agentsv1.ListRunsRequest, _ ...grpc.CallOption) (*agentsv1.ListRunsResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changedSince = append(r.changedSince, in.GetChangedSince())
	var out []*agentsv1.Run
	for _, run := range r.list {
		if run.GetProjectId() == in.GetProjectId() {
			out = append(out, run)
		}
	}
	return &agentsv1.ListRunsResponse{Runs: out}, nil
}

func (r *runs) WatchRun(ctx context.Context, in *agentsv1.WatchRunRequest, _ ...grpc.CallOption) (grpc.ServerStreamingClient[agentsv1.WatchRunResponse], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.streams[in.GetRunId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "run not found")
	}
	return &runStream{ctx: ctx, ch: ch}, nil
}

// runStream is the client side of a fake WatchRun; the hub only calls Recv.
type runStream struct {
	grpc.ClientStream
	ctx context.Context
	ch  chan *agentsv1.WatchRunResponse
}

func (s *runStream) Recv() (*agentsv1.WatchRunResponse, error) {
	select {
	case m, ok := <-s.ch:
		if !ok {
			return nil, io.EOF
		}
		return m, nil
	case <-s.ctx.Done():
		return nil, status.FromContextError(s.ctx.Err()).Err()
	}
}

// documents is a fake documents service.
type documents struct {
	mu   sync.Mutex
	list []*documentsv1.Document
}

func (d *documents) ListDocuments(_ context.Context, in *documentsv1.ListDocumentsRequest, _ ...grpc.CallOption) (*documentsv1.ListDocumentsResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*documentsv1.Document
	for _, doc := range d.list {
		if doc.GetProjectId() == in.GetProjectId() {
			out = append(out, doc)
		}
	}
	return &documentsv1.ListDocumentsResponse{Documents: out}, nil
}

func event(project string, id int64, gate int32) *projectsv1.Event {
	return asServed(&projectsv1.Event{Id: id, ProjectId: project, Payload: &projectsv1.Event_GateChanged{GateChanged: &projectsv1.GateChanged{
		Gate: gate, To: projectsv1.GateState_GATE_STATE_IN_REVIEW}}})
}

type fixture struct {
	url     string // the socket's
	http    string // the server's, for the event streams
	hub     *live.Hub
	bus     *eventbus.Bus
	signer  authn.Signer
	fake    *projects
	runs    *runs
	docs    *documents
	publish func(t testing.TB, e *projectsv1.Event)
}

func newFixture(t testing.TB, cfg live.Config) *fixture {
	t.Helper()
	return newReviewFixture(t, cfg, reviewOpts{}).fixture
}

// reviewFixture is a fixture with an optional wrapper around the fake projects service and an
// optional revocation list.
type reviewFixture struct {
	*fixture
	revocations *authn.Revocations
}

type reviewOpts struct {
	wrap        func(*projects) live.Projects
	revocations bool
	// unloadedRevocations gives the verifier a list whose durable source never answers.
	unloadedRevocations bool
}

func newReviewFixture(t testing.TB, cfg live.Config, o reviewOpts) *reviewFixture {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	_, _ = rand.Read(seed)
	key, _ := authn.NewKey(seed)
	rdb, prefix := redistest.New(t)
	verifier := &authn.Verifier{Keys: authn.NewStaticKeys(key), Issuer: authn.Issuer, Audience: authn.Audience}
	var rev *authn.Revocations
	if o.revocations {
		// The gateway process's list, following the channel another process announces on.
		rev = &authn.Revocations{Redis: rdb, Keys: prefix, Source: func(context.Context) ([]authn.Revoked, error) { return nil, nil }}
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go rev.Watch(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
		for deadline := time.Now().Add(5 * time.Second); !rev.Loaded(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the revocation list did not load")
			}
		}
		verifier.Revocations = rev
	}
	if o.unloadedRevocations {
		verifier.Revocations = &authn.Revocations{Source: func(context.Context) ([]authn.Revoked, error) {
			return nil, errors.New("the auth service is unreachable")
		}}
	}
	bus := &eventbus.Bus{Redis: rdb, Keys: prefix}
	fake := &projects{readers: map[string]map[string]bool{"p1": {"ann": true}, "p2": {"bob": true}},
		timeline: map[string][]*projectsv1.Event{}, notifications: map[string][]*projectsv1.Notification{}}
	var p live.Projects = fake
	if o.wrap != nil {
		p = o.wrap(fake)
	}
	if cfg.MaxConnsPerUser == 0 {
		cfg.MaxConnsPerUser = 10000
	}
	if cfg.SendBuffer == 0 {
		cfg.SendBuffer = 64
	}
	if cfg.MaxSubscriptions == 0 {
		cfg.MaxSubscriptions = 10
	}
	if cfg.MaxWatches == 0 {
		cfg.MaxWatches = 2
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = time.Minute
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	rs, ds := &runs{streams: map[string]chan *agentsv1.WatchRunResponse{}}, &documents{}
	hub := live.New(cfg, verifier, live.Backends{Projects: p, Runs: rs, Documents: ds}, bus, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }()
	mux := http.NewServeMux()
	mux.Handle("/", hub)
	mux.HandleFunc("GET /api/v1/projects/{projectId}/events:stream", hub.ServeProjectStream)
	mux.HandleFunc("GET /api/v1/notifications:stream", hub.ServeNotificationStream)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close(); cancel(); <-done })
	f := &fixture{url: "ws" + strings.TrimPrefix(srv.URL, "http"), http: srv.URL, hub: hub, bus: bus, fake: fake, runs: rs, docs: ds,
		signer: authn.Signer{Key: key, Issuer: authn.Issuer, Audience: authn.Audience}}
	f.publish = func(t testing.TB, e *projectsv1.Event) {
		b, _ := edge.JSON.Marshal(e)
		if err := bus.Publish(context.Background(), eventbus.ProjectTopic(e.GetProjectId()), b); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // let Run subscribe
	return &reviewFixture{fixture: f, revocations: rev}
}

func (f *fixture) token(t testing.TB, user string, ttl time.Duration) string {
	tok, err := f.signer.Sign(authn.TypeAccess, user, "s-"+user, user+fmt.Sprint(time.Now().UnixNano()), time.Now(), ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// dial opens a socket the way a browser does, with the token as a subprotocol.
func (f *fixture) dial(t testing.TB, token string) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, f.url, &websocket.DialOptions{Subprotocols: []string{live.Subprotocol, "bearer." + token}})
}

type msg struct {
	Type          string          `json:"type"`
	ProjectID     string          `json:"projectId"`
	RunID         string          `json:"runId"`
	Notifications bool            `json:"notifications"`
	Code          string          `json:"code"`
	Message       string          `json:"message"`
	Event         json.RawMessage `json:"event"`
	Run           json.RawMessage `json:"run"`
	Document      json.RawMessage `json:"document"`
	Notification  json.RawMessage `json:"notification"`
	Chunk         json.RawMessage `json:"chunk"`
}

// send sends a request, which must be one the live contract describes.
func send(t testing.TB, c *websocket.Conn, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	checkSent(t, b)
	sendRaw(t, c, string(b))
}

// sendRaw sends a message as it is: a request outside the contract, on purpose.
func sendRaw(t testing.TB, c *websocket.Conn, s string) {
	t.Helper()
	if err := c.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// recv reads a message, checked against the live contract.
func recv(t testing.TB, c *websocket.Conn) msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := read(t, ctx, c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m msg
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func eventID(t *testing.T, m msg) int64 {
	var e projectsv1.Event
	if err := protojson.Unmarshal(m.Event, &e); err != nil {
		t.Fatalf("event %s: %v", m.Event, err)
	}
	return e.GetId()
}

// TestAuthenticationAndAuthorization: no socket without a valid access token; a client gets the
// events of the projects it may read and never those of others.
func TestAuthenticationAndAuthorization(t *testing.T) {
	f := newFixture(t, live.Config{})
	if _, resp, err := f.dial(t, "not-a-token"); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %v %v", err, resp)
	}
	c, _, err := f.dial(t, f.token(t, "ann", time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p2"})
	if m := recv(t, c); m.Type != "error" || m.Code != "NotFound" || m.ProjectID != "p2" {
		t.Fatalf("subscribing to another's project: %+v", m)
	}
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	f.publish(t, event("p2", 7, 1)) // not hers
	f.publish(t, event("p1", 1, 1))
	if m := recv(t, c); m.Type != "event" || m.ProjectID != "p1" || eventID(t, m) != 1 {
		t.Fatalf("event: %+v", m)
	}
	// A run's state changes reach the followers of its project only.
	for _, p := range []string{"p2", "p1"} {
		run, _ := edge.JSON.Marshal(asServed(&agentsv1.Run{Id: "r-" + p, ProjectId: p, State: agentsv1.RunState_RUN_STATE_RUNNING}))
		if err := f.bus.Publish(context.Background(), eventbus.ProjectRunsTopic(p), run); err != nil {
			t.Fatal(err)
		}
	}
	if m := recv(t, c); m.Type != "run" || m.ProjectID != "p1" || !strings.Contains(string(m.Run), `"r-p1"`) {
		t.Fatalf("run: %+v", m)
	}
	// So do its documents' saves.
	for _, p := range []string{"p2", "p1"} {
		saved, _ := edge.JSON.Marshal(asServed(&documentsv1.SavedDocument{Document: &documentsv1.Document{Id: "d-" + p, ProjectId: p, Version: 2},
			Outcome: documentsv1.SaveOutcome_SAVE_OUTCOME_NEW_VERSION}))
		if err := f.bus.Publish(context.Background(), eventbus.ProjectDocumentsTopic(p), saved); err != nil {
			t.Fatal(err)
		}
	}
	if m := recv(t, c); m.Type != "document" || m.ProjectID != "p1" || !strings.Contains(string(m.Document), `"d-p1"`) {
		t.Fatalf("document: %+v", m)
	}
}

// TestResumeThenLive: a subscription after event 1 gets 2 and 3 from the timeline, then the live
// events, in order, with the one that is both replayed and live sent once.
func TestResumeThenLive(t *testing.T) {
	f := newFixture(t, live.Config{})
	f.fake.timeline["p1"] = []*projectsv1.Event{event("p1", 1, 1), event("p1", 2, 1), event("p1", 3, 1)}
	c, _, err := f.dial(t, f.token(t, "ann", time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1", "afterEventId": "1"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	f.publish(t, event("p1", 3, 1))
	f.publish(t, event("p1", 4, 2))
	for _, want := range []int64{2, 3, 4} {
		if m := recv(t, c); m.Type != "event" || eventID(t, m) != want {
			t.Fatalf("want event %d, got %+v", want, m)
		}
	}
	send(t, c, map[string]string{"type": "unsubscribe", "projectId": "p1"})
	if m := recv(t, c); m.Type != "unsubscribed" {
		t.Fatalf("unsubscribe: %+v", m)
	}
}

// TestSlowConsumerIsDisconnected: a client that stops reading is closed with 4008 once its queue
// is full, instead of holding events for ever.
func TestSlowConsumerIsDisconnected(t *testing.T) {
	f := newFixture(t, live.Config{SendBuffer: 2})
	c, _, err := f.dial(t, f.token(t, "ann", time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	// Events big enough to fill the socket's buffers too.
	big := strings.Repeat("x", 64<<10)
	for i := int64(1); i <= 200; i++ {
		e := event("p1", i, 1)
		e.GetGateChanged().Reason = big
		f.publish(t, e)
	}
	time.Sleep(500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, err := read(t, ctx, c); err != nil {
			if code := websocket.CloseStatus(err); code != live.CloseTooSlow {
				t.Fatalf("closed with %v (%v), want %d", code, err, live.CloseTooSlow)
			}
			return
		}
	}
}

// TestExpiredTokenClosesTheSocket: the socket ends with 4001 when its access token expires.
func TestExpiredTokenClosesTheSocket(t *testing.T) {
	f := newFixture(t, live.Config{})
	c, _, err := f.dial(t, f.token(t, "ann", 1500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = read(t, ctx, c)
	if code := websocket.CloseStatus(err); code != live.CloseTokenExpired {
		t.Fatalf("closed with %v (%v), want %d", code, err, live.CloseTokenExpired)
	}
}

// TestConnectionsPerUserAreLimited: past the limit a socket is refused with 429.
func TestConnectionsPerUserAreLimited(t *testing.T) {
	f := newFixture(t, live.Config{MaxConnsPerUser: 2})
	for range 2 {
		c, _, err := f.dial(t, f.token(t, "ann", time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
	}
	if _, resp, err := f.dial(t, f.token(t, "ann", time.Minute)); err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third socket: %v %v", err, resp)
	}
	if c, _, err := f.dial(t, f.token(t, "bob", time.Minute)); err != nil {
		t.Fatalf("another user: %v", err)
	} else {
		c.CloseNow()
	}
}

// TestThousandsOfConnectionsLeaveNothing: opening and closing 2,000 subscribed sockets leaves the
// registry empty and the goroutines and heap where they were (the seed's WebSocket leak).
func TestThousandsOfConnectionsLeaveNothing(t *testing.T) {
	f := newFixture(t, live.Config{})
	tok := f.token(t, "ann", time.Hour)
	open := func() {
		c, _, err := f.dial(t, tok)
		if err != nil {
			t.Error(err)
			return
		}
		send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
		if m := recv(t, c); m.Type != "subscribed" {
			t.Errorf("subscribe: %+v", m)
		}
		if errors.Is(c.Close(websocket.StatusNormalClosure, ""), context.Canceled) {
			t.Error("close")
		}
	}
	open() // warm up: the first socket allocates what later ones reuse
	settle := func() (int, uint64) {
		var ms runtime.MemStats
		for range 3 {
			runtime.GC()
		}
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapInuse
	}
	goroutines, heap := settle()
	for range 20 {
		var wg sync.WaitGroup
		for range 100 {
			wg.Add(1)
			go func() { defer wg.Done(); open() }()
		}
		wg.Wait()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := f.hub.Stats()
		g, h := settle()
		if s == (live.Stats{}) && g <= goroutines+2 && h < heap+8<<20 {
			t.Logf("after 2000 sockets: %d goroutines (were %d), heap %d KiB (was %d KiB)", g, goroutines, h>>10, heap>>10)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2000 sockets: registry %+v, %d goroutines (were %d), heap %d KiB (was %d KiB)", s, g, goroutines, h>>10, heap>>10)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestLongReplayIsPaced: a client that missed far more events than its send queue holds gets them
// all on resume, paced, instead of being disconnected as too slow.
func TestLongReplayIsPaced(t *testing.T) {
	f := newFixture(t, live.Config{SendBuffer: 4})
	for i := int64(1); i <= 1000; i++ {
		f.fake.timeline["p1"] = append(f.fake.timeline["p1"], event("p1", i, 1))
	}
	c, _, err := f.dial(t, f.token(t, "ann", time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send(t, c, map[string]string{"type": "subscribe", "projectId": "p1", "afterEventId": "0"})
	if m := recv(t, c); m.Type != "subscribed" {
		t.Fatalf("subscribe: %+v", m)
	}
	for want := int64(1); want <= 1000; want++ {
		if m := recv(t, c); m.Type != "event" || eventID(t, m) != want {
			t.Fatalf("want event %d, got %+v", want, m)
		}
	}
}
