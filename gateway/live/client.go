package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/platform/authn"
)

// client is one socket.
type client struct {
	hub *Hub
	out transport
	who authn.Identity
	// expiry is when the access token expires.
	expiry time.Time
	// send holds live messages and answers (a full queue means the client is too slow); paced
	// is the unbuffered way of replays and run output, which wait for the writer and so never
	// take the room live messages need. The writer serves send first.
	send  chan []byte
	paced chan []byte
	// requests wait here for the control loop, which handles them one at a time.
	requests chan ClientRequest
	// lost, when set, is called when a subscription ends other than by unsubscribing (an event
	// stream, which has only one, then ends).
	lost func()
	// alive is the connection's context: it ends when the connection has closed.
	alive context.Context
	stop  context.CancelFunc
	// work is the context of the socket's writer, heartbeat, replays and watches: it ends as
	// soon as the socket is closing, so none of them waits on a client that is gone.
	work       context.Context
	cancelWork context.CancelFunc
	tasks      sync.WaitGroup

	ending sync.Once

	mu      sync.Mutex
	subs    map[topic]*subscription
	watches map[string]*watch // run id -> its watch
}

// ServeHTTP authenticates the request and serves one socket.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	claims, token, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	defer h.release(claims.Subject)
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{Subprotocol}, OriginPatterns: h.cfg.OriginPatterns})
	if err != nil {
		return // Accept has answered
	}
	conn.SetReadLimit(4 << 10)
	c := h.newClient(r.Context(), socket{conn}, claims, token)
	defer h.closed(c)
	c.serve(claims.ExpiresAt.Time, func(ctx context.Context) { c.readRequests(ctx, conn) })
}

// authenticate verifies the request's access token and counts the connection against the
// user's limit (the caller releases it), or answers why not.
func (h *Hub) authenticate(w http.ResponseWriter, r *http.Request) (*authn.Claims, string, bool) {
	token, ok := bearer(r)
	if !ok {
		// The gateway drops an Authorization header it could not verify, so "missing" here can
		// also mean "invalid".
		h.cfg.WriteError(w, r, status.Error(codes.Unauthenticated,
			"a valid access token is required: send it as Authorization: Bearer <token> or as the subprotocol bearer.<token>"))
		return nil, "", false
	}
	claims, err := h.verifier.Verify(r.Context(), token, authn.TypeAccess)
	if errors.Is(err, authn.ErrRevokedCheck) || errors.Is(err, authn.ErrKeysUnavailable) {
		// The token may be valid: the client should retry, not sign in again.
		h.cfg.WriteError(w, r, status.Error(codes.Unavailable, "cannot verify credentials right now; try again shortly"))
		return nil, "", false
	}
	if err != nil || claims.Actor != nil {
		h.cfg.WriteError(w, r, status.Error(codes.Unauthenticated, "invalid or expired access token"))
		return nil, "", false
	}
	if !h.admit(claims.Subject) {
		h.cfg.WriteError(w, r, status.Errorf(codes.ResourceExhausted, "at most %d live connections per user", h.cfg.MaxConnsPerUser))
		return nil, "", false
	}
	return claims, token, true
}

// newClient registers a connection. Its contexts outlive the request's (a hijacked socket's
// request context may end early); they end when the connection closes.
func (h *Hub) newClient(reqCtx context.Context, out transport, claims *authn.Claims, token string) *client {
	c := &client{hub: h, out: out, send: make(chan []byte, h.cfg.SendBuffer), paced: make(chan []byte),
		requests: make(chan ClientRequest, maxWaitingRequests),
		subs:     map[topic]*subscription{}, watches: map[string]*watch{},
		who: authn.Identity{UserID: claims.Subject, SessionID: claims.SessionID, Token: token}, expiry: claims.ExpiresAt.Time}
	c.alive, c.stop = context.WithCancel(context.WithoutCancel(reqCtx))
	c.work, c.cancelWork = context.WithCancel(c.alive)
	h.opened(c)
	return c
}

// bearer finds the access token: the Authorization header, or a "bearer.<token>" subprotocol.
func bearer(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		return authn.ParseBearer(h)
	}
	for _, offered := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(offered, ",") {
			if token, ok := strings.CutPrefix(strings.TrimSpace(p), BearerSubprotocolPrefix); ok && token != "" {
				return token, true
			}
		}
	}
	return "", false
}

// serve runs the connection until it closes: a reader of requests (read, which returns when the
// connection has closed), a writer, a heartbeat and the token's expiry. Everything the
// connection registered is removed before serve returns.
func (c *client) serve(expiry time.Time, read func(ctx context.Context)) {
	ctx := c.alive
	var wg sync.WaitGroup
	defer func() {
		c.cancelWork()
		c.stop()
		wg.Wait()
		c.tasks.Wait()
		c.mu.Lock()
		for t := range c.subs {
			c.hub.leave(t, c)
		}
		c.subs, c.watches = nil, nil
		c.mu.Unlock()
		c.out.closeNow()
	}()
	wg.Add(3)
	// The writer runs on the socket's own context: cancelling a write would cut the connection
	// before a close frame (4008, 4001) could reach the client. When it stops, the work stops.
	go func() { defer wg.Done(); defer c.cancelWork(); c.write(ctx) }()
	go func() { defer wg.Done(); c.heartbeat(c.work) }()
	go func() { defer wg.Done(); c.control(c.work) }()
	expired := time.AfterFunc(time.Until(expiry), func() {
		c.end(CloseTokenExpired, "access token expired: reconnect with a fresh one")
	})
	defer expired.Stop()
	read(ctx)
}

