package live

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
)

// Subprotocol is the protocol of this socket; browsers offer "bearer.<access token>" beside it.
const Subprotocol = "fuzzyllama.v1"

// Close codes, in the range RFC 6455 leaves to applications.
const (
	CloseTokenExpired websocket.StatusCode = 4001 // reconnect with a fresh access token
	CloseTooSlow      websocket.StatusCode = 4008 // reconnect with the last event id seen
)

// Messages from the client.
type request struct {
	Type         string `json:"type"` // "subscribe" or "unsubscribe"
	ProjectID    string `json:"projectId"`
	AfterEventID string `json:"afterEventId"` // optional: replay the events after this one
}

// Messages to the client.
type message struct {
	Type      string          `json:"type"` // "subscribed", "unsubscribed", "event", "run", "document" or "error"
	ProjectID string          `json:"projectId,omitempty"`
	Event     json.RawMessage `json:"event,omitempty"`
	Run       json.RawMessage `json:"run,omitempty"`
	Document  json.RawMessage `json:"document,omitempty"`
	Code      string          `json:"code,omitempty"`
	Message   string          `json:"message,omitempty"`
}

// client is one socket.
type client struct {
	hub  *Hub
	conn *websocket.Conn
	who  authn.Identity
	send chan []byte
	stop context.CancelFunc

	ending sync.Once

	mu   sync.Mutex
	subs map[string]*subscription
}

// subscription is one project a client follows. Until its replay is done, live events wait in
// pending; last is the id of the newest event sent, so nothing is sent twice.
type subscription struct {
	replaying bool
	pending   [][]byte
	pendingID []int64
	last      int64
}

// ServeHTTP authenticates the request and serves one socket.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, ok := bearer(r)
	if !ok {
		http.Error(w, `{"success":false,"error":{"code":"UNAUTHENTICATED","message":"send the access token as Authorization: Bearer <token> or as the subprotocol bearer.<token>"}}`, http.StatusUnauthorized)
		return
	}
	claims, err := h.verifier.Verify(r.Context(), token, authn.TypeAccess)
	if err != nil || claims.Actor != nil {
		http.Error(w, `{"success":false,"error":{"code":"UNAUTHENTICATED","message":"invalid or expired access token"}}`, http.StatusUnauthorized)
		return
	}
	if !h.admit(claims.Subject) {
		http.Error(w, fmt.Sprintf(`{"success":false,"error":{"code":"RESOURCE_EXHAUSTED","message":"at most %d live connections per user"}}`, h.cfg.MaxConnsPerUser), http.StatusTooManyRequests)
		return
	}
	defer h.release(claims.Subject)
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{Subprotocol}, OriginPatterns: h.cfg.OriginPatterns})
	if err != nil {
		return // Accept has answered
	}
	conn.SetReadLimit(4 << 10)
	ctx, stop := context.WithCancel(context.WithoutCancel(r.Context()))
	c := &client{hub: h, conn: conn, send: make(chan []byte, h.cfg.SendBuffer), stop: stop, subs: map[string]*subscription{},
		who: authn.Identity{UserID: claims.Subject, SessionID: claims.SessionID, Token: token}}
	h.opened(c)
	defer h.closed(c)
	c.serve(ctx, claims.ExpiresAt.Time)
}

// bearer finds the access token: the Authorization header, or a "bearer.<token>" subprotocol.
func bearer(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		return authn.ParseBearer(h)
	}
	for _, offered := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(offered, ",") {
			if token, ok := strings.CutPrefix(strings.TrimSpace(p), "bearer."); ok && token != "" {
				return token, true
			}
		}
	}
	return "", false
}

