package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const goodPassword = "correct horse 42"

// TestSessionLifecycle walks the whole session story a user lives through: register, login, me,
// refresh rotation, theft detection on reuse, logout of one session, logout of all.
func TestSessionLifecycle(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), nil)

		reg := s.register(t, "  Ann@Example.COM ", goodPassword, " Ann ")
		if reg.User.Email != "ann@example.com" || reg.User.Name != "Ann" || reg.TokenType != "Bearer" || reg.ExpiresIn != 900 {
			t.Fatalf("register: %+v", reg)
		}
		if reg.AccessToken == "" || reg.RefreshToken == "" || reg.AccessToken == reg.RefreshToken {
			t.Fatalf("register returned no distinct token pair: %+v", reg)
		}

		a := s.login(t, "ann@example.com", goodPassword)
		var me struct {
			User struct{ ID, Email string } `json:"user"`
		}
		s.do("GET", "/api/v1/auth/me", a.AccessToken, nil).want(t, 200, "").data(t, &me)
		if me.User.ID != reg.User.ID || me.User.Email != "ann@example.com" {
			t.Fatalf("me: %+v", me)
		}

		// Refresh rotates: a new pair.
		refresh := func(token string) response {
			return s.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": token})
		}
		var rotated, retried, next session
		refresh(a.RefreshToken).want(t, 200, "").data(t, &rotated)
		if rotated.RefreshToken == a.RefreshToken || rotated.AccessToken == "" {
			t.Fatalf("refresh did not rotate: %+v", rotated)
		}
		s.do("GET", "/api/v1/auth/me", rotated.AccessToken, nil).want(t, 200, "")
		// Presented again at once (a second tab, or a retry after a lost answer), the rotated-out
		// token gets a pair on the same session rather than a logout.
		refresh(a.RefreshToken).want(t, 200, "").data(t, &retried)
		refresh(rotated.RefreshToken).want(t, 200, "").data(t, &next)

		// Once the session has moved on, reusing a rotated-out token is theft: the whole session
		// family is revoked.
		r := refresh(a.RefreshToken).want(t, 401, "UNAUTHENTICATED")
		if r.env.Error.Message != "refresh token revoked" || r.env.Error.Details == nil || r.env.Error.Details.Reason != "REFRESH_TOKEN_REVOKED" {
			t.Fatalf("reuse answer: %s", r.raw)
		}
		refresh(next.RefreshToken).want(t, 401, "UNAUTHENTICATED")
		for _, tok := range []string{rotated.AccessToken, retried.AccessToken, next.AccessToken} {
			s.do("GET", "/api/v1/auth/me", tok, nil).want(t, 401, "UNAUTHENTICATED")
		}
		// The registration session is another family and still works.
		s.do("GET", "/api/v1/auth/me", reg.AccessToken, nil).want(t, 200, "")

		// Logout ends one session only.
		b := s.login(t, "ann@example.com", goodPassword)
		c := s.login(t, "ann@example.com", goodPassword)
		s.do("POST", "/api/v1/auth/logout", b.AccessToken, map[string]string{}).want(t, 200, "")
		s.do("GET", "/api/v1/auth/me", b.AccessToken, nil).want(t, 401, "UNAUTHENTICATED")
		s.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": b.RefreshToken}).want(t, 401, "UNAUTHENTICATED")
		s.do("GET", "/api/v1/auth/me", c.AccessToken, nil).want(t, 200, "")

		// Logout-all ends every session: 401 afterwards for all of them.
		var ended struct {
			SessionsEnded int `json:"sessionsEnded"`
		}
		s.do("POST", "/api/v1/auth/logout-all", c.AccessToken, map[string]string{}).want(t, 200, "").data(t, &ended)
		if ended.SessionsEnded != 2 { // the registration session and c
			t.Errorf("logout-all ended %d sessions, want 2", ended.SessionsEnded)
		}
		for _, tok := range []string{c.AccessToken, reg.AccessToken} {
			s.do("GET", "/api/v1/auth/me", tok, nil).want(t, 401, "UNAUTHENTICATED")
		}
		for _, tok := range []string{c.RefreshToken, reg.RefreshToken} {
			s.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": tok}).want(t, 401, "UNAUTHENTICATED")
		}
		// Logging in again works.
		s.login(t, "ann@example.com", goodPassword)

		// No password or token ever reached the logs.
		logs := s.logs.String()
		for _, secret := range []string{goodPassword, reg.AccessToken, reg.RefreshToken, a.RefreshToken, rotated.AccessToken} {
			if strings.Contains(logs, secret) {
				t.Fatalf("a secret appears in the logs")
			}
		}
		if !strings.Contains(logs, `"request_id"`) {
			t.Errorf("log lines carry no request id:\n%s", logs)
		}
	})
}

