package live

import (
	"cmp"
	"context"
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ServeProjectStream serves one project's live messages (events, runs, documents) as
// server-sent events, for clients that cannot open a WebSocket: GET
// /api/v1/projects/{projectId}/events:stream. The access token comes in the Authorization
// header; Last-Event-ID (or ?afterEventId=) resumes after an event, as on the socket.
func (h *Hub) ServeProjectStream(w http.ResponseWriter, r *http.Request) {
	h.serveStream(w, r, ClientRequest{ProjectID: r.PathValue("projectId"),
		AfterEventID: cmp.Or(r.Header.Get("Last-Event-ID"), r.URL.Query().Get("afterEventId"))})
}

// ServeNotificationStream serves the caller's notifications as server-sent events: GET
// /api/v1/notifications:stream; Last-Event-ID (or ?afterNotificationId=) resumes.
func (h *Hub) ServeNotificationStream(w http.ResponseWriter, r *http.Request) {
	h.serveStream(w, r, ClientRequest{Notifications: true,
		AfterNotificationID: cmp.Or(r.Header.Get("Last-Event-ID"), r.URL.Query().Get("afterNotificationId"))})
}

// serveStream serves one subscription as server-sent events. What can be refused is refused
// before the stream starts, with the usual JSON error and status.
func (h *Hub) serveStream(w http.ResponseWriter, r *http.Request, req ClientRequest) {
	claims, token, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	defer h.release(claims.Subject)
	out := newEventStream(w, h.cfg.WriteTimeout)
	c := h.newClient(r.Context(), out, claims, token)
	defer h.closed(c)
	a, err := c.admit(req)
	if errors.Is(err, errDropped) {
		err = status.Error(codes.PermissionDenied, "you were removed from the project")
	}
	if err != nil {
		c.stop()
		h.cfg.WriteError(w, r, err)
		return
	}
	out.begin()
	// The stream has one subscription: when it ends (a failed replay, the user's removal), the
	// stream does, after the error saying why.
	c.lost = func() { c.end(CloseStreamEnded, "the subscription ended: see the error before this") }
	c.serve(claims.ExpiresAt.Time, func(context.Context) {
		c.start(a)
		select {
		case <-r.Context().Done(): // the client left
		case <-out.done:
		}
	})
}

// following reports whether the client still follows t.
func (c *client) following(t topic) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subs[t] != nil
}
