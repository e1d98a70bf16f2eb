package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/gen"
)

const (
	loginBody    = `{"email":"ann@example.com","password":"right"}`
	registerBody = `{"email":"ann@example.com","password":"right","name":"Ann"}`
)

// setCookie returns the one Set-Cookie of w, parsed; nil when there is none. Two are a failure:
// a response must never carry conflicting cookies.
func setCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	// Result's headers are those at WriteHeader (Header() would show later changes too).
	values := w.Result().Header.Values("Set-Cookie")
	switch len(values) {
	case 0:
		return nil
	case 1:
	default:
		t.Fatalf("%d Set-Cookie headers: %q", len(values), values)
	}
	c, err := http.ParseSetCookie(values[0])
	if err != nil {
		t.Fatalf("Set-Cookie %q: %v", values[0], err)
	}
	return c
}

// wantSessionCookie checks the cookie's attributes; secure is whether Secure must be set.
func wantSessionCookie(t *testing.T, c *http.Cookie, raw string, secure bool) {
	t.Helper()
	if c == nil {
		t.Fatal("no Set-Cookie")
	}
	if c.Name != "fuzzyllama_refresh" || c.Path != "/api/v1/auth" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode ||
		c.Secure != secure || c.Domain != "" {
		t.Errorf("cookie attributes: %q", raw)
	}
}

// tokens decodes the data of a token answer.
func tokens(t *testing.T, w *httptest.ResponseRecorder) (access, refresh string) {
	t.Helper()
	env := decode(t, w)
	var d struct {
		AccessToken  *string `json:"accessToken"`
		RefreshToken *string `json:"refreshToken"`
	}
	if err := json.Unmarshal(env.Data, &d); err != nil || d.AccessToken == nil || d.RefreshToken == nil {
		t.Fatalf("token answer lacks a field: %s", w.Body)
	}
	return *d.AccessToken, *d.RefreshToken
}

