package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const appOrigin = "https://app.example.com"

func TestCORS(t *testing.T) {
	preflight := func(origin, method, headers string) *http.Request {
		r := httptest.NewRequest(http.MethodOptions, "/api/v1/projects", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", method)
		if headers != "" {
			r.Header.Set("Access-Control-Request-Headers", headers)
		}
		return r
	}
	simple := func(origin string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/projects", nil)
		r.Header.Set("Origin", origin)
		return r
	}
	tests := []struct {
		name        string
		allowed     []string
		req         *http.Request
		wantStatus  int
		wantHandler bool
		wantOrigin  string            // Access-Control-Allow-Origin; "" = absent
		wantHeaders map[string]string // further response headers, exact
	}{
		{
			name: "allowed origin", allowed: []string{appOrigin}, req: simple(appOrigin),
			wantStatus: http.StatusOK, wantHandler: true, wantOrigin: appOrigin,
			wantHeaders: map[string]string{
				"Access-Control-Expose-Headers":    "X-Request-Id, Retry-After, Ratelimit-Limit, Ratelimit-Remaining, Ratelimit-Reset",
				"Access-Control-Allow-Credentials": "",
				"Vary":                             "Origin",
			},
		},
		{
			name: "other origin", allowed: []string{appOrigin}, req: simple("https://evil.example"),
			wantStatus: http.StatusOK, wantHandler: true,
		},
		{
			name: "origin that only starts like an allowed one", allowed: []string{appOrigin},
			req: simple(appOrigin + ".evil.example"), wantStatus: http.StatusOK, wantHandler: true,
		},
		{
			name: "allowed host over another scheme", allowed: []string{appOrigin},
			req: simple("http://app.example.com"), wantStatus: http.StatusOK, wantHandler: true,
		},
		{
			name: "a star is an origin, not a wildcard", allowed: []string{"*"},
			req: simple("https://evil.example"), wantStatus: http.StatusOK, wantHandler: true,
		},
		{
			name: "preflight from allowed origin", allowed: []string{"https://other.example", appOrigin},
			req:        preflight(appOrigin, http.MethodDelete, "authorization, content-type, x-request-id"),
			wantStatus: http.StatusNoContent, wantOrigin: appOrigin,
			wantHeaders: map[string]string{
				"Access-Control-Allow-Methods": "DELETE",
				"Access-Control-Allow-Headers": "authorization, content-type, x-request-id",
				"Access-Control-Max-Age":       "600",
			},
		},
		{
			// A browser session's auth calls (the gateway's session_cookie.go).
			name: "preflight for the session header from allowed origin", allowed: []string{appOrigin},
			req:        preflight(appOrigin, http.MethodPost, "content-type, x-fuzzyllama-session"),
			wantStatus: http.StatusNoContent, wantOrigin: appOrigin,
			wantHeaders: map[string]string{
				"Access-Control-Allow-Headers":     "content-type, x-fuzzyllama-session",
				"Access-Control-Allow-Credentials": "",
			},
		},
		{
			name: "preflight for the session header from other origin", allowed: []string{appOrigin},
			req:         preflight("https://evil.example", http.MethodPost, "content-type, x-fuzzyllama-session"),
			wantStatus:  http.StatusNoContent,
			wantHeaders: map[string]string{"Access-Control-Allow-Headers": ""},
		},
		{
			name: "preflight from other origin", allowed: []string{appOrigin},
			req:        preflight("https://evil.example", http.MethodPost, ""),
			wantStatus: http.StatusNoContent,
			wantHeaders: map[string]string{
				"Access-Control-Allow-Methods": "",
			},
		},
		{
			name: "preflight for a header not allowed", allowed: []string{appOrigin},
			req:        preflight(appOrigin, http.MethodPost, "x-evil"),
			wantStatus: http.StatusNoContent,
		},
		{
			name: "preflight for a method not allowed", allowed: []string{appOrigin},
			req:        preflight(appOrigin, "TRACE", ""),
			wantStatus: http.StatusNoContent,
		},
		{
			name: "no origins: no CORS at all", allowed: nil, req: simple(appOrigin),
			wantStatus: http.StatusOK, wantHandler: true,
			wantHeaders: map[string]string{"Access-Control-Expose-Headers": "", "Vary": ""},
		},
		{
			name: "no origins: preflight reaches the handler", allowed: []string{}, req: preflight(appOrigin, http.MethodPost, ""),
			wantStatus: http.StatusOK, wantHandler: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			rec := httptest.NewRecorder()
			CORS(tt.allowed)(countingHandler(&calls)).ServeHTTP(rec, tt.req)

			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if called := calls > 0; called != tt.wantHandler {
				t.Errorf("handler called = %v, want %v", called, tt.wantHandler)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantOrigin)
			}
			for name, want := range tt.wantHeaders {
				if got := strings.Join(rec.Header().Values(name), ", "); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}