// maxWaitingRequests bounds the requests a socket may have waiting for the control loop.
const maxWaitingRequests = 16

// readRequests reads the client's requests until the socket closes, and hands them to the
// control loop: the reader must keep reading (pongs, the client's close) whatever a request
// waits for.
func (c *client) readRequests(ctx context.Context, conn *websocket.Conn) {
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return // the client left, or end closed the socket
		}
		var req ClientRequest
		if err := json.Unmarshal(data, &req); err != nil {
			c.queue(ServerMessage{Type: ErrorMessage, Code: codes.InvalidArgument.String(),
				Message: "messages are JSON objects like {\"type\":\"subscribe\",\"projectId\":\"…\"} with string values: " + err.Error()})
			continue
		}
		switch req.Type {
		case Subscribe, Unsubscribe, WatchRun, UnwatchRun:
			select {
			case c.requests <- req:
			default:
				c.queue(ServerMessage{Type: ErrorMessage, Code: codes.ResourceExhausted.String(),
					Message: fmt.Sprintf("at most %d requests may wait for an answer: wait for the answers", maxWaitingRequests)})
			}
		default:
			c.queue(ServerMessage{Type: ErrorMessage, Code: codes.InvalidArgument.String(), Message: "type: must be subscribe, unsubscribe, watchRun or unwatchRun"})
		}
	}
}

// control handles the client's requests one at a time, in the order sent: what a request
// checks (limits, duplicates) cannot race another, and each is answered in turn. Replays and
// watches run on their own goroutines.
func (c *client) control(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-c.requests:
			switch req.Type {
			case Subscribe:
				c.subscribe(req)
			case Unsubscribe:
				c.unsubscribe(req)
			case WatchRun:
				c.watchRun(req)
			case UnwatchRun:
				c.unwatchRun(req.RunID)
			}
		}
	}
}

// end closes the connection with a code and reason the client can act on. The close handshake
// runs in the background; the reader then sees the connection closed and serve cleans up.
func (c *client) end(code websocket.StatusCode, reason string) {
	c.ending.Do(func() {
		c.cancelWork()
		go c.out.close(code, reason)
	})
}

func (c *client) write(ctx context.Context) {
	for {
		var b []byte
		select { // live messages and answers first
		case b = <-c.send:
		default:
			select {
			case <-ctx.Done():
				return
			case b = <-c.send:
			case b = <-c.paced:
			}
		}
		// A session ended since (logout, password reset) gets nothing more: its sockets are
		// closed when the revocation arrives (revoke.go), and this check, in memory, holds the
		// line meanwhile.
		if c.sessionEnded() {
			c.end(CloseTokenExpired, sessionEndedReason)
			return
		}
		wctx, cancel := context.WithTimeout(ctx, c.hub.cfg.WriteTimeout)
		err := c.out.write(wctx, b)
		cancel()
		if err != nil {
			return // the socket is closing
		}
	}
}

// sessionEnded reports whether the socket's access token has expired or its session has ended
// (or the revocation list cannot tell yet), as the verifier would. The token's signature was
// verified when the socket opened and cannot change, so the writer reads only the expiry and
// the revocation list before each message — not the verifier's cache of tokens, which hashes the
// whole token and, once full, starts over (then every socket's next message would verify its
// signature again).
func (c *client) sessionEnded() bool {
	if !time.Now().Before(c.expiry) {
		return true
	}
	revocations := c.hub.verifier.Revocations
	if revocations == nil {
		return false
	}
	revoked, err := revocations.IsRevoked(c.who.UserID, c.who.SessionID)
	return err != nil || revoked
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
				c.end(CloseTokenExpired, sessionEndedReason)
				return
			}
			pctx, cancel := context.WithTimeout(ctx, c.hub.cfg.WriteTimeout)
			err := c.out.ping(pctx)
			cancel()
			if err != nil {
				c.end(websocket.StatusGoingAway, "no answer to ping")
				return
			}
		}
	}
}

// queue sends a message, or disconnects the client if it has fallen too far behind.
func (c *client) queue(m ServerMessage) {
	b, _ := json.Marshal(m)
	c.enqueue(b)
}

func (c *client) enqueue(b []byte) {
	select {
	case c.send <- b:
	default:
		c.tooSlow()
	}
}

func (c *client) tooSlow() {
	c.end(CloseTooSlow, "too slow: events were not delivered; reconnect with the last ids seen")
}

// sendPaced hands a message to the writer when it is free: replays and run output are paced by
// the client (however much it missed), unlike live events, which must not wait for one slow
// client.
func (c *client) sendPaced(ctx context.Context, m ServerMessage) error {
	b, _ := json.Marshal(m)
	return c.handPaced(ctx, b)
}

func (c *client) handPaced(ctx context.Context, b []byte) error {
	if ctx.Err() != nil { // ended (unsubscribed, unwatched): nothing more, even if the writer is free
		return ctx.Err()
	}
	select {
	case c.paced <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fail tells the client that a request about t failed.
func (c *client) fail(t topic, err error) { c.queue(t.failure(err)) }

// failure is the error message about t.
func (t topic) failure(err error) ServerMessage {
	st := status.Convert(err)
	return t.label(ServerMessage{Type: ErrorMessage, Code: st.Code().String(), Message: st.Message()})
}
