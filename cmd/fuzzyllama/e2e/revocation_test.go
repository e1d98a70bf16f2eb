package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
)

// liveClient opens the gateway's live endpoints with one access token.
type liveClient struct {
	t     *testing.T
	s     *server
	token string
}

// dial opens a WebSocket; it returns the HTTP status of a refusal (0 when it opened).
func (l liveClient) dial() (*websocket.Conn, int) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(l.s.base, "http") + "/api/v1/ws"
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{live.Subprotocol, "bearer." + l.token}})
	if err != nil {
		if resp == nil {
			l.t.Fatalf("dial: %v", err)
		}
		return nil, resp.StatusCode
	}
	l.t.Cleanup(func() { _ = c.CloseNow() })
	return c, 0
}

// subscribe opens a socket following the project and waits until it is subscribed.
func (l liveClient) subscribe(projectID string) *websocket.Conn {
	l.t.Helper()
	c, refused := l.dial()
	if refused != 0 {
		l.t.Fatalf("socket refused: %d", refused)
	}
	b, _ := json.Marshal(map[string]string{"type": "subscribe", "projectId": projectID})
	if err := c.Write(context.Background(), websocket.MessageText, b); err != nil {
		l.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			l.t.Fatalf("waiting to be subscribed: %v", err)
		}
		var m struct{ Type string }
		if _ = json.Unmarshal(b, &m); m.Type == "subscribed" {
			return c
		}
	}
}

// stream opens an event stream; it returns the response (the caller checks its status).
func (l liveClient) stream(path string) *http.Response {
	l.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { cancel(); _ = resp.Body.Close() })
	return resp
}

// wantSocketClosed4001 fails the test unless the socket closes with 4001, nothing sent first.
func wantSocketClosed4001(t *testing.T, c *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if code := websocket.CloseStatus(err); code != live.CloseTokenExpired {
		t.Fatalf("the open socket after the session ended: read %s, %v; want close %d", b, err, live.CloseTokenExpired)
	}
}

// wantStreamClosed4001 reads the stream until its close event, which must carry 4001.
func wantStreamClosed4001(t *testing.T, lines *bufio.Scanner) {
	t.Helper()
	closing := false
	for lines.Scan() {
		line := lines.Text()
		if line == "event: "+live.StreamCloseEvent {
			closing = true
			continue
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok && closing {
			var c struct{ Code int }
			if err := json.Unmarshal([]byte(data), &c); err != nil || c.Code != int(live.CloseTokenExpired) {
				t.Fatalf("close event %s, want code %d", data, live.CloseTokenExpired)
			}
			return
		}
	}
	t.Fatalf("the event stream ended without its close event (%v)", lines.Err())
}

// TestEndedSessionsLoseTheirLiveConnections: a logout closes the session's open WebSocket and
// event stream with 4001 at once (the heartbeat is far off and nothing is published), and its
// token then opens neither (401) nor passes REST (401), and cannot be refreshed ("session
// ended"); the user's other session keeps its socket until a logout-all ends it too.
func TestEndedSessionsLoseTheirLiveConnections(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"LIVE_HEARTBEAT": "10m"})
		first := s.register(t, "rita@example.com", goodPassword, "Rita")
		second := s.login(t, "rita@example.com", goodPassword)
		p := s.createProject(t, first.AccessToken, "Revoked", "PROJECT_TYPE_TRADITIONAL")
		eventsPath := "/api/v1/projects/" + p.ID + "/events:stream"

		ended := liveClient{t: t, s: s, token: first.AccessToken}
		socket := ended.subscribe(p.ID)
		resp := ended.stream(eventsPath)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("event stream: %d", resp.StatusCode)
		}
		events := bufio.NewScanner(resp.Body)
		other := liveClient{t: t, s: s, token: second.AccessToken}.subscribe(p.ID)

		s.do("POST", "/api/v1/auth/logout", first.AccessToken, map[string]string{}).want(t, http.StatusOK, "")
		wantSocketClosed4001(t, socket)
		wantStreamClosed4001(t, events)
		if _, status := ended.dial(); status != http.StatusUnauthorized {
			t.Fatalf("a new socket with the logged-out token: %d, want 401", status)
		}
		if r := ended.stream(eventsPath); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a new event stream with the logged-out token: %d, want 401", r.StatusCode)
		}
		s.do("GET", "/api/v1/projects/"+p.ID, first.AccessToken, nil).want(t, http.StatusUnauthorized, "UNAUTHENTICATED")
		r := s.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": first.RefreshToken}).
			want(t, http.StatusUnauthorized, "UNAUTHENTICATED")
		if r.env.Error.Details == nil || r.env.Error.Details.Reason != "SESSION_ENDED" {
			t.Fatalf("refresh of a logged-out session: %s, want reason SESSION_ENDED", r.raw)
		}

		// The other session was untouched, until a logout-all.
		s.do("GET", "/api/v1/projects/"+p.ID, second.AccessToken, nil).want(t, http.StatusOK, "")
		s.do("POST", "/api/v1/auth/logout-all", second.AccessToken, map[string]string{}).want(t, http.StatusOK, "")
		wantSocketClosed4001(t, other)
		s.do("GET", "/api/v1/projects/"+p.ID, second.AccessToken, nil).want(t, http.StatusUnauthorized, "UNAUTHENTICATED")

		// A session started afterwards is not caught by the logout-all.
		again := s.login(t, "rita@example.com", goodPassword)
		liveClient{t: t, s: s, token: again.AccessToken}.subscribe(p.ID)
		s.do("GET", "/api/v1/projects/"+p.ID, again.AccessToken, nil).want(t, http.StatusOK, "")
	})
}