func TestBrowserSessionLifecycle(t *testing.T) {
	g := newTestGateway(t, Config{}, nil)
	cookieHeader := []string{"X-FuzzyLlama-Session", "cookie"}

	// Login: the refresh token goes into the cookie, the body's is blanked.
	w := g.do(http.MethodPost, "/api/v1/auth/login", loginBody, cookieHeader...)
	if w.Code != http.StatusOK {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	c := setCookie(t, w)
	wantSessionCookie(t, c, w.Header().Get("Set-Cookie"), false) // Host localhost:8080
	access, refresh := tokens(t, w)
	if access == "" || refresh != "" {
		t.Fatalf("login body: access %q, refresh %q", access, refresh)
	}
	if c.Value == "" || !g.auth.isLive(c.Value) {
		t.Fatalf("the cookie does not hold the issued refresh token: %q", c.Value)
	}
	// Max-Age is the token's remaining lifetime (30 days here).
	if c.MaxAge < int(refreshTTL.Seconds())-5 || c.MaxAge > int(refreshTTL.Seconds())+1 {
		t.Errorf("Max-Age %d, want about %d", c.MaxAge, int(refreshTTL.Seconds()))
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", w.Header().Get("Cache-Control"))
	}

	// Refresh with the cookie alone (no body at all, or an empty one): it is presented, and rotated.
	for i, body := range []string{"", "{}", `{"refreshToken":""}`, `{"refreshToken":"a body token is ignored"}`} {
		w = g.do(http.MethodPost, "/api/v1/auth/refresh", body, "X-FuzzyLlama-Session", "cookie", "Cookie", "fuzzyllama_refresh="+c.Value)
		if w.Code != http.StatusOK {
			t.Fatalf("refresh %d (body %q): %d %s", i, body, w.Code, w.Body)
		}
		if got := g.auth.lastPresented(); got != c.Value {
			t.Fatalf("refresh %d presented %q, not the cookie's token", i, got)
		}
		next := setCookie(t, w)
		wantSessionCookie(t, next, w.Header().Get("Set-Cookie"), false)
		if next.Value == c.Value || next.Value == "" || next.MaxAge < 60 {
			t.Fatalf("refresh %d did not rotate the cookie: %q", i, w.Header().Get("Set-Cookie"))
		}
		if access, refresh := tokens(t, w); access == "" || refresh != "" {
			t.Fatalf("refresh body: access %q, refresh %q", access, refresh)
		}
		c = next
	}

	// A refused token (here: one already rotated) clears the cookie, in the one Set-Cookie.
	g.auth.revoke(c.Value)
	w = g.do(http.MethodPost, "/api/v1/auth/refresh", "", "X-FuzzyLlama-Session", "cookie", "Cookie", "fuzzyllama_refresh="+c.Value)
	wantError(t, w, http.StatusUnauthorized, "UNAUTHENTICATED")
	cleared := setCookie(t, w)
	wantSessionCookie(t, cleared, w.Header().Get("Set-Cookie"), false)
	if cleared.Value != "" || cleared.MaxAge != -1 || !strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("a refused refresh does not clear the cookie: %q", w.Header().Get("Set-Cookie"))
	}
	if w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate")
	}

	// No cookie: 401, and nothing reaches the auth service.
	before := g.auth.lastPresented()
	w = g.do(http.MethodPost, "/api/v1/auth/refresh", "{}", cookieHeader...)
	env := wantError(t, w, http.StatusUnauthorized, "UNAUTHENTICATED")
	if !strings.Contains(env.Error.Message, "no session to refresh") || w.Header().Get("WWW-Authenticate") == "" || setCookie(t, w) != nil {
		t.Errorf("no cookie: %v %s", w.Header(), w.Body)
	}
	w = g.do(http.MethodPost, "/api/v1/auth/refresh", "{}", "X-FuzzyLlama-Session", "cookie", "Cookie", "fuzzyllama_refresh=")
	wantError(t, w, http.StatusUnauthorized, "UNAUTHENTICATED")
	if g.auth.lastPresented() != before {
		t.Error("a refresh without a cookie reached the auth service")
	}

	// Register: the cookie is set on the 201 too (the status is written after the cookie).
	w = g.do(http.MethodPost, "/api/v1/auth/register", registerBody, cookieHeader...)
	if w.Code != http.StatusCreated {
		t.Fatalf("register: %d %s", w.Code, w.Body)
	}
	wantSessionCookie(t, setCookie(t, w), w.Header().Get("Set-Cookie"), false)
	if _, refresh := tokens(t, w); refresh != "" {
		t.Errorf("register body keeps the refresh token")
	}
	registeredAccess, _ := tokens(t, w)

	// A refused login sets nothing.
	w = g.do(http.MethodPost, "/api/v1/auth/login", `{"email":"ann@example.com","password":"wrong"}`, cookieHeader...)
	wantError(t, w, http.StatusUnauthorized, "UNAUTHENTICATED")
	if setCookie(t, w) != nil {
		t.Errorf("a refused login set a cookie: %v", w.Header())
	}

	// Logout and logout-all clear the cookie, whatever the outcome.
	for _, p := range []string{"/api/v1/auth/logout", "/api/v1/auth/logout-all"} {
		for _, auth := range []string{"Bearer " + registeredAccess, "", "Bearer forged"} {
			h := append([]string{"Cookie", "fuzzyllama_refresh=" + c.Value}, cookieHeader...)
			if auth != "" {
				h = append(h, "Authorization", auth)
			}
			w = g.do(http.MethodPost, p, "{}", h...)
			want := http.StatusOK
			if auth != "Bearer "+registeredAccess {
				want = http.StatusUnauthorized
			}
			if w.Code != want {
				t.Errorf("%s with %q: %d %s", p, auth, w.Code, w.Body)
			}
			cleared := setCookie(t, w)
			wantSessionCookie(t, cleared, w.Header().Get("Set-Cookie"), false)
			if cleared.Value != "" || cleared.MaxAge != -1 {
				t.Errorf("%s with %q did not clear the cookie: %q", p, auth, w.Header().Get("Set-Cookie"))
			}
		}
	}
	g.auth.mu.Lock()
	defer g.auth.mu.Unlock()
	if g.auth.logouts != 1 {
		t.Errorf("%d logouts reached the auth service, want 1", g.auth.logouts)
	}
}

