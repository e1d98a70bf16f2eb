package gateway

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/authn"
)

// TestIdentifyForwardsExactlyTheVerifiedToken: whatever the client sends, the request that
// reaches the mux carries either the one token the gateway verified, or none.
func TestIdentifyForwardsExactlyTheVerifiedToken(t *testing.T) {
	key, _ := authn.NewKey(make([]byte, ed25519.SeedSize))
	v := authn.NewVerifier(authn.NewStaticKeys(key), nil)
	sign := func(user string) string {
		tok, _ := authn.Signer{Key: key, Issuer: authn.Issuer, Audience: authn.Audience}.
			Sign(authn.TypeAccess, user, "s-"+user, "j", time.Now(), time.Minute)
		return tok
	}
	x, y := sign("x"), sign("y")
	var seen []string
	h := identify(v, slog.New(slog.NewTextHandler(io.Discard, nil)))(requireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Values("Authorization")
		id, _ := authn.FromContext(r.Context())
		_, _ = w.Write([]byte(id.UserID))
	})))
	cases := []struct {
		name    string
		headers []string
		status  int
		user    string
	}{
		{"one valid token", []string{"Bearer " + x}, 200, "x"},
		{"two headers", []string{"Bearer " + x, "Bearer " + y}, 401, ""},
		{"tab before the token", []string{"Bearer \t" + x}, 401, ""},
		{"trailing space", []string{"Bearer " + x + " "}, 401, ""},
		{"lower-case scheme", []string{"bearer " + y}, 200, "y"},
		{"none", nil, 401, ""},
	}
	for _, c := range cases {
		seen = nil
		r := httptest.NewRequest(http.MethodGet, "/api/v1/auth/me", nil)
		for _, hv := range c.headers {
			r.Header.Add("Authorization", hv)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, w.Code, c.status, w.Body)
			continue
		}
		if c.status == 200 {
			if w.Body.String() != c.user || len(seen) != 1 || seen[0] != "Bearer "+map[string]string{"x": x, "y": y}[c.user] {
				t.Errorf("%s: forwarded %v as %q", c.name, seen, w.Body)
			}
			continue
		}
		var env struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &env)
		if env.Error.Code != "UNAUTHENTICATED" || w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %s %v", c.name, w.Body, w.Header())
		}
	}
}

func TestPublicRoutesAreExactlyTheListedOnes(t *testing.T) {
	for _, c := range []struct {
		method, path string
		public       bool
	}{
		{"POST", "/api/v1/auth/login", true},
		{"POST", "/api/v1/auth/login/", true},
		{"GET", "/api/v1/auth/login", false},
		{"GET", "/api/v1/auth/me", false},
		{"GET", "/api/v1/projects", false},
		{"OPTIONS", "/api/v1/projects", true},
		{"GET", "/healthz", true},
		{"GET", "/.well-known/jwks.json", true},
		// The web console: every GET and HEAD outside the API, the JWKS and the operational
		// endpoints; nothing else.
		{"GET", "/", true},
		{"HEAD", "/", true},
		{"GET", "/projects/abc", true},
		{"GET", "/assets/app-1a2b.js", true},
		{"GET", "/index.html", true},
		{"POST", "/", false},
		{"DELETE", "/projects/abc", false},
		{"GET", "/api", false},
		{"GET", "/api/", false},
		{"GET", "/api/v1/nope", false},
		{"GET", "/api/docs/nope", false},
		{"GET", "/x/../api/v1/projects", false},
		{"GET", "/.well-known/other", false},
		{"POST", "/healthz", false},
	} {
		if got := isPublic(httptest.NewRequest(c.method, c.path, nil)); got != c.public {
			t.Errorf("%s %s public = %v", c.method, c.path, got)
		}
	}
}

// TestUnverifiableTokenIsUnavailable: a token that cannot be checked for want of the signing
// keys (the auth service is down) is 503 UNAVAILABLE with Retry-After, like every outage at the
// edge, not 401: the token may well be fine.
func TestUnverifiableTokenIsUnavailable(t *testing.T) {
	key, _ := authn.NewKey(make([]byte, ed25519.SeedSize))
	tok, _ := authn.Signer{Key: key, Issuer: authn.Issuer, Audience: authn.Audience}.
		Sign(authn.TypeAccess, "u", "s", "j", time.Now(), time.Minute)
	down := &authn.JWKSCache{Fetch: func(context.Context) ([]authn.JWK, error) { return nil, errors.New("auth service unreachable") }}
	h := identify(authn.NewVerifier(down, nil), slog.New(slog.NewTextHandler(io.Discard, nil)))(requireAuth(http.NotFoundHandler()))
	r := httptest.NewRequest(http.MethodGet, "/api/v1/projects", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var env struct{ Error struct{ Code string } }
	_ = json.Unmarshal(w.Body.Bytes(), &env)
	if w.Code != http.StatusServiceUnavailable || env.Error.Code != "UNAVAILABLE" || w.Header().Get("Retry-After") != "2" {
		t.Errorf("got %d %s, Retry-After %q; want 503 UNAVAILABLE with Retry-After 2", w.Code, w.Body, w.Header().Get("Retry-After"))
	}
}

// TestUnverifiableTokensAreLoggedOncePerOutage: while tokens cannot be checked every request is
// 503, but the outage is logged once at WARN, and once at INFO when a token is checked again.
func TestUnverifiableTokensAreLoggedOncePerOutage(t *testing.T) {
	key, _ := authn.NewKey(make([]byte, ed25519.SeedSize))
	tok, _ := authn.Signer{Key: key, Issuer: authn.Issuer, Audience: authn.Audience}.
		Sign(authn.TypeAccess, "u", "s", "j", time.Now(), time.Minute)
	var up atomic.Bool
	keys := &authn.JWKSCache{Fetch: func(context.Context) ([]authn.JWK, error) {
		if !up.Load() {
			return nil, errors.New("auth service unreachable")
		}
		return []authn.JWK{key.PublicJWK()}, nil
	}}
	var logs bytes.Buffer
	h := identify(authn.NewVerifier(keys, nil), slog.New(slog.NewJSONHandler(&logs, nil)))(requireAuth(http.NotFoundHandler()))
	call := func() int {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/projects", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for range 5 {
		if code := call(); code != http.StatusServiceUnavailable {
			t.Fatalf("keys unavailable: %d, want 503", code)
		}
	}
	up.Store(true)
	for range 3 {
		if code := call(); code != http.StatusNotFound {
			t.Fatalf("keys back: %d, want the handler's 404", code)
		}
	}
	var warn, info int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		switch {
		case strings.Contains(line, `"level":"WARN"`):
			warn++
		case strings.Contains(line, `"level":"INFO"`) && strings.Contains(line, "available again"):
			info++
		}
	}
	if warn != 1 || info != 1 {
		t.Errorf("%d WARN and %d INFO lines, want 1 and 1:\n%s", warn, info, logs.String())
	}
}
