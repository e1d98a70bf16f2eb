package live

import (
	"cmp"
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
	// work is the context of the socket's writer, heartbeat and replays: it ends as soon as the
	// socket is closing, so none of them waits on a client that is gone.
	work       context.Context
	cancelWork context.CancelFunc
	tasks      sync.WaitGroup

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
	start     int64 // afterEventId: the client has everything up to it
	// recent are the ids sent lately: an event published late (its commit raced another's) is
	// still sent once, even after a newer one.
	recent map[int64]bool
	order  []int64
}

// recentIDs bounds how many sent ids a subscription remembers.
const recentIDs = 1024

// fresh reports whether the event is one the client does not have — after its afterEventId and
// not sent yet — and notes it as sent. c.mu is held.
func (s *subscription) fresh(id int64) bool {
	if id <= s.start || s.recent[id] {
		return false
	}
	if s.recent == nil {
		s.recent = map[int64]bool{}
	}
	s.recent[id] = true
	s.order = append(s.order, id)
	if len(s.order) > recentIDs {
		delete(s.recent, s.order[0])
		s.order = s.order[1:]
	}
	s.last = max(s.last, id)
	return true
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
	c.work, c.cancelWork = context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		c.cancelWork()
		c.stop()
		wg.Wait()
		c.tasks.Wait()
		c.mu.Lock()
		for id := range c.subs {
			c.hub.leave(id, c)
		}
		c.subs = nil
		c.mu.Unlock()
		_ = c.conn.CloseNow()
	}()
	wg.Add(2)
	// The writer runs on the socket's own context: cancelling a write would cut the connection
	// before a close frame (4008, 4001) could reach the client. When it stops, the work stops.
	go func() { defer wg.Done(); defer c.cancelWork(); c.write(ctx) }()
	go func() { defer wg.Done(); c.heartbeat(c.work) }()
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
			// Off the reader, which must keep reading (pongs, the client's close) during a replay.
			c.tasks.Add(1)
			go func() { defer c.tasks.Done(); c.subscribe(c.work, req) }()
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
	c.ending.Do(func() {
		c.cancelWork()
		go func() { _ = c.conn.Close(code, reason) }()
	})
}

func (c *client) write(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-c.send:
			// A session ended since (logout, password reset) gets nothing more; the check is in
			// memory (the process's revocation list) and the signature is not verified again.
			if _, err := c.hub.verifier.Verify(ctx, c.who.Token, authn.TypeAccess); err != nil {
				c.end(CloseTokenExpired, "the session has ended: sign in again")
				return
			}
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
			// A session ended since (logout, password reset) ends its sockets too.
			if _, err := c.hub.verifier.Verify(ctx, c.who.Token, authn.TypeAccess); err != nil {
				c.end(CloseTokenExpired, "the session has ended: sign in again")
				return
			}
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
	// replayed or held, and sent once. Without afterEventId there is nothing to replay.
	resume := req.AfterEventID != ""
	s := &subscription{replaying: resume, last: after, start: after}
	c.mu.Lock()
	if c.subs == nil || c.subs[req.ProjectID] != nil { // closing, or a racing duplicate
		c.mu.Unlock()
		return
	}
	c.subs[req.ProjectID] = s
	c.mu.Unlock()
	c.hub.join(req.ProjectID, c)
	c.queue(message{Type: "subscribed", ProjectID: req.ProjectID})
	if !resume {
		return
	}
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
	// Then what arrived live meanwhile, in id order, with the same paced sends; the subscription
	// goes live once nothing is held back.
	for {
		c.mu.Lock()
		if len(s.pending) == 0 {
			s.replaying = false
			c.mu.Unlock()
			return nil
		}
		held, ids := s.pending, s.pendingID
		s.pending, s.pendingID = nil, nil
		c.mu.Unlock()
		order := make([]int, len(held))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(ids[a], ids[b]) })
		for _, i := range order {
			if err := c.sendPaced(ctx, projectID, s, ids[i], held[i]); err != nil {
				return err
			}
		}
	}
}

// replayEvent sends one event of the timeline.
func (c *client) replayEvent(ctx context.Context, projectID string, s *subscription, e *projectsv1.Event) error {
	event, err := protojson.Marshal(e)
	if err != nil {
		return err
	}
	return c.sendPaced(ctx, projectID, s, e.GetId(), event)
}

// sendPaced sends an event not sent yet, waiting for room in the send queue: a replay is paced by
// the client (however much it missed), unlike live events, which must not wait for one slow
// client.
func (c *client) sendPaced(ctx context.Context, projectID string, s *subscription, id int64, event []byte) error {
	c.mu.Lock()
	fresh := s.fresh(id)
	c.mu.Unlock()
	if !fresh {
		return nil
	}
	b, _ := json.Marshal(message{Type: "event", ProjectID: projectID, Event: event})
	select {
	case c.send <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sendEvent sends an event not sent yet. c.mu is held.
func (c *client) sendEvent(projectID string, s *subscription, id int64, event []byte) {
	if !s.fresh(id) {
		return
	}
	b, _ := json.Marshal(message{Type: "event", ProjectID: projectID, Event: event})
	c.enqueue(b)
}

// maxPending bounds the live events a subscription holds back during its replay.
const maxPending = 4096

// deliver hands the client a live event of a project it follows.
func (c *client) deliver(projectID string, id int64, event []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[projectID]
	switch {
	case s == nil:
	case s.replaying && len(s.pending) >= maxPending:
		c.end(CloseTooSlow, "too slow: events were not delivered; reconnect with afterEventId")
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
	if c.remove(projectID) {
		c.queue(message{Type: "unsubscribed", ProjectID: projectID})
	}
}

// drop ends a subscription with an error message saying why.
func (c *client) drop(projectID string, err error) {
	if c.remove(projectID) {
		st := status.Convert(err)
		c.queue(message{Type: "error", ProjectID: projectID, Code: st.Code().String(), Message: "no longer subscribed: " + st.Message()})
	}
}

// remove ends a subscription and reports whether there was one.
func (c *client) remove(projectID string) bool {
	c.mu.Lock()
	_, ok := c.subs[projectID]
	delete(c.subs, projectID)
	c.mu.Unlock()
	if ok {
		c.hub.leave(projectID, c)
	}
	return ok
}