// Without the header the auth routes behave exactly as for any API client: the token in the body,
// no cookie set, and a cookie sent is ignored.
func TestWithoutTheHeaderNothingChanges(t *testing.T) {
	g := newTestGateway(t, Config{}, nil)
	for _, h := range [][]string{nil, {"X-FuzzyLlama-Session", "token"}, {"X-FuzzyLlama-Session", ""}} {
		w := g.do(http.MethodPost, "/api/v1/auth/login", loginBody, h...)
		if w.Code != http.StatusOK || setCookie(t, w) != nil {
			t.Fatalf("login %v: %d %v", h, w.Code, w.Header())
		}
		_, refresh := tokens(t, w)
		if refresh == "" {
			t.Fatalf("login %v: no refresh token in the body", h)
		}
		w = g.do(http.MethodPost, "/api/v1/auth/refresh", `{"refreshToken":"`+refresh+`"}`, h...)
		if w.Code != http.StatusOK || setCookie(t, w) != nil {
			t.Fatalf("refresh %v: %d %v", h, w.Code, w.Header())
		}
		if _, next := tokens(t, w); next == "" || next == refresh {
			t.Fatalf("refresh %v: body token %q", h, next)
		}
		// A cookie without the header is not read: the body (here empty) is what counts.
		w = g.do(http.MethodPost, "/api/v1/auth/refresh", "{}", append([]string{"Cookie", "fuzzyllama_refresh=" + refresh}, h...)...)
		env := wantError(t, w, http.StatusBadRequest, "INVALID_ARGUMENT")
		if len(env.Error.Details.Fields) != 1 || env.Error.Details.Fields[0].Field != "refreshToken" || g.auth.lastPresented() != "" {
			t.Fatalf("a cookie without the header was read: %s (presented %q)", w.Body, g.auth.lastPresented())
		}
		if setCookie(t, w) != nil {
			t.Fatalf("refresh without the header touched the cookie: %v", w.Header())
		}
		// A refused refresh does not clear a cookie it was not asked about.
		w = g.do(http.MethodPost, "/api/v1/auth/refresh", `{"refreshToken":"`+refresh+`"}`, append([]string{"Cookie", "fuzzyllama_refresh=" + refresh}, h...)...)
		wantError(t, w, http.StatusUnauthorized, "UNAUTHENTICATED")
		if setCookie(t, w) != nil {
			t.Fatalf("a refused refresh without the header cleared the cookie: %v", w.Header())
		}
		access, _ := tokens(t, g.do(http.MethodPost, "/api/v1/auth/login", loginBody))
		w = g.do(http.MethodPost, "/api/v1/auth/logout", "{}", append([]string{"Authorization", "Bearer " + access}, h...)...)
		if w.Code != http.StatusOK || setCookie(t, w) != nil {
			t.Fatalf("logout %v: %d %v", h, w.Code, w.Header())
		}
	}
}

// Secure is left out only for loopback hosts, where plain http must work.
func TestTheCookieIsSecureOffLoopback(t *testing.T) {
	g := newTestGateway(t, Config{}, nil)
	for host, secure := range map[string]bool{
		"localhost:8080": false, "localhost": false, "LOCALHOST.:5173": false, "console.localhost:8080": false,
		"127.0.0.1:8080": false, "127.0.0.2": false, "[::1]:8080": false,
		"app.example.com": true, "app.example.com:443": true, "10.0.0.5:8080": true, "[2001:db8::1]:8080": true,
		"localhost.example.com": true, "mylocalhost": true, "": true,
	} {
		w := g.do(http.MethodPost, "/api/v1/auth/login", loginBody, "X-FuzzyLlama-Session", "cookie", "Host", host)
		if w.Code != http.StatusOK {
			t.Fatalf("login on %q: %d %s", host, w.Code, w.Body)
		}
		wantSessionCookie(t, setCookie(t, w), w.Header().Get("Set-Cookie"), secure)
		// Clearing uses the same attributes.
		w = g.do(http.MethodPost, "/api/v1/auth/logout", "{}", "X-FuzzyLlama-Session", "cookie", "Host", host)
		wantSessionCookie(t, setCookie(t, w), w.Header().Get("Set-Cookie"), secure)
	}
}

