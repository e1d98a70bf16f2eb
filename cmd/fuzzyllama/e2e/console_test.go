package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestConsoleAndBrowserSessions: the gateway serves the web console at / beside the API, and a
// browser keeps its refresh token in an HttpOnly cookie (X-FuzzyLlama-Session: cookie) while API
// clients keep it in the body.
func TestConsoleAndBrowserSessions(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"RATE_LIMIT_AUTH_PER_IP_PER_MINUTE": "100"})

		// The console: public HTML at / and on client routes; the API as before.
		for _, p := range []string{"/", "/projects/abc", "/reset-password?token=x"} {
			r := s.do("GET", p, "", nil)
			if r.status != 200 || r.header.Get("Content-Type") != "text/html; charset=utf-8" || r.header.Get("Cache-Control") != "no-cache" {
				t.Fatalf("GET %s: %d %v", p, r.status, r.header)
			}
			if csp := r.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self';") || strings.Contains(csp, "unsafe") {
				t.Errorf("GET %s: CSP %q", p, csp)
			}
		}
		if r := s.do("HEAD", "/", "", nil); r.status != 200 || len(r.raw) != 0 {
			t.Errorf("HEAD /: %d", r.status)
		}
		s.do("GET", "/assets/missing-0000.js", "", nil).want(t, 404, "NOT_FOUND")
		s.do("GET", "/api/v1/projects", "", nil).want(t, 401, "UNAUTHENTICATED")
		s.do("GET", "/api/v1/nope", "", nil).want(t, 401, "UNAUTHENTICATED")
		s.do("POST", "/", "", map[string]string{}).want(t, 401, "UNAUTHENTICATED")

		browser := []string{"X-FuzzyLlama-Session", "cookie"}
		withCookie := func(value string, extra ...string) []string {
			return append(append([]string{"Cookie", "fuzzyllama_refresh=" + value}, browser...), extra...)
		}

		// Register in a browser: the refresh token is in the cookie, not in the body.
		r := s.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "bea@example.com", "password": goodPassword, "name": "Bea"}, browser...).
			want(t, http.StatusCreated, "")
		c := sessionCookie(t, r, false)
		var reg session
		r.data(t, &reg)
		if reg.RefreshToken != "" || reg.AccessToken == "" || c.Value == "" {
			t.Fatalf("register: body %+v, cookie %q", reg, c.Value)
		}
		if c.MaxAge < 30*24*3600-60 || c.MaxAge > 30*24*3600 {
			t.Errorf("Max-Age %d is not the refresh token's 30 days", c.MaxAge)
		}
		s.do("GET", "/api/v1/auth/me", reg.AccessToken, nil).want(t, 200, "")
		s.do("GET", "/api/v1/nope", reg.AccessToken, nil).want(t, 404, "NOT_FOUND")

		// Refresh with the cookie: the body's (required, empty) token is ignored; the cookie rotates.
		var next session
		r = s.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": ""}, withCookie(c.Value)...).want(t, 200, "")
		r.data(t, &next)
		rotated := sessionCookie(t, r, false)
		if next.RefreshToken != "" || next.AccessToken == "" || rotated.Value == c.Value || rotated.Value == "" {
			t.Fatalf("refresh: body %+v, cookie %q", next, rotated.Value)
		}
		s.do("GET", "/api/v1/auth/me", next.AccessToken, nil).want(t, 200, "")

		// No cookie: no session to refresh. A refused cookie is cleared.
		r = s.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": ""}, browser...).want(t, 401, "UNAUTHENTICATED")
		if !strings.Contains(r.env.Error.Message, "no session to refresh") || len(r.header.Values("Set-Cookie")) != 0 {
			t.Errorf("no cookie: %v %s", r.header, r.raw)
		}
		r = s.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": ""}, withCookie("not-a-token")...).want(t, 401, "UNAUTHENTICATED")
		if cleared := sessionCookie(t, r, false); cleared.Value != "" || cleared.MaxAge != -1 {
			t.Errorf("a refused cookie is kept: %q", r.header.Get("Set-Cookie"))
		}

		// A cookie without the header is ignored: the body is what counts, as for any API client.
		r = s.do("POST", "/api/v1/auth/refresh", "", map[string]string{}, "Cookie", "fuzzyllama_refresh="+rotated.Value).want(t, 400, "INVALID_ARGUMENT")
		if len(r.fields()["refreshToken"]) == 0 || len(r.header.Values("Set-Cookie")) != 0 {
			t.Errorf("a cookie without the header was read: %v %s", r.header, r.raw)
		}
		// No header: the token in the body, no cookie.
		api := s.login(t, "bea@example.com", goodPassword)
		if api.RefreshToken == "" {
			t.Fatal("an API client's login has no refresh token in the body")
		}
		r = s.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": api.RefreshToken}).want(t, 200, "")
		if len(r.header.Values("Set-Cookie")) != 0 {
			t.Errorf("an API client got a cookie: %v", r.header)
		}

		// Off loopback the cookie is Secure.
		r = s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "bea@example.com", "password": goodPassword},
			append(browser, "Host", "fuzzyllama.example.com")...).want(t, 200, "")
		sessionCookie(t, r, true)

		// Logout clears the cookie, and the session it held is over.
		r = s.do("POST", "/api/v1/auth/logout", next.AccessToken, map[string]string{}, withCookie(rotated.Value)...).want(t, 200, "")
		if cleared := sessionCookie(t, r, false); cleared.Value != "" || cleared.MaxAge != -1 {
			t.Errorf("logout kept the cookie: %q", r.header.Get("Set-Cookie"))
		}
		s.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": ""}, withCookie(rotated.Value)...).want(t, 401, "UNAUTHENTICATED")
		// Logout-all too, even when its access token is no longer accepted.
		r = s.do("POST", "/api/v1/auth/logout-all", next.AccessToken, map[string]string{}, browser...).want(t, 401, "UNAUTHENTICATED")
		if cleared := sessionCookie(t, r, false); cleared.Value != "" || cleared.MaxAge != -1 {
			t.Errorf("a refused logout-all kept the cookie: %q", r.header.Get("Set-Cookie"))
		}
	})
}

// sessionCookie returns the one Set-Cookie of r, the session cookie with its attributes.
func sessionCookie(t *testing.T, r response, secure bool) *http.Cookie {
	t.Helper()
	values := r.header.Values("Set-Cookie")
	if len(values) != 1 {
		t.Fatalf("want one Set-Cookie, got %q", values)
	}
	c, err := http.ParseSetCookie(values[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "fuzzyllama_refresh" || c.Path != "/api/v1/auth" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != secure {
		t.Errorf("cookie attributes: %q", values[0])
	}
	return c
}
