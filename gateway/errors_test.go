package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

// TestErrorsBecomeTheEnvelope: the status a service returns reaches the client as the envelope,
// with the HTTP status of the code, the field list, the reason and Retry-After; internal and
// connection errors are masked, and an outage is 503 with Retry-After, never 500.
func TestErrorsBecomeTheEnvelope(t *testing.T) {
	handle := errorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	invalid := apperr.Violations{{Field: "email", Description: "is required"}, {Field: "password", Description: "too short"}}
	limited := apperr.ResourceExhausted(1500*time.Millisecond, "slow down").WithReason("LOGIN_TEMPORARILY_LOCKED")
	dbDown := apperr.Unavailable("the database is unavailable; try again shortly")
	dbDown.RetryAfter = 5 * time.Second
	cases := []struct {
		name       string
		err        error
		status     int
		code       string
		message    string
		fields     int
		retryAfter string
		metadata   map[string]string
	}{
		{"validation", statusErr(invalid.Err()), 400, "INVALID_ARGUMENT", "invalid request: check email, password", 2, "", nil},
		{"rate limited", statusErr(limited), 429, "RESOURCE_EXHAUSTED", "slow down", 0, "2", nil},
		{"not found", statusErr(apperr.NotFound("project p not found")), 404, "NOT_FOUND", "project p not found", 0, "", nil},
		{"conflict", statusErr(apperr.Aborted("stale").WithReason("STALE_VERSION").WithMetadata("currentVersion", "5")), 409, "ABORTED", "stale", 0, "",
			map[string]string{"currentVersion": "5"}},
		{"internal is masked", errors.New("pq: password authentication failed for user x"), 500, "INTERNAL", "internal error", 0, "", nil},
		// A backend that cannot be reached: its address stays inside, the client learns when to retry.
		{"backend down", status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp 10.0.3.7:9090: connect: connection refused\""),
			503, "UNAVAILABLE", "service temporarily unavailable; try again shortly", 0, "2", nil},
		// A backend whose database is down says when to retry (grpcx's mapping), and is believed.
		{"database down", statusErr(dbDown), 503, "UNAVAILABLE", "service temporarily unavailable; try again shortly", 0, "5", nil},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		handle(context.Background(), nil, nil, w, httptest.NewRequest("GET", "/x", nil), c.err)
		var env envelope.Envelope
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if w.Code != c.status || env.Success || env.Error.Code != c.code || env.Error.Message != c.message {
			t.Errorf("%s: %d %s", c.name, w.Code, w.Body)
		}
		if got := 0; env.Error.Details != nil {
			got = len(env.Error.Details.Fields)
			if got != c.fields {
				t.Errorf("%s: %d fields", c.name, got)
			}
		} else if c.fields > 0 {
			t.Errorf("%s: no details", c.name)
		}
		if c.metadata != nil && (env.Error.Details == nil || !maps.Equal(env.Error.Details.Metadata, c.metadata)) {
			t.Errorf("%s: details %+v, want metadata %v", c.name, env.Error.Details, c.metadata)
		}
		if w.Header().Get("Retry-After") != c.retryAfter {
			t.Errorf("%s: Retry-After %q", c.name, w.Header().Get("Retry-After"))
		}
	}
}

func statusErr(err error) error {
	st, _ := apperr.ToStatus(err)
	return st.Err()
}
