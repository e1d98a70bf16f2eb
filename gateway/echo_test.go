package gateway

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

// A 100 KB path id is not echoed whole: the 404 names the path, clipped with an ellipsis.
func TestALongPathIsNotEchoedWhole(t *testing.T) {
	g := newTestGateway(t, Config{}, nil)
	access, _ := g.auth.pair()
	id := strings.Repeat("x", 100<<10)
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/api/v1/no-such-thing/" + id, http.StatusNotFound, "NOT_FOUND"},
		{http.MethodPost, "/" + id, http.StatusNotFound, "NOT_FOUND"},
	} {
		w := g.do(c.method, c.path, "", "Authorization", "Bearer "+access)
		env := wantError(t, w, c.status, c.code)
		if w.Body.Len() > 2048 || !strings.Contains(env.Error.Message, "…") || !strings.Contains(env.Error.Message, "xxxxxxxx") {
			t.Errorf("%s %.40s…: %d-byte answer, message %.300q", c.method, c.path, w.Body.Len(), env.Error.Message)
		}
	}
}

// A service's message that repeats a 100 KB id reaches the client and the log clipped, with
// its words intact.
func TestAServiceMessageIsClipped(t *testing.T) {
	var logs bytes.Buffer
	handle := errorHandler(slog.New(slog.NewTextHandler(&logs, nil)))
	id := strings.Repeat("y", 100<<10)
	w := httptest.NewRecorder()
	handle(context.Background(), nil, nil, w, httptest.NewRequest("GET", "/x", nil), statusErr(apperr.NotFound("project %s not found", id)))
	env := wantError(t, w, http.StatusNotFound, "NOT_FOUND")
	if w.Body.Len() > 2048 || !strings.HasPrefix(env.Error.Message, "project yyyy") || !strings.HasSuffix(env.Error.Message, "… not found") {
		t.Errorf("%d-byte answer, message %.300q", w.Body.Len(), env.Error.Message)
	}
	handle(context.Background(), nil, nil, httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil), errors.New("boom "+id))
	if logs.Len() == 0 || logs.Len() > 2048 {
		t.Errorf("%d-byte log line: %.300s", logs.Len(), logs.String())
	}
}
