package e2e

import (
	"bytes"
	"strings"
	"testing"
)

// TestEdgeBehaviour covers what every response of the gateway promises, whatever the route.
func TestEdgeBehaviour(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"HTTP_MAX_BODY_BYTES": "2048", "CORS_ALLOWED_ORIGINS": "https://app.example.com"})

		r := s.do("GET", "/healthz", "", nil).want(t, 200, "")
		for h, want := range map[string]string{
			"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
		} {
			if r.header.Get(h) != want {
				t.Errorf("%s = %q, want %q", h, r.header.Get(h), want)
			}
		}
		if !strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("CSP = %q", r.header.Get("Content-Security-Policy"))
		}
		if r.env.Meta.RequestID == "" || r.env.Meta.RequestID != r.header.Get("X-Request-Id") || r.env.Meta.Timestamp == "" {
			t.Errorf("meta %+v vs header %q", r.env.Meta, r.header.Get("X-Request-Id"))
		}
		// The body limit holds for every method, as the contract declares (a GET included).
		s.do("GET", "/.well-known/jwks.json", "", strings.Repeat("x", 4096)).want(t, 413, "PAYLOAD_TOO_LARGE")
		// The socket's refusal is the same envelope as every other answer.
		ws := s.do("GET", "/api/v1/ws", "not-a-token", nil).want(t, 401, "UNAUTHENTICATED")
		if ws.header.Get("WWW-Authenticate") == "" || ws.env.Meta.Timestamp == "" || !strings.HasPrefix(ws.header.Get("Content-Type"), "application/json") {
			t.Errorf("the socket's refusal is not the envelope: %v %s", ws.header, ws.raw)
		}
		// A caller's request id is adopted; an unsafe one is replaced.
		if got := s.do("GET", "/healthz", "", nil, "X-Request-Id", "trace-me-123").header.Get("X-Request-Id"); got != "trace-me-123" {
			t.Errorf("request id not adopted: %q", got)
		}
		if got := s.do("GET", "/healthz", "", nil, "X-Request-Id", "bad id\"<>").header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, " \"<>") {
			t.Errorf("unsafe request id kept: %q", got)
		}

		s.do("GET", "/readyz", "", nil).want(t, 200, "")
		s.do("GET", "/api/v1/nothing-here", "tok", nil).want(t, 401, "UNAUTHENTICATED")
		ses := s.register(t, "kim@example.com", goodPassword, "Kim")
		s.do("GET", "/api/v1/nothing-here", ses.AccessToken, nil).want(t, 404, "NOT_FOUND")
		s.do("DELETE", "/api/v1/auth/login", ses.AccessToken, nil).want(t, 405, "METHOD_NOT_ALLOWED")

		big := `{"email":"x@example.com","password":"` + strings.Repeat("a", 4096) + `","name":"X"}`
		s.do("POST", "/api/v1/auth/register", "", big).want(t, 413, "PAYLOAD_TOO_LARGE")

		// CORS: only the configured origin.
		pre := s.do("OPTIONS", "/api/v1/auth/login", "", nil, "Origin", "https://app.example.com", "Access-Control-Request-Method", "POST")
		if pre.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Errorf("preflight from the allowed origin: %d %v", pre.status, pre.header)
		}
		evil := s.do("OPTIONS", "/api/v1/auth/login", "", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
		if evil.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from another origin allowed: %v", evil.header)
		}

		// Operational endpoints.
		metrics := s.do("GET", "/metrics", "", nil)
		for _, want := range []string{"http_requests_total", `route="/api/v1/auth/register"`, "grpc_server_handled_total", `grpc_method="Register"`} {
			if !bytes.Contains(metrics.raw, []byte(want)) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		doc := s.do("GET", "/api/docs/openapi.json", "", nil)
		for _, want := range []string{`"/api/v1/auth/login"`, `"/api/v1/auth/me"`, `"/.well-known/jwks.json"`, `"accessToken"`} {
			if !bytes.Contains(doc.raw, []byte(want)) {
				t.Errorf("OpenAPI lacks %s", want)
			}
		}
		page := s.do("GET", "/api/docs", "", nil)
		if page.status != 200 || !bytes.Contains(page.raw, []byte(`<script src="/api/docs/app.js">`)) {
			t.Errorf("docs page: %d", page.status)
		}
		if s.do("GET", "/api/docs/app.js", "", nil).status != 200 {
			t.Error("docs script missing")
		}
	})
}
