package live

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// transport is how messages reach a client: a WebSocket, or a response of server-sent events
// (the fallback for clients that cannot open a WebSocket).
type transport interface {
	// write sends one message.
	write(ctx context.Context, msg []byte) error
	// ping fails if the peer has gone.
	ping(ctx context.Context) error
	// close ends the connection, telling the client why; the reader then returns.
	close(code websocket.StatusCode, reason string)
	// closeNow ends it without a word.
	closeNow()
}

// socket is a WebSocket connection.
type socket struct{ conn *websocket.Conn }

func (s socket) write(ctx context.Context, msg []byte) error {
	return s.conn.Write(ctx, websocket.MessageText, msg)
}
func (s socket) ping(ctx context.Context) error                 { return s.conn.Ping(ctx) }
func (s socket) close(code websocket.StatusCode, reason string) { _ = s.conn.Close(code, reason) }
func (s socket) closeNow()                                      { _ = s.conn.CloseNow() }

// eventStream is a text/event-stream response. Each message is one event whose data is the
// message's JSON, as on the socket; timeline events and notifications carry their id as the
// event id, so a client's Last-Event-ID resumes where it stopped. The close code and reason
// come as a last "close" event.
type eventStream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
	// writeTimeout bounds a write that comes without a deadline of its own (the close): each
	// write sets its own deadline, since the one before may long have passed on a quiet stream.
	writeTimeout time.Duration

	mu     sync.Mutex // the writer, the heartbeat and close all write
	closed bool
	done   chan struct{} // closed with the stream: the request may end
}

var errStreamClosed = errors.New("event stream closed")

// StartEventStream answers 200 with the headers of a stream of server-sent events.
func StartEventStream(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not hold the events back
	w.WriteHeader(http.StatusOK)
}

func newEventStream(w http.ResponseWriter, writeTimeout time.Duration) *eventStream {
	return &eventStream{w: w, rc: http.NewResponseController(w), writeTimeout: cmp.Or(writeTimeout, 10*time.Second), done: make(chan struct{})}
}

// begin answers 200: the client sees the stream open before the first event.
func (s *eventStream) begin() {
	StartEventStream(s.w)
	_ = s.rc.Flush()
}

func (s *eventStream) emit(ctx context.Context, frame string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStreamClosed
	}
	// Every write gets a fresh deadline (a client that stops reading fails the write): the
	// previous one may have passed while the stream was quiet, and would fail this write.
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(s.writeTimeout)
	}
	_ = s.rc.SetWriteDeadline(deadline)
	if _, err := fmt.Fprint(s.w, frame); err != nil {
		return err
	}
	return s.rc.Flush()
}

func (s *eventStream) write(ctx context.Context, msg []byte) error {
	if id := itemID(msg); id != "" {
		return s.emit(ctx, fmt.Sprintf("id: %s\ndata: %s\n\n", id, msg))
	}
	return s.emit(ctx, fmt.Sprintf("data: %s\n\n", msg))
}

func (s *eventStream) ping(ctx context.Context) error { return s.emit(ctx, ": ping\n\n") }

func (s *eventStream) close(code websocket.StatusCode, reason string) {
	b, _ := json.Marshal(StreamClose{Code: int(code), Reason: reason})
	ctx, cancel := context.WithTimeout(context.Background(), s.writeTimeout)
	defer cancel()
	_ = s.emit(ctx, fmt.Sprintf("event: %s\ndata: %s\n\n", StreamCloseEvent, b))
	s.closeNow()
}

func (s *eventStream) closeNow() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
}

// itemID is the id of the timeline event or notification a message carries, if it does.
func itemID(msg []byte) string {
	var m struct {
		Type         MessageType         `json:"type"`
		Event        struct{ ID string } `json:"event"`
		Notification struct{ ID string } `json:"notification"`
	}
	if json.Unmarshal(msg, &m) != nil {
		return ""
	}
	switch m.Type {
	case EventMessage:
		return m.Event.ID
	case NotificationMessage:
		return m.Notification.ID
	}
	return ""
}
