// Package live serves the WebSocket of live events, /api/v1/ws. A client authenticates with an
// access token (the Authorization header, or the subprotocol "bearer.<token>" for browsers,
// which cannot set headers on a WebSocket), subscribes to projects it may read (checked with the
// projects service as that user), and receives their timeline events as JSON, each the public
// Event message ListEvents answers with, the state changes of its agent runs (the public Run
// message, as type "run") and the saves of its documents (SavedDocument, as type "document"). A subscription may give the last event id its client saw: the events after it are replayed from the timeline, then the live ones follow, in order,
// without gaps or duplicates.
//
// One Redis subscription per gateway (a pattern over every project's topic) feeds every
// connection of the gateway, so any number of replicas serve clients. Each connection has a
// bounded send queue: a client that falls behind is disconnected with close code 4008 and
// reconnects with its last event id, instead of stalling the others.
package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
)

// Projects is what the hub needs of the projects service.
type Projects interface {
	Authorize(ctx context.Context, in *projectsv1.AuthorizeRequest, opts ...grpc.CallOption) (*projectsv1.AuthorizeResponse, error)
	ListEvents(ctx context.Context, in *projectsv1.ListEventsRequest, opts ...grpc.CallOption) (*projectsv1.ListEventsResponse, error)
}

// Config bounds what connections may hold.
type Config struct {
	// MaxConnsPerUser is how many sockets one user may have open on this gateway.
	MaxConnsPerUser int
	// SendBuffer is how many messages wait for a slow client before it is disconnected.
	SendBuffer int
	// MaxSubscriptions is how many projects one socket may follow.
	MaxSubscriptions int
	// Heartbeat is how often the gateway pings each client; one that does not answer within
	// WriteTimeout is gone.
	Heartbeat    time.Duration
	WriteTimeout time.Duration
	// OriginPatterns are the browser origins allowed to connect (the CORS origins).
	OriginPatterns []string
}

// Hub is the registry of a gateway's live connections.
type Hub struct {
	cfg      Config
	verifier *authn.Verifier
	projects Projects
	bus      *eventbus.Bus
	log      *slog.Logger

	mu      sync.Mutex
	users   map[string]int                  // open sockets per user
	clients map[*client]struct{}            // every open socket
	topics  map[string]map[*client]struct{} // project id -> its subscribers
}

// New returns a hub; Run feeds it.
func New(cfg Config, verifier *authn.Verifier, projects Projects, bus *eventbus.Bus, log *slog.Logger) *Hub {
	return &Hub{cfg: cfg, verifier: verifier, projects: projects, bus: bus, log: log,
		users: map[string]int{}, clients: map[*client]struct{}{}, topics: map[string]map[*client]struct{}{}}
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

// Run forwards the bus's project events and run state changes to the subscribed connections
// until ctx ends, resubscribing if the bus connection drops.
func (h *Hub) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); h.follow(ctx, eventbus.ProjectTopic("*"), h.dispatch) }()
	go func() { defer wg.Done(); h.follow(ctx, eventbus.ProjectRunsTopic("*"), h.dispatchRun) }()
	go func() { defer wg.Done(); h.follow(ctx, eventbus.ProjectDocumentsTopic("*"), h.dispatchDocument) }()
	wg.Wait()
}

func (h *Hub) follow(ctx context.Context, pattern string, dispatch func(context.Context, []byte)) {
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
			dispatch(ctx, msg)
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
		Role   string `json:"role"` // absent when the member was removed
	} `json:"memberChanged"`
}

func (h *Hub) dispatch(_ context.Context, msg []byte) {
	var e eventHead
	if json.Unmarshal(msg, &e) != nil || e.ProjectID == "" {
		return
	}
	id, err := strconv.ParseInt(e.ID, 10, 64)
	if err != nil {
		return
	}
	removed := ""
	if m := e.MemberChanged; m != nil && m.Role == "" {
		removed = m.UserID
	}
	for _, c := range h.subscribers(e.ProjectID) {
		// A member removed from the project gets nothing from it any more, this event included.
		if removed != "" && c.who.UserID == removed {
			c.drop(e.ProjectID, status.Error(codes.PermissionDenied, "you were removed from the project"))
			continue
		}
		c.deliver(e.ProjectID, id, msg)
	}
}

// dispatchRun forwards an agent run's new state (the public Run message) to its project's
// subscribers. Runs are not part of the timeline: a client that reconnects lists them.
func (h *Hub) dispatchRun(_ context.Context, msg []byte) {
	var r struct {
		ProjectID string `json:"projectId"`
	}
	if json.Unmarshal(msg, &r) == nil && r.ProjectID != "" {
		h.forward(r.ProjectID, message{Type: "run", ProjectID: r.ProjectID, Run: msg})
	}
}

// dispatchDocument forwards a document's save (the public SavedDocument message: created or a
// new version) to its project's subscribers. A client that reconnects lists the documents.
func (h *Hub) dispatchDocument(_ context.Context, msg []byte) {
	var d struct {
		Document struct {
			ProjectID string `json:"projectId"`
		} `json:"document"`
	}
	if json.Unmarshal(msg, &d) == nil && d.Document.ProjectID != "" {
		h.forward(d.Document.ProjectID, message{Type: "document", ProjectID: d.Document.ProjectID, Document: msg})
	}
}

// forward queues a message for every subscriber of the project.
func (h *Hub) forward(projectID string, m message) {
	b, _ := json.Marshal(m)
	for _, c := range h.subscribers(projectID) {
		c.deliverOther(projectID, b)
	}
}

func (h *Hub) subscribers(projectID string) []*client {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := make([]*client, 0, len(h.topics[projectID]))
	for c := range h.topics[projectID] {
		subs = append(subs, c)
	}
	return subs
}

func (h *Hub) join(projectID string, c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.topics[projectID] == nil {
		h.topics[projectID] = map[*client]struct{}{}
	}
	h.topics[projectID][c] = struct{}{}
}

func (h *Hub) leave(projectID string, c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.topics[projectID], c)
	if len(h.topics[projectID]) == 0 {
		delete(h.topics, projectID)
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
	defer h.mu.Unlock()
	h.clients[c] = struct{}{}
}

func (h *Hub) closed(c *client) {
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