func TestRegistrationValidation(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"RATE_LIMIT_AUTH_PER_IP_PER_MINUTE": "100"})
		s.register(t, "bob@example.com", goodPassword, "Bob")

		r := s.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "BOB@example.com", "password": goodPassword, "name": "Bob 2"})
		r.want(t, http.StatusConflict, "ALREADY_EXISTS")

		cases := []struct {
			name   string
			body   any
			fields []string
		}{
			{"bad email", map[string]string{"email": "not-an-email", "password": goodPassword, "name": "X"}, []string{"email"}},
			{"weak password", map[string]string{"email": "c@example.com", "password": "short", "name": "X"}, []string{"password"}},
			{"missing fields", map[string]string{}, []string{"email", "password", "name"}},
			{"everything wrong", map[string]string{"email": "x@", "password": "aaaaaaaaaaaa", "name": strings.Repeat("n", 101)}, []string{"email", "password", "name"}},
			// PostgreSQL cannot store NUL: it must be a 400, never a 500.
			{"NUL in email", map[string]string{"email": "a\x00b@example.com", "password": goodPassword, "name": "X"}, []string{"email"}},
			{"NUL in name", map[string]string{"email": "g@example.com", "password": goodPassword, "name": "G\x00"}, []string{"name"}},
		}
		for _, c := range cases {
			r := s.do("POST", "/api/v1/auth/register", "", c.body).want(t, 400, "INVALID_ARGUMENT")
			got := r.fields()
			for _, f := range c.fields {
				if len(got[f]) == 0 {
					t.Errorf("%s: field %s not named: %s", c.name, f, r.raw)
				}
			}
			if len(got) != len(c.fields) {
				t.Errorf("%s: fields %v, want %v", c.name, got, c.fields)
			}
		}
		// One message per broken password rule.
		r = s.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "d@example.com", "password": "abc", "name": "D"})
		if rules := r.fields()["password"]; len(rules) != 2 {
			t.Errorf("want the length and digit rules for %q, got %v", "abc", rules)
		}
		// Malformed JSON and unknown fields are a 400 too, never a 5xx.
		s.do("POST", "/api/v1/auth/register", "", `{"email":`).want(t, 400, "INVALID_ARGUMENT")
		r = s.do("POST", "/api/v1/auth/register", "", `{"email":"e@example.com","passwrd":"x","name":"E"}`).want(t, 400, "INVALID_ARGUMENT")
		if !strings.Contains(r.env.Error.Message, "passwrd") {
			t.Errorf("unknown field not named: %s", r.raw)
		}
		s.do("POST", "/api/v1/auth/register", "", `[1,2]`).want(t, 400, "INVALID_ARGUMENT")
		// And nothing was stored by the failed attempts: bob can still log in, c cannot.
		s.login(t, "bob@example.com", goodPassword)
		s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "c@example.com", "password": "short"}).want(t, 401, "UNAUTHENTICATED")
	})
}