// With HSTS on (the site is https only), the cookie is Secure whatever the Host: a proxy that
// rewrites Host to localhost must not make it travel in clear.
func TestTheCookieIsAlwaysSecureWithHSTS(t *testing.T) {
	g := newTestGateway(t, Config{HSTS: true}, nil)
	for _, host := range []string{"localhost:8080", "127.0.0.1", "app.example.com"} {
		w := g.do(http.MethodPost, "/api/v1/auth/login", loginBody, "X-FuzzyLlama-Session", "cookie", "Host", host)
		if w.Code != http.StatusOK {
			t.Fatalf("login on %q: %d %s", host, w.Code, w.Body)
		}
		wantSessionCookie(t, setCookie(t, w), w.Header().Get("Set-Cookie"), true)
	}
}

// The header is a CORS-allowed request header, for an allowed origin only.
func TestTheSessionHeaderPassesCORS(t *testing.T) {
	g := newTestGateway(t, Config{CORSOrigins: []string{"https://app.example.com"}}, nil)
	for origin, allowed := range map[string]bool{"https://app.example.com": true, "https://evil.example": false} {
		w := g.do(http.MethodOptions, "/api/v1/auth/refresh", "", "Origin", origin, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "content-type, x-fuzzyllama-session")
		if got := w.Header().Get("Access-Control-Allow-Headers") != ""; got != allowed {
			t.Errorf("preflight from %s: %d %v", origin, w.Code, w.Header())
		}
		if w.Header().Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("credentials allowed cross-origin: %v", w.Header())
		}
	}
}

func TestTokenExpiry(t *testing.T) {
	exp := time.Now().Add(time.Hour).Unix()
	enc := func(payload string) string {
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","typ":"JWT"}`))
		return header + "." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".sig"
	}
	if got, ok := tokenExpiry(enc(`{"exp":` + strconv.FormatInt(exp, 10) + `}`)); !ok || got.Unix() != exp {
		t.Errorf("exp: %v %v", got, ok)
	}
	for _, bad := range []string{"", "a.b", "a.b.c.d", enc(`{}`), enc(`{"exp":"soon"}`), enc(`{"exp":-1}`), enc(`{"exp":1e300}`), "e30.!!!.sig", enc("not json")} {
		if _, ok := tokenExpiry(bad); ok {
			t.Errorf("%q: an expiry was read", bad)
		}
	}
}

// The published contract declares the session header on every route that honours it, and the
// cookie their answers set: a client generated from it (the console's) can send the header.
func TestContractDeclaresBrowserSessions(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string } `json:"parameters"`
			Responses  map[string]struct {
				Headers map[string]json.RawMessage `json:"headers"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(gen.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	for path := range sessionRoutes {
		op, ok := doc.Paths[path]["post"]
		if !ok {
			t.Fatalf("the contract has no POST %s", path)
		}
		if !slices.ContainsFunc(op.Parameters, func(p struct{ Name, In string }) bool {
			return p.Name == SessionHeader && p.In == "header"
		}) {
			t.Errorf("POST %s: the contract does not declare the %s header", path, SessionHeader)
		}
		declared := false
		for status, r := range op.Responses {
			if status[0] == '2' && r.Headers["Set-Cookie"] != nil {
				declared = true
			}
		}
		if !declared {
			t.Errorf("POST %s: the contract does not declare the Set-Cookie of its success", path)
		}
	}
	if !bytes.Contains(gen.OpenAPI, []byte(RefreshCookie)) {
		t.Errorf("the contract does not name the cookie %s", RefreshCookie)
	}
}
