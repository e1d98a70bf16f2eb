// Package live serves the WebSocket of live events, /api/v1/ws. A client authenticates with an
// access token (the Authorization header, or the subprotocol "bearer.<token>" for browsers,
// which cannot set headers on a WebSocket) and subscribes to what it wants to follow:
//
//   - a project it may read (checked with the projects service as that user): its timeline
//     events (the public Event message, as ListEvents answers), the state changes of its agent
//     runs (the public Run message) and the saves of its documents (SavedDocument);
//   - its own notifications (the public Notification message);
//   - the output of one agent run, chunk by chunk (the agents service's WatchRun).
//
// A subscription may give the last id its client saw: what came after it is replayed from the
// durable record (the timeline, the notifications; for a project also the runs and documents
// that changed since), then the live messages follow, in order, without gaps or duplicates.
//
// One Redis subscription per kind per gateway (a pattern over every project's or user's topic)
// feeds every connection of the gateway, so any number of replicas serve clients. Each
// connection has a bounded send queue: a client that falls behind is disconnected with close
// code 4008 and reconnects with its last ids, instead of stalling the others.
package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	agentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	documentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
)

// Projects is what the hub needs of the projects service.
type Projects interface {
	Authorize(ctx context.Context, in *projectsv1.AuthorizeRequest, opts ...grpc.CallOption) (*projectsv1.AuthorizeResponse, error)
	ListEvents(ctx context.Context, in *projectsv1.ListEventsRequest, opts ...grpc.CallOption) (*projectsv1.ListEventsResponse, error)
	ListNotifications(ctx context.Context, in *projectsv1.ListNotificationsRequest, opts ...grpc.CallOption) (*projectsv1.ListNotificationsResponse, error)
}

// Runs is what the hub needs of the agents service.
type Runs interface {
	ListRuns(ctx context.Context, in *agentsv1.ListRunsRequest, opts ...grpc.CallOption) (*agentsv1.ListRunsResponse, error)
	WatchRun(ctx context.Context, in *agentsv1.WatchRunRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[agentsv1.WatchRunResponse], error)
}

// Documents is what the hub needs of the documents service.
type Documents interface {
	ListDocuments(ctx context.Context, in *documentsv1.ListDocumentsRequest, opts ...grpc.CallOption) (*documentsv1.ListDocumentsResponse, error)
}

// Backends are the services the hub reads, always as the socket's user.
type Backends struct {
	Projects  Projects
	Runs      Runs
	Documents Documents
}

// Config bounds what connections may hold.
type Config struct {
	// MaxConnsPerUser is how many sockets one user may have open on this gateway.
	MaxConnsPerUser int
	// SendBuffer is how many messages wait for a slow client before it is disconnected.
	SendBuffer int
	// MaxSubscriptions is how many projects one socket may follow.
	MaxSubscriptions int
	// MaxWatches is how many runs' output one socket may follow at once.
	MaxWatches int
	// Heartbeat is how often the gateway pings each client; one that does not answer within
	// WriteTimeout is gone.
	Heartbeat    time.Duration
	WriteTimeout time.Duration
	// OriginPatterns are the browser origins allowed to connect (the CORS origins).
	OriginPatterns []string
	// WriteError answers a refused event stream the way the rest of the API answers errors.
	WriteError func(http.ResponseWriter, *http.Request, error)
}

// topic is what a subscription follows: one project, or one user's notifications. A struct,
// so that no project id can be mistaken for a user's topic.
type topic struct {
	project string
	user    string
}

func projectTopic(id string) topic       { return topic{project: id} }
func notificationsTopic(id string) topic { return topic{user: id} }

// Hub is the registry of a gateway's live connections.
type Hub struct {
	cfg      Config
	verifier *authn.Verifier
	backends Backends
	bus      *eventbus.Bus
	log      *slog.Logger

	mu      sync.Mutex
	users   map[string]int                 // open sockets per user
	clients map[*client]struct{}           // every open socket
	topics  map[topic]map[*client]struct{} // what is followed -> its subscribers

	sessions sessionIndex // open connections by user, closed when their session ends (revoke.go)
}

