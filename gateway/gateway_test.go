package gateway

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/platform/grpcx"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
)

// fakeAuth is an auth service with one account and real tokens (signed with the test key, so the
// gateway verifies them as it verifies the real service's): enough for the gateway's handling of
// sessions, without a database. Refresh tokens rotate: each works once.
type fakeAuth struct {
	stubAuth
	signer authn.Signer

	mu        sync.Mutex
	seq       int
	live      map[string]bool // refresh tokens that still work
	presented []string        // the refresh tokens Refresh received, in order
	logouts   int
}

const refreshTTL = 30 * 24 * time.Hour

func (f *fakeAuth) pair() (access, refresh string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	jti := string(rune('a' + f.seq))
	now := time.Now()
	access, _ = f.signer.Sign(authn.TypeAccess, "user-1", "session-1", "access-"+jti, now, 15*time.Minute)
	refresh, _ = f.signer.Sign(authn.TypeRefresh, "user-1", "session-1", "refresh-"+jti, now, refreshTTL)
	f.live[refresh] = true
	return access, refresh
}

func (f *fakeAuth) Register(ctx context.Context, _ *authv1.RegisterRequest) (*authv1.RegisterResponse, error) {
	access, refresh := f.pair()
	edge.SetHTTPStatus(ctx, http.StatusCreated)
	return &authv1.RegisterResponse{User: &authv1.User{Id: "user-1", Email: "ann@example.com", Name: "Ann"},
		AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: 900}, nil
}

func (f *fakeAuth) Login(_ context.Context, req *authv1.LoginRequest) (*authv1.LoginResponse, error) {
	if req.GetPassword() != "right" {
		return nil, apperr.Unauthenticated("invalid email or password")
	}
	access, refresh := f.pair()
	return &authv1.LoginResponse{User: &authv1.User{Id: "user-1", Email: "ann@example.com", Name: "Ann"},
		AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: 900}, nil
}

func (f *fakeAuth) Refresh(_ context.Context, req *authv1.RefreshRequest) (*authv1.RefreshResponse, error) {
	f.mu.Lock()
	f.presented = append(f.presented, req.GetRefreshToken())
	live := f.live[req.GetRefreshToken()]
	delete(f.live, req.GetRefreshToken())
	f.mu.Unlock()
	switch {
	case req.GetRefreshToken() == "":
		return nil, apperr.InvalidField("refreshToken", "is required")
	case !live:
		return nil, apperr.Unauthenticated("refresh token revoked").WithReason("REFRESH_TOKEN_REVOKED")
	}
	access, refresh := f.pair()
	return &authv1.RefreshResponse{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: 900}, nil
}

func (f *fakeAuth) Logout(context.Context, *authv1.LogoutRequest) (*authv1.LogoutResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logouts++
	return &authv1.LogoutResponse{}, nil
}

func (f *fakeAuth) LogoutAll(context.Context, *authv1.LogoutAllRequest) (*authv1.LogoutAllResponse, error) {
	return &authv1.LogoutAllResponse{SessionsEnded: 1}, nil
}

func (f *fakeAuth) isLive(refresh string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.live[refresh]
}

func (f *fakeAuth) revoke(refresh string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.live, refresh)
}

func (f *fakeAuth) lastPresented() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.presented) == 0 {
		return "<none>"
	}
	return f.presented[len(f.presented)-1]
}

// testGateway is the whole gateway (every middleware, the mux, the console) in front of fakeAuth
// over a loopback gRPC connection, with the test Redis.
type testGateway struct {
	http.Handler
	auth *fakeAuth
}