// serve runs the socket until it closes: a reader of requests (here), a writer, a heartbeat and
// the token's expiry. Everything the socket registered is removed before serve returns.
func (c *client) serve(ctx context.Context, expiry time.Time) {
	var wg sync.WaitGroup
	defer func() {
		c.stop()
		wg.Wait()
		c.mu.Lock()
		for id := range c.subs {
			c.hub.leave(id, c)
		}
		c.subs = nil
		c.mu.Unlock()
		_ = c.conn.CloseNow()
	}()
	wg.Add(2)
	go func() { defer wg.Done(); c.write(ctx) }()
	go func() { defer wg.Done(); c.heartbeat(ctx) }()
	expired := time.AfterFunc(time.Until(expiry), func() {
		c.end(CloseTokenExpired, "access token expired: reconnect with a fresh one")
	})
	defer expired.Stop()
	for {
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			return // the client left, or end closed the socket
		}
		var req request
		if err := json.Unmarshal(data, &req); err != nil {
			c.queue(message{Type: "error", Code: "INVALID_ARGUMENT", Message: "messages are JSON: {\"type\":\"subscribe\",\"projectId\":\"…\"}"})
			continue
		}
		switch req.Type {
		case "subscribe":
			c.subscribe(ctx, req)
		case "unsubscribe":
			c.unsubscribe(req.ProjectID)
		default:
			c.queue(message{Type: "error", Code: "INVALID_ARGUMENT", Message: "type: must be subscribe or unsubscribe"})
		}
	}
}

// end closes the socket with a code and reason the client can act on. The close handshake runs
// in the background; the reader then sees the socket closed and serve cleans up.
func (c *client) end(code websocket.StatusCode, reason string) {
	c.ending.Do(func() { go func() { _ = c.conn.Close(code, reason) }() })
}

func (c *client) write(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-c.send:
			wctx, cancel := context.WithTimeout(ctx, c.hub.cfg.WriteTimeout)
			err := c.conn.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				return // the socket is closing
			}
		}
	}
}

func (c *client) heartbeat(ctx context.Context) {
	t := time.NewTicker(c.hub.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, c.hub.cfg.WriteTimeout)
			err := c.conn.Ping(pctx)
			cancel()
			if err != nil {
				c.end(websocket.StatusGoingAway, "no answer to ping")
				return
			}
		}
	}
}

// queue sends a message, or disconnects the client if it has fallen too far behind.
func (c *client) queue(m message) {
	b, _ := json.Marshal(m)
	c.enqueue(b)
}

func (c *client) enqueue(b []byte) {
	select {
	case c.send <- b:
	default:
		c.end(CloseTooSlow, "too slow: events were not delivered; reconnect with afterEventId")
	}
}

func (c *client) subscribe(ctx context.Context, req request) {
	var after int64
	if req.AfterEventID != "" {
		n, err := strconv.ParseInt(req.AfterEventID, 10, 64)
		if err != nil || n < 0 {
			c.queue(message{Type: "error", ProjectID: req.ProjectID, Code: "INVALID_ARGUMENT", Message: "afterEventId: must be an event id"})
			return
		}
		after = n
	}
	if !input.ValidID(req.ProjectID) {
		c.queue(message{Type: "error", Code: "INVALID_ARGUMENT", Message: "projectId: is required"})
		return
	}
	c.mu.Lock()
	_, dup := c.subs[req.ProjectID]
	full := len(c.subs) >= c.hub.cfg.MaxSubscriptions
	c.mu.Unlock()
	if dup {
		c.queue(message{Type: "error", ProjectID: req.ProjectID, Code: "ALREADY_EXISTS", Message: "already subscribed"})
		return
	}
	if full {
		c.queue(message{Type: "error", ProjectID: req.ProjectID, Code: "RESOURCE_EXHAUSTED",
			Message: fmt.Sprintf("at most %d subscriptions per connection", c.hub.cfg.MaxSubscriptions)})
		return
	}
	uctx := authn.NewContext(ctx, c.who)
	if _, err := c.hub.projects.Authorize(uctx, &projectsv1.AuthorizeRequest{ProjectId: req.ProjectID, Action: projectsv1.Action_ACTION_READ}); err != nil {
		st := status.Convert(err)
		c.queue(message{Type: "error", ProjectID: req.ProjectID, Code: st.Code().String(), Message: st.Message()})
		return
	}
	// Join first, holding live events back, then replay: an event committed meanwhile is either
	// replayed or held, and sent once.
	s := &subscription{replaying: true, last: after}
	c.mu.Lock()
	c.subs[req.ProjectID] = s
	c.mu.Unlock()
	c.hub.join(req.ProjectID, c)
	c.queue(message{Type: "subscribed", ProjectID: req.ProjectID})
	if err := c.replay(uctx, req.ProjectID, s, after); err != nil {
		st := status.Convert(err)
		c.queue(message{Type: "error", ProjectID: req.ProjectID, Code: st.Code().String(), Message: "replay failed: " + st.Message()})
		c.unsubscribe(req.ProjectID)
	}
}

