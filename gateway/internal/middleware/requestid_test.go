package middleware

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/requestid"
)

func TestRequestID(t *testing.T) {
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name     string
		incoming string // "" = no header
		adopt    bool
	}{
		{"valid id is adopted", "req-42_a.b:c", true},
		{"missing id is generated", "", false},
		{"id with a space is replaced", "abc def", false},
		{"log injection is replaced", "abc\nlevel=ERROR msg=forged", false},
		{"overlong id is replaced", strings.Repeat("a", 129), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inContext, inHeaderDuringHandler string
			h := RequestID()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inContext = requestid.FromContext(r.Context())
				inHeaderDuringHandler = w.Header().Get(requestid.Header)
				http.Error(w, "boom", http.StatusInternalServerError)
			}))
			req := httptest.NewRequest(http.MethodGet, "/api/v1/projects", nil)
			if tt.incoming != "" {
				req.Header.Set(requestid.Header, tt.incoming)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			got := rec.Header().Get(requestid.Header)
			if tt.adopt && got != tt.incoming {
				t.Errorf("response id = %q, want the caller's %q", got, tt.incoming)
			}
			if !tt.adopt && !generated.MatchString(got) {
				t.Errorf("response id = %q, want a fresh 32-hex-digit id", got)
			}
			if inContext != got || inHeaderDuringHandler != got {
				t.Errorf("context id %q, header during handler %q, response id %q: want all equal",
					inContext, inHeaderDuringHandler, got)
			}
		})
	}
}

func TestRequestIDIsFreshPerRequest(t *testing.T) {
	h := RequestID()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	seen := map[string]bool{}
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		id := rec.Header().Get(requestid.Header)
		if seen[id] {
			t.Fatalf("id %q given to two requests", id)
		}
		seen[id] = true
	}
}
