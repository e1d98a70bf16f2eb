package middleware

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBodyLimit(t *testing.T) {
	const limit = 10
	tests := []struct {
		name       string
		body       string
		chunked    bool // no Content-Length, as with Transfer-Encoding: chunked
		wantStatus int
		wantCalled bool
	}{
		{"small body", "hello", false, http.StatusOK, true},
		{"body of exactly the limit", strings.Repeat("x", limit), false, http.StatusOK, true},
		{"declared too large", strings.Repeat("x", limit+1), false, http.StatusRequestEntityTooLarge, false},
		{"small chunked body", "hello", true, http.StatusOK, true},
		{"chunked body over the limit", strings.Repeat("x", 1000), true, http.StatusRequestEntityTooLarge, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			// Like the gateway: read the body; if that fails, answer 413 when BodyTooLarge says
			// so, else 400.
			h := BodyLimit(limit)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				b, err := io.ReadAll(r.Body)
				if err != nil {
					if mbe := (*http.MaxBytesError)(nil); !errors.As(err, &mbe) || mbe.Limit != limit {
						t.Errorf("read error = %v, want *http.MaxBytesError with limit %d", err, limit)
					}
					if max, ok := BodyTooLarge(r); ok {
						WriteTooLarge(w, r, max)
						return
					}
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				if string(b) != tt.body {
					t.Errorf("handler read %q, want %q", b, tt.body)
				}
				w.WriteHeader(http.StatusOK)
			}))
			req := httptest.NewRequest(http.MethodPost, "/api/v1/projects", strings.NewReader(tt.body))
			if tt.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if called != tt.wantCalled {
				t.Errorf("handler called = %v, want %v", called, tt.wantCalled)
			}
			if rec.Code == http.StatusRequestEntityTooLarge {
				e := decodeError(t, rec)
				if e.Code != "PAYLOAD_TOO_LARGE" || !strings.Contains(e.Message, "10 bytes") {
					t.Errorf("error = %s %q, want PAYLOAD_TOO_LARGE naming the 10-byte limit", e.Code, e.Message)
				}
			}
		})
	}
}