func TestWrongPasswordGivesNoHint(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), nil)
		s.register(t, "carol@example.com", goodPassword, "Carol")
		wrong := s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "carol@example.com", "password": "wrong password 1"}).want(t, 401, "UNAUTHENTICATED")
		unknown := s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "nobody@example.com", "password": "wrong password 1"}).want(t, 401, "UNAUTHENTICATED")
		if wrong.env.Error.Message != unknown.env.Error.Message || wrong.env.Error.Message != "invalid email or password" {
			t.Fatalf("answers differ: %s vs %s", wrong.raw, unknown.raw)
		}
		s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "carol@example.com"}).want(t, 400, "INVALID_ARGUMENT")
		// Malformed emails are refused before they reach the store (a NUL made PostgreSQL fail).
		for _, email := range []string{"a\x00b@example.com", "carol\x1b@example.com", strings.Repeat("c", 250) + "@example.com"} {
			r := s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": "x"}).want(t, 400, "INVALID_ARGUMENT")
			if len(r.fields()["email"]) == 0 {
				t.Errorf("email not named: %s", r.raw)
			}
		}
		s.do("POST", "/api/v1/auth/login", "", `{"email":"a\u0000b@example.com","password":"x"}`).want(t, 400, "INVALID_ARGUMENT")
	})
}

func TestLoginLockout(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT": "3", "RATE_LIMIT_AUTH_PER_IP_PER_MINUTE": "100"})
		s.register(t, "dave@example.com", goodPassword, "Dave")
		for i := 0; i < 3; i++ {
			s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "dave@example.com", "password": "guess number 1"}).want(t, 401, "UNAUTHENTICATED")
		}
		// Locked: even the right password waits.
		r := s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "dave@example.com", "password": goodPassword}).want(t, 429, "RESOURCE_EXHAUSTED")
		if r.header.Get("Retry-After") == "" || r.env.Error.Details == nil || r.env.Error.Details.Reason != "LOGIN_TEMPORARILY_LOCKED" {
			t.Fatalf("lockout answer lacks Retry-After or reason: %v %s", r.header, r.raw)
		}
		// Another account is not affected.
		s.register(t, "erin@example.com", goodPassword, "Erin")
		s.login(t, "erin@example.com", goodPassword)
	})
}

// TestLoginLockoutPerIP: spraying one password over many accounts from one address is stopped
// too, even though no single account reaches its limit.
func TestLoginLockoutPerIP(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"AUTH_LOGIN_MAX_FAILURES_PER_IP": "4", "RATE_LIMIT_AUTH_PER_IP_PER_MINUTE": "100"})
		s.register(t, "olga@example.com", goodPassword, "Olga")
		for i := 0; i < 4; i++ {
			s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": fmt.Sprintf("user%d@example.com", i), "password": "Spring2026!"}).
				want(t, 401, "UNAUTHENTICATED")
		}
		r := s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "olga@example.com", "password": goodPassword}).
			want(t, 429, "RESOURCE_EXHAUSTED")
		if r.header.Get("Retry-After") == "" {
			t.Fatalf("no Retry-After: %v", r.header)
		}
	})
}

func TestRateLimit(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"RATE_LIMIT_AUTH_PER_IP_PER_MINUTE": "3"})
		body := map[string]string{"email": "frank@example.com", "password": "whatever 123"}
		for i := 0; i < 3; i++ {
			r := s.do("POST", "/api/v1/auth/login", "", body).want(t, 401, "")
			if r.header.Get("RateLimit-Limit") != "3" {
				t.Fatalf("RateLimit-Limit = %q", r.header.Get("RateLimit-Limit"))
			}
		}
		r := s.do("POST", "/api/v1/auth/login", "", body).want(t, 429, "RESOURCE_EXHAUSTED")
		for _, h := range []string{"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
			if r.header.Get(h) == "" {
				t.Errorf("429 lacks %s: %v", h, r.header)
			}
		}
		if r.header.Get("RateLimit-Remaining") != "0" {
			t.Errorf("RateLimit-Remaining = %q", r.header.Get("RateLimit-Remaining"))
		}
		// Other routes keep the global budget.
		if r := s.do("GET", "/.well-known/jwks.json", "", nil); r.status != 200 {
			t.Fatalf("jwks after login limit: %d", r.status)
		}
	})
}
