package gateway

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestOneAccessLogLinePerRequest: each request at the edge is one INFO line with its route
// template and final status (a 503 included); probes and scrapes are not logged.
func TestOneAccessLogLinePerRequest(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") { // the ops paths keep their own route, as in the root mux
			setRoute(r.Context(), "/api/v1/projects/{id}")
		}
		if strings.HasSuffix(r.URL.Path, "/down") {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("{}"))
	})
	h := newHTTPMetrics(prometheus.NewRegistry()).middleware(log)(app)
	for _, path := range []string{"/api/v1/projects/p1", "/api/v1/projects/down", "/readyz", "/healthz", "/metrics"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}

	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		got = append(got, m)
	}
	if len(got) != 2 {
		t.Fatalf("want 2 access-log lines (probes and scrapes unlogged), got %d:\n%s", len(got), logs.String())
	}
	for i, status := range []float64{200, 503} {
		if got[i]["msg"] != "http request" || got[i]["level"] != "INFO" || got[i]["status"] != status ||
			got[i]["route"] != "/api/v1/projects/{id}" || got[i]["method"] != "GET" {
			t.Errorf("line %d = %v", i, got[i])
		}
	}
}
