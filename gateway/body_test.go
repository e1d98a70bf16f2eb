package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A chunked body (no Content-Length) over HTTP_MAX_BODY_BYTES is a 413 in the envelope, like a
// declared one, not the 400 of a malformed body.
func TestAChunkedBodyOverTheLimitIs413(t *testing.T) {
	g := newTestGateway(t, Config{MaxBodyBytes: 1024}, nil)
	body := `{"email":"a@example.com","password":"` + strings.Repeat("x", 4096) + `"}`
	r := httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", io.NopCloser(strings.NewReader(body)))
	r.ContentLength = -1 // chunked
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = "192.0.2.10:4242"
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	env := wantError(t, w, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	if !strings.Contains(env.Error.Message, "1024 bytes") {
		t.Errorf("message %q does not name the limit", env.Error.Message)
	}
}

// After the one JSON value of a body only whitespace may follow.
func TestTrailingDataAfterTheBodyIsRefused(t *testing.T) {
	g := newTestGateway(t, Config{}, nil)
	for _, body := range []string{`{} trailing`, `{}}`, `{"email":"a@example.com"} {}`, `{} x`} {
		w := g.do(http.MethodPost, "/api/v1/auth/login", body, "Content-Type", "application/json")
		env := wantError(t, w, http.StatusBadRequest, "INVALID_ARGUMENT")
		if !strings.Contains(env.Error.Message, "body") {
			t.Errorf("%s: message %q does not name the body", body, env.Error.Message)
		}
	}
	// Whitespace after the value is fine: the request reaches the service.
	w := g.do(http.MethodPost, "/api/v1/auth/login", "{\"email\":\"a@example.com\",\"password\":\"pw\"} \n\t ", "Content-Type", "application/json")
	if strings.Contains(w.Body.String(), "after the JSON value") {
		t.Errorf("trailing whitespace refused: %d %s", w.Code, w.Body)
	}
}
