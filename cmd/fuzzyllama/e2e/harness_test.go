// Package e2e drives the running product over HTTP, black-box, through the gateway: each test
// boots the fuzzyllama process in-process (app.Start, the same code path as the binary) once on
// the embedded default (SQLite + in-process Redis) and once on PostgreSQL + Redis.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/cmd/fuzzyllama/internal/app"
	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/platform/logging/logtest"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
)

// mode is one way to run the product.
type mode struct {
	name string
	env  func(t *testing.T) map[string]string
}

var modes = []mode{
	{"embedded", func(t *testing.T) map[string]string {
		return map[string]string{"DATA_DIR": t.TempDir()}
	}},
	{"postgres", func(t *testing.T) map[string]string {
		_, prefix := redistest.New(t) // flushes the prefix when the test ends
		return map[string]string{
			"DATA_DIR":         t.TempDir(),
			"DATABASE_URL":     dbtest.NewPostgres(t),
			"REDIS_URL":        redistest.URL(),
			"REDIS_KEY_PREFIX": string(prefix),
		}
	}},
}

// eachMode runs f as a subtest per mode.
func eachMode(t *testing.T, f func(t *testing.T, m mode)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { t.Parallel(); f(t, m) })
	}
}

// server is a running product under test.
type server struct {
	t    *testing.T
	base string
	logs *logtest.Buffer
	app  *app.App
}

// start boots the product with the mode's environment plus extra (which wins).
func start(t *testing.T, env map[string]string, extra map[string]string) *server {
	t.Helper()
	// No sandbox unless a test asks for one (sandboxEnv): only the journeys reach code.
	all := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "SHUTDOWN_DRAIN_TIME": "0s", "LOG_LEVEL": "debug", "SANDBOX_RUNNER": "off"}
	maps.Copy(all, env)
	maps.Copy(all, extra)
	cfg := app.Config{Target: "all"}
	set := app.NewConfigSet(&cfg)
	if err := set.Parse(func(k string) (string, bool) { v, ok := all[k]; return v, ok }); err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &logtest.Buffer{}
	a, err := app.Start(context.Background(), cfg, logs)
	if err != nil {
		t.Fatalf("start: %v\nlogs:\n%s", err, logs)
	}
	s := &server{t: t, base: "http://" + a.HTTPAddr(), logs: logs, app: a}
	t.Cleanup(s.stop)
	return s
}

func (s *server) stop() {
	if s.app != nil {
		_ = s.app.Close(context.Background())
		s.app = nil
	}
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	env    envelope
}

type envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details *struct {
			Fields []struct {
				Field       string `json:"field"`
				Description string `json:"description"`
			} `json:"fields"`
			Reason            string `json:"reason"`
			RetryAfterSeconds int64  `json:"retryAfterSeconds"`
		} `json:"details"`
	} `json:"error"`
	Meta struct {
		Timestamp string `json:"timestamp"`
		RequestID string `json:"requestId"`
	} `json:"meta"`
}

// do sends a request; body may be nil, a string (sent as is) or a value (sent as JSON); headers
// are name, value pairs ("Host" sets the request's host).
func (s *server) do(method, path, token string, body any, headers ...string) response {
	s.t.Helper()
	var rd io.Reader
	var sent []byte
	switch b := body.(type) {
	case nil:
	case string:
		sent = []byte(b)
		rd = bytes.NewReader(sent)
	default:
		sent, _ = json.Marshal(b)
		rd = bytes.NewReader(sent)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" { // the client sends req.Host, not a Host header
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if err := publishedContract(s.t).check(req, sent, resp.StatusCode, resp.Header, raw); err != nil {
		s.t.Error(err)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &r.env)
	}
	return r
}

// want fails the test unless the response has the status (and, for errors, the code).
func (r response) want(t *testing.T, status int, code string) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if code != "" && (r.env.Error == nil || r.env.Error.Code != code) {
		t.Fatalf("want error code %s: %s", code, r.raw)
	}
	if status < 300 && !r.env.Success && strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("success envelope expected: %s", r.raw)
	}
	return r
}

// data decodes the envelope's data into v.
func (r response) data(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.env.Data, v); err != nil {
		t.Fatalf("decode data: %v: %s", err, r.raw)
	}
}

// fields returns the offending field names of a validation error.
func (r response) fields() map[string][]string {
	out := map[string][]string{}
	if r.env.Error != nil && r.env.Error.Details != nil {
		for _, f := range r.env.Error.Details.Fields {
			out[f.Field] = append(out[f.Field], f.Description)
		}
	}
	return out
}

type session struct {
	User struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Name  string `json:"name"`
	} `json:"user"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"`
}

func (s *server) register(t *testing.T, email, password, name string) session {
	t.Helper()
	var out session
	s.do("POST", "/api/v1/auth/register", "", map[string]string{"email": email, "password": password, "name": name}).
		want(t, http.StatusCreated, "").data(t, &out)
	return out
}

func (s *server) login(t *testing.T, email, password string) session {
	t.Helper()
	var out session
	s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password}).
		want(t, http.StatusOK, "").data(t, &out)
	return out
}
