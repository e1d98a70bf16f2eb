package middleware

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
)

// decodeError returns the error of the envelope in rec, failing the test if rec does not hold
// an error envelope.
func decodeError(t *testing.T, rec *httptest.ResponseRecorder) *envelope.Error {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
	var env envelope.Envelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("body is not an envelope: %v: %s", err, rec.Body)
	}
	if env.Success || env.Error == nil {
		t.Fatalf("envelope is not an error: %s", rec.Body)
	}
	return env.Error
}

// countingHandler answers 200 and counts its calls.
func countingHandler(calls *int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*calls++
		w.WriteHeader(http.StatusOK)
	})
}
