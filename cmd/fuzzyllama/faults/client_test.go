package faults_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
)

// client speaks the REST API of a gateway (or the operational endpoints of any process).
type client struct {
	base string
	http *http.Client
}

// newClient reuses connections: a new one per request would churn through the ephemeral ports
// a private PostgreSQL or Redis may have just picked.
func newClient(base string) *client {
	return &client{base: base, http: &http.Client{Timeout: 10 * time.Second}}
}

// reply is an answer: its status, headers and envelope.
type reply struct {
	status int
	header http.Header
	raw    []byte
	env    struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
		Error   *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
}

// code is the envelope's error code, or "".
func (r reply) code() string {
	if r.env.Error == nil {
		return ""
	}
	return r.env.Error.Code
}

func (r reply) String() string {
	return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.raw[:min(len(r.raw), 300)]))
}

// call sends a request; body is nil or a value sent as JSON. An error is a transport failure.
func (c *client) call(method, path, token string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header}
	if r.raw, err = io.ReadAll(resp.Body); err != nil {
		return reply{}, err
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(r.raw, &r.env)
	}
	return r, nil
}

// must sends a request that has to get status; data, when not nil, receives the envelope's data.
func (c *client) must(t *testing.T, status int, method, path, token string, body, data any) reply {
	t.Helper()
	r, err := c.call(method, path, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.status != status {
		t.Fatalf("%s %s: %s, want %d", method, path, r, status)
	}
	if data != nil {
		if err := json.Unmarshal(r.env.Data, data); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, r.raw, err)
		}
	}
	return r
}

// get reads path into data, when it answers 200.
func (c *client) get(path, token string, data any) (reply, error) {
	r, err := c.call("GET", path, token, nil)
	if err == nil && r.status == http.StatusOK {
		err = json.Unmarshal(r.env.Data, data)
	}
	return r, err
}

const password = "correct horse 1"

type session struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

func (c *client) register(t *testing.T, email string) session {
	t.Helper()
	var s session
	c.must(t, http.StatusCreated, "POST", "/api/v1/auth/register", "", map[string]string{"email": email, "password": password, "name": "Owner"}, &s)
	return s
}

func (c *client) login(t *testing.T, email string) session {
	t.Helper()
	var s session
	c.must(t, http.StatusOK, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password}, &s)
	return s
}

func (c *client) createProject(t *testing.T, token, name string) string {
	t.Helper()
	var out struct{ Project struct{ ID string } }
	c.must(t, http.StatusCreated, "POST", "/api/v1/projects", token,
		map[string]string{"name": name, "description": "Home cooks save recipes and plan meals", "type": "PROJECT_TYPE_TRADITIONAL"}, &out)
	return out.Project.ID
}

// startWork starts a project's work and returns its G1 intake run.
func (c *client) startWork(t *testing.T, token, pid string) string {
	t.Helper()
	var out struct{ Run struct{ ID string } }
	c.must(t, http.StatusOK, "POST", "/api/v1/projects/"+pid+":startWork", token,
		map[string]string{"description": "A web app that lets home cooks save recipes and plan meals."}, &out)
	return out.Run.ID
}

type runView struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	Attempt int    `json:"attempt"`
	Error   string `json:"error"`
	Rescues int    `json:"rescues"` // resumed by another worker after its own stopped
}

func (c *client) run(t *testing.T, token, pid, runID string) runView {
	t.Helper()
	var out struct{ Run runView }
	c.must(t, http.StatusOK, "GET", "/api/v1/projects/"+pid+"/runs/"+runID, token, nil, &out)
	return out.Run
}

type gateView struct {
	State         string `json:"state"`
	BlockedReason string `json:"blockedReason"`
}

func (c *client) gate(t *testing.T, token, pid string, n int) gateView {
	t.Helper()
	var out struct{ Gate gateView }
	c.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/v1/projects/%s/gates/%d", pid, n), token, nil, &out)
	return out.Gate
}

// dialLive opens the live WebSocket as a browser does (the token as a subprotocol). It returns
// the HTTP status of the handshake: 101 when the socket opened (and is closed again at once).
func (c *client) dialLive(t *testing.T, token string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(c.base, "http") + "/api/v1/ws"
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{live.Subprotocol, "bearer." + token}})
	if err == nil {
		conn.CloseNow()
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		t.Fatalf("live socket: %v", err)
	}
	return resp.StatusCode
}

// openStream opens an event stream (path: a project's events:stream or notifications:stream) and
// returns the status of its answer.
func (c *client) openStream(t *testing.T, token, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel() // ends an opened stream
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("event stream %s: %v", path, err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// ending is how a live connection ended: the close code (-1: still open at the deadline, 0: it
// ended without one) and when.
type ending struct {
	code int
	at   time.Time
}

// followNotifications opens the live WebSocket, follows the user's notifications and returns a
// channel that gets how the socket ended, by the deadline.
func (c *client) followNotifications(t *testing.T, token string, deadline time.Time) <-chan ending {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(c.base, "http") + "/api/v1/ws"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{live.Subprotocol, "bearer." + token}})
	if err != nil {
		t.Fatalf("live socket: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"subscribe","notifications":true}`)); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := conn.Read(ctx); err != nil || !strings.Contains(string(msg), `"subscribed"`) {
		t.Fatalf("live socket: subscribe: %s %v", msg, err)
	}
	out := make(chan ending, 1)
	go func() {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				code := int(websocket.CloseStatus(err))
				if ctx.Err() != nil {
					code = -1
				} else if code < 0 {
					code = 0
				}
				out <- ending{code, time.Now()}
				return
			}
		}
	}()
	return out
}

// followStream opens an event stream and returns a channel that gets how it ended (the code of
// its "close" event), by the deadline.
func (c *client) followStream(t *testing.T, token, path string, deadline time.Time) <-chan ending {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("event stream %s: %d", path, resp.StatusCode)
	}
	lines := make(chan string)
	go func() {
		defer resp.Body.Close()
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	out := make(chan ending, 1)
	go func() {
		timeout := time.After(time.Until(deadline))
		closing := false
		for {
			select {
			case line, open := <-lines:
				if !open {
					out <- ending{0, time.Now()}
					return
				}
				if line == "event: "+live.StreamCloseEvent {
					closing = true
				} else if data, ok := strings.CutPrefix(line, "data: "); ok && closing {
					var end live.StreamClose
					_ = json.Unmarshal([]byte(data), &end)
					out <- ending{end.Code, time.Now()}
					return
				}
			case <-timeout:
				out <- ending{-1, deadline}
				return
			}
		}
	}()
	return out
}