// New returns a hub; Run feeds it.
func New(cfg Config, verifier *authn.Verifier, backends Backends, bus *eventbus.Bus, log *slog.Logger) *Hub {
	if cfg.WriteError == nil {
		cfg.WriteError = func(w http.ResponseWriter, _ *http.Request, err error) {
			st := status.Convert(err)
			b, _ := json.Marshal(map[string]any{"success": false, "error": map[string]string{"code": st.Code().String(), "message": st.Message()}})
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(runtime.HTTPStatusFromCode(st.Code()))
			_, _ = w.Write(b)
		}
	}
	h := &Hub{cfg: cfg, verifier: verifier, backends: backends, bus: bus, log: log,
		users: map[string]int{}, clients: map[*client]struct{}{}, topics: map[topic]map[*client]struct{}{}}
	h.followRevocations()
	return h
}

// Stats is what the hub holds, for tests and metrics.
type Stats struct {
	Users, Connections, Subscriptions int
}

// Stats reports the hub's registry.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	var s Stats
	for _, n := range h.users {
		s.Users++
		s.Connections += n
	}
	for _, subs := range h.topics {
		s.Subscriptions += len(subs)
	}
	return s
}

// Run forwards what the bus carries (project events, run state changes, document saves,
// notifications) to the subscribed connections until ctx ends, resubscribing if the bus
// connection drops.
func (h *Hub) Run(ctx context.Context) {
	feeds := map[string]func([]byte){
		eventbus.ProjectTopic("*"):          h.dispatchEvent,
		eventbus.ProjectRunsTopic("*"):      h.dispatchRun,
		eventbus.ProjectDocumentsTopic("*"): h.dispatchDocument,
		eventbus.UserTopic("*"):             h.dispatchNotification,
	}
	var wg sync.WaitGroup
	for pattern, dispatch := range feeds {
		wg.Add(1)
		go func() { defer wg.Done(); h.follow(ctx, pattern, dispatch) }()
	}
	wg.Wait()
}

func (h *Hub) follow(ctx context.Context, pattern string, dispatch func([]byte)) {
	for ctx.Err() == nil {
		sub, err := h.bus.SubscribePattern(ctx, pattern)
		if err != nil {
			h.log.WarnContext(ctx, "live events: cannot subscribe to the bus; retrying", "error", err.Error())
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
			continue
		}
		stop := context.AfterFunc(ctx, func() { _ = sub.Close() })
		for msg := range sub.C {
			dispatch(msg)
		}
		stop()
	}
}

// eventHead is what the hub reads of an event to route it.
type eventHead struct {
	ID            string `json:"id"` // protojson writes int64 as a string
	ProjectID     string `json:"projectId"`
	MemberChanged *struct {
		UserID string `json:"userId"`
		Role   string `json:"role"` // ROLE_UNSPECIFIED (or absent) when the member was removed
	} `json:"memberChanged"`
}

// removed is the member the event removed from its project, if it is a removal.
func (e eventHead) removed() string {
	if m := e.MemberChanged; m != nil && (m.Role == "" || m.Role == projectsv1.Role_ROLE_UNSPECIFIED.String()) {
		return m.UserID
	}
	return ""
}

// removedMember is the member an event (the public Event's JSON) removed, if any.
func removedMember(event []byte) string {
	var e eventHead
	_ = json.Unmarshal(event, &e)
	return e.removed()
}

func (h *Hub) dispatchEvent(msg []byte) {
	var e eventHead
	if json.Unmarshal(msg, &e) != nil || e.ProjectID == "" {
		return
	}
	id, err := strconv.ParseInt(e.ID, 10, 64)
	if err != nil {
		return
	}
	removed := e.removed()
	if removed != "" {
		// Its watches of the project's runs end too, subscribed to the project or not.
		for _, c := range h.connections(removed) {
			c.unwatchProject(e.ProjectID)
		}
	}
	t := projectTopic(e.ProjectID)
	item, err := t.liveItem(id, msg)
	if err != nil {
		return
	}
	for _, c := range h.subscribers(t) {
		// A member removed from the project gets nothing from it any more, this event included.
		if removed != "" && c.who.UserID == removed {
			c.drop(t, nil, status.Error(codes.PermissionDenied, "you were removed from the project"))
			continue
		}
		c.deliver(t, item)
	}
}