// newTestGateway builds the gateway; console nil serves the embedded build. Rate limits are
// generous unless cfg sets them.
func newTestGateway(t *testing.T, cfg Config, console fs.FS) *testGateway {
	t.Helper()
	rdb, prefix := redistest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	key, _ := authn.NewKey(make([]byte, ed25519.SeedSize))
	signer := authn.Signer{Key: key, Issuer: authn.Issuer, Audience: authn.Audience}
	revocations := &authn.Revocations{Redis: rdb, Keys: prefix, Source: func(context.Context) ([]authn.Revoked, error) { return nil, nil }}
	if err := revocations.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	verifier := &authn.Verifier{Keys: authn.NewStaticKeys(key), Issuer: authn.Issuer, Audience: authn.Audience,
		Revocations: revocations, Leeway: authn.DefaultLeeway}
	auth := &fakeAuth{stubAuth: stubAuth{key: key}, signer: signer, live: map[string]bool{}}
	srv := grpcx.NewServer(grpcx.ServerConfig{Logger: log, Authorizer: &authn.Authorizer{Verifier: verifier}})
	authv1.RegisterAuthServiceServer(srv, auth)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpcx.Dial(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	cfg.MaxBodyBytes = cmp.Or(cfg.MaxBodyBytes, 1<<20)
	cfg.RateLimitPerIP = cmp.Or(cfg.RateLimitPerIP, 1000)
	cfg.RateLimitAuthIP = cmp.Or(cfg.RateLimitAuthIP, 1000)
	cfg.RateLimitPerUser = cmp.Or(cfg.RateLimitPerUser, 1000)
	cfg.LiveMaxConnsPerUser, cfg.LiveSendBuffer, cfg.LiveHeartbeat = 1, 1, time.Minute
	gw, err := New(context.Background(), cfg, Deps{Backends: Backends{Auth: conn, Projects: conn, Documents: conn, Agents: conn},
		Redis: rdb, Keys: prefix, Logger: log, Registry: prometheus.NewRegistry(), Revocations: revocations, Console: console})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.EndStreams)
	return &testGateway{Handler: gw, auth: auth}
}

// do sends one request from a fixed client address; header is name, value pairs, "Host" among
// them setting the request's host.
func (g *testGateway) do(method, target, body string, header ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.RemoteAddr = "192.0.2.10:4242"
	r.Host = "localhost:8080"
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			r.Host = header[i+1]
			continue
		}
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	return w
}

type testEnvelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details struct {
			Fields []struct{ Field string } `json:"fields"`
		} `json:"details"`
	} `json:"error"`
}

// decode returns the JSON envelope of w, failing the test if w is not one.
func decode(t *testing.T, w *httptest.ResponseRecorder) testEnvelope {
	t.Helper()
	var env testEnvelope
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("not JSON: %d %v %.200s", w.Code, w.Header(), w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		t.Fatalf("not an envelope: %v: %s", err, w.Body)
	}
	return env
}

// wantError fails the test unless w is the error envelope with status and code.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) testEnvelope {
	t.Helper()
	env := decode(t, w)
	if w.Code != status || env.Success || env.Error.Code != code {
		t.Fatalf("want %d %s, got %d %s", status, code, w.Code, w.Body)
	}
	return env
}