// replay sends the timeline after the given id, then what arrived live meanwhile.
func (c *client) replay(ctx context.Context, projectID string, s *subscription, after int64) error {
	for {
		page, err := c.hub.projects.ListEvents(ctx, &projectsv1.ListEventsRequest{ProjectId: projectID, After: after, PageSize: 200})
		if err != nil {
			return err
		}
		for _, e := range page.GetEvents() {
			if err := c.replayEvent(ctx, projectID, s, e); err != nil {
				return err
			}
			after = e.GetId()
		}
		if len(page.GetEvents()) < 200 {
			break
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	order := make([]int, len(s.pending))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(s.pendingID[a] - s.pendingID[b]) })
	for _, i := range order {
		c.sendEvent(projectID, s, s.pendingID[i], s.pending[i])
	}
	s.replaying, s.pending, s.pendingID = false, nil, nil
	return nil
}

// replayEvent sends one event of the timeline, waiting for room in the send queue: a replay is
// paced by the client (however much it missed), unlike live events, which must not wait for
// one slow client.
func (c *client) replayEvent(ctx context.Context, projectID string, s *subscription, e *projectsv1.Event) error {
	c.mu.Lock()
	fresh := e.GetId() > s.last
	if fresh {
		s.last = e.GetId()
	}
	c.mu.Unlock()
	if !fresh {
		return nil
	}
	event, err := protojson.Marshal(e)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(message{Type: "event", ProjectID: projectID, Event: event})
	select {
	case c.send <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sendEvent sends an event newer than the last one sent. c.mu is held.
func (c *client) sendEvent(projectID string, s *subscription, id int64, event []byte) {
	if id <= s.last {
		return
	}
	s.last = id
	b, _ := json.Marshal(message{Type: "event", ProjectID: projectID, Event: event})
	c.enqueue(b)
}

// deliver hands the client a live event of a project it follows.
func (c *client) deliver(projectID string, id int64, event []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[projectID]
	switch {
	case s == nil:
	case s.replaying:
		s.pending, s.pendingID = append(s.pending, event), append(s.pendingID, id)
	default:
		c.sendEvent(projectID, s, id, event)
	}
}

// deliverOther hands the client a message outside the timeline (a run's state, a document's
// save), if it follows the project.
func (c *client) deliverOther(projectID string, b []byte) {
	c.mu.Lock()
	_, ok := c.subs[projectID]
	c.mu.Unlock()
	if ok {
		c.enqueue(b)
	}
}

func (c *client) unsubscribe(projectID string) {
	c.mu.Lock()
	_, ok := c.subs[projectID]
	delete(c.subs, projectID)
	c.mu.Unlock()
	if ok {
		c.hub.leave(projectID, c)
		c.queue(message{Type: "unsubscribed", ProjectID: projectID})
	}
}

// recheck drops the subscription if the client may no longer read the project.
func (c *client) recheck(ctx context.Context, projectID string) {
	actx, cancel := context.WithTimeout(authn.NewContext(ctx, c.who), 5*time.Second)
	defer cancel()
	_, err := c.hub.projects.Authorize(actx, &projectsv1.AuthorizeRequest{ProjectId: projectID, Action: projectsv1.Action_ACTION_READ})
	if code := status.Code(err); code == codes.NotFound || code == codes.PermissionDenied {
		c.unsubscribe(projectID)
	}
}