// connections are the user's open connections.
func (h *Hub) connections(userID string) []*client {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*client
	for c := range h.clients {
		if c.who.UserID == userID {
			out = append(out, c)
		}
	}
	return out
}

// dispatchNotification forwards a notification (the public Notification message) to its user's
// sockets that follow their notifications.
func (h *Hub) dispatchNotification(msg []byte) {
	var n struct {
		ID     string `json:"id"`
		UserID string `json:"userId"`
	}
	if json.Unmarshal(msg, &n) != nil || n.UserID == "" {
		return
	}
	id, err := strconv.ParseInt(n.ID, 10, 64)
	if err != nil {
		return
	}
	t := notificationsTopic(n.UserID)
	item, err := t.liveItem(id, msg)
	if err != nil {
		return
	}
	for _, c := range h.subscribers(t) {
		c.deliver(t, item)
	}
}

// dispatchRun forwards an agent run's new state (the public Run message) to its project's
// subscribers. Runs are not part of the timeline: a subscription that resumes is sent the runs
// that changed since.
func (h *Hub) dispatchRun(msg []byte) {
	var r struct {
		ProjectID string `json:"projectId"`
	}
	if json.Unmarshal(msg, &r) == nil && r.ProjectID != "" {
		h.forward(r.ProjectID, ServerMessage{Type: RunMessage, ProjectID: r.ProjectID, Run: msg})
	}
}

// dispatchDocument forwards a document's save (the public SavedDocument message: created or a
// new version) to its project's subscribers. A subscription that resumes is sent the documents
// that changed since.
func (h *Hub) dispatchDocument(msg []byte) {
	var d struct {
		Document struct {
			ProjectID string `json:"projectId"`
		} `json:"document"`
	}
	if json.Unmarshal(msg, &d) == nil && d.Document.ProjectID != "" {
		h.forward(d.Document.ProjectID, ServerMessage{Type: DocumentMessage, ProjectID: d.Document.ProjectID, Document: msg})
	}
}

// forward queues a message outside the timeline for every subscriber of the project.
func (h *Hub) forward(projectID string, m ServerMessage) {
	b, _ := json.Marshal(m)
	t := projectTopic(projectID)
	for _, c := range h.subscribers(t) {
		c.deliverSnapshot(t, b)
	}
}

func (h *Hub) subscribers(t topic) []*client {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := make([]*client, 0, len(h.topics[t]))
	for c := range h.topics[t] {
		subs = append(subs, c)
	}
	return subs
}

func (h *Hub) join(t topic, c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.topics[t] == nil {
		h.topics[t] = map[*client]struct{}{}
	}
	h.topics[t][c] = struct{}{}
}

func (h *Hub) leave(t topic, c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.topics[t], c)
	if len(h.topics[t]) == 0 {
		delete(h.topics, t)
	}
}

// admit counts a new socket of the user, unless they have as many as allowed.
func (h *Hub) admit(userID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.users[userID] >= h.cfg.MaxConnsPerUser {
		return false
	}
	h.users[userID]++
	return true
}

func (h *Hub) release(userID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.users[userID]--; h.users[userID] <= 0 {
		delete(h.users, userID)
	}
}

func (h *Hub) opened(c *client) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	h.track(c)
}

func (h *Hub) closed(c *client) {
	h.untrack(c)
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, c)
}

// Shutdown closes every socket with "going away": the clients reconnect, to another replica.
func (h *Hub) Shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		c.end(websocket.StatusGoingAway, "the server is shutting down: reconnect")
	}
}