// The console answers at / and on every client route, publicly, with the gateway's CSP, and
// without touching the rate limits; the API, the JWKS and the operational endpoints answer as
// they always have.
func TestTheConsoleIsServedBesideTheAPI(t *testing.T) {
	g := newTestGateway(t, Config{RateLimitPerIP: 5}, nil) // the embedded build
	apiCSP := g.do(http.MethodGet, "/healthz", "").Header().Get("Content-Security-Policy")
	if !strings.HasPrefix(apiCSP, "default-src 'self';") || strings.Contains(apiCSP, "unsafe") {
		t.Fatalf("the gateway's CSP: %q", apiCSP)
	}
	for i := range 20 { // well past the 5 a minute of anonymous callers
		for _, p := range []string{"/", "/projects/abc", "/reset-password?token=x", "/login"} {
			w := g.do(http.MethodGet, p, "")
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/html; charset=utf-8" ||
				w.Header().Get("Cache-Control") != "no-cache" {
				t.Fatalf("GET %s (%d): %d %v", p, i, w.Code, w.Header())
			}
			if w.Header().Get("Content-Security-Policy") != apiCSP || w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("GET %s: security headers %v", p, w.Header())
			}
			if w.Header().Get("RateLimit-Limit") != "" {
				t.Fatalf("GET %s is rate limited: %v", p, w.Header())
			}
		}
	}
	if w := g.do(http.MethodHead, "/", ""); w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("ETag") == "" {
		t.Errorf("HEAD /: %d %v", w.Code, w.Header())
	}
	wantError(t, g.do(http.MethodGet, "/assets/missing-0000.js", ""), http.StatusNotFound, "NOT_FOUND")

	// The API: a token is required, and an unknown route is the routing error handler's 404.
	w := g.do(http.MethodGet, "/api/v1/projects", "")
	wantError(t, w, http.StatusUnauthorized, "UNAUTHENTICATED")
	if w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate: %v", w.Header())
	}
	access, _ := g.auth.pair()
	for _, p := range []string{"/api/v1/nope", "/api/", "/api", "/.well-known/nope", "/api/docs/nope"} {
		env := wantError(t, g.do(http.MethodGet, p, "", "Authorization", "Bearer "+access), http.StatusNotFound, "NOT_FOUND")
		if env.Error.Message != "no route for GET "+p {
			t.Errorf("GET %s: %q", p, env.Error.Message)
		}
	}
	// Other methods outside the API: the JSON 404 of before, never the console.
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		for _, p := range []string{"/", "/projects/abc", "/healthz"} {
			wantError(t, g.do(m, p, "", "Authorization", "Bearer "+access), http.StatusNotFound, "NOT_FOUND")
		}
	}
	wantError(t, g.do(http.MethodDelete, "/api/v1/auth/login", "", "Authorization", "Bearer "+access), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")

	// The operational endpoints, the JWKS and the docs.
	if env := decode(t, g.do(http.MethodGet, "/healthz", "")); !env.Success {
		t.Errorf("/healthz: %+v", env)
	}
	if w := g.do(http.MethodGet, "/.well-known/jwks.json", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"keys"`) {
		t.Errorf("JWKS: %d %s", w.Code, w.Body)
	}
	if w := g.do(http.MethodGet, "/api/docs", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "/api/docs/app.js") {
		t.Errorf("docs: %d", w.Code)
	}
	// Anonymous API calls do spend the per-IP budget (5 a minute): the console never did.
	var limited bool
	for range 6 {
		if g.do(http.MethodGet, "/api/v1/nope", "").Code == http.StatusTooManyRequests {
			limited = true
		}
	}
	if !limited {
		t.Error("the API's per-IP limit did not apply")
	}
	if w := g.do(http.MethodGet, "/", ""); w.Code != http.StatusOK {
		t.Errorf("the console after the API's limit: %d", w.Code)
	}
	metrics := g.do(http.MethodGet, "/metrics", "").Body.String()
	if !strings.Contains(metrics, `route="console"`) {
		t.Errorf("the console's requests are not labelled: %.2000s", metrics)
	}
}

// The gateway serves the build it is given: hashed assets are immutable, precompressed
// siblings are chosen, and the CSP holds on them too.
func TestTheConsoleServesItsBuild(t *testing.T) {
	build := fstest.MapFS{
		"index.html":            {Data: []byte("<!doctype html><title>console</title><script type=module src=/assets/app-1a2b.js></script>")},
		"assets/app-1a2b.js":    {Data: []byte("console.log(1)")},
		"assets/app-1a2b.js.br": {Data: []byte("br")},
	}
	g := newTestGateway(t, Config{}, build)
	w := g.do(http.MethodGet, "/assets/app-1a2b.js", "", "Accept-Encoding", "gzip, br")
	if w.Code != http.StatusOK || w.Body.String() != "br" || w.Header().Get("Content-Encoding") != "br" ||
		w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("asset: %d %v %q", w.Code, w.Header(), w.Body)
	}
	if !strings.HasPrefix(w.Header().Get("Content-Security-Policy"), "default-src 'self';") {
		t.Errorf("asset without the CSP: %v", w.Header())
	}
	if w := g.do(http.MethodGet, "/projects/p1", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<title>console</title>") {
		t.Errorf("client route: %d %q", w.Code, w.Body)
	}
	if _, err := New(context.Background(), Config{}, Deps{Console: fstest.MapFS{"app.js": {}}}); err == nil {
		t.Error("a build without index.html was accepted")
	}
}
