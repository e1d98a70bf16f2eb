package provider_test

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"7", 7 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"1.5", 1500 * time.Millisecond},
		{"-3", 0},
		{"NaN", 0},
		{"Inf", 0},
		{"soon", 0},
		{"1e300", time.Duration(math.MaxInt64)},
		{"Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second}, // IMF-fixdate
		{"Saturday, 01-Mar-25 12:01:00 GMT", time.Minute},   // RFC 850
		{"Sat Mar  1 12:00:05 2025", 5 * time.Second},       // ANSI C asctime
		{"Sat, 01 Mar 2025 11:59:00 GMT", 0},                // in the past
		{"Sat, 01 Mar 2025 12:00:00 GMT", 0},                // now
		{"Sat, 01 Mar 2025 12:00:30 +0100", 0},              // not an HTTP-date
	} {
		if got := provider.ParseRetryAfter(tc.header, now); got != tc.want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", tc.header, got, tc.want)
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"none", http.Header{}, 0},
		{"seconds", http.Header{"Retry-After": {"4"}}, 4 * time.Second},
		{"milliseconds win", http.Header{"Retry-After": {"4"}, "Retry-After-Ms": {"250.5"}}, 250500 * time.Microsecond},
		{"bad milliseconds fall back", http.Header{"Retry-After": {"4"}, "Retry-After-Ms": {"x"}}, 4 * time.Second},
		{"zero milliseconds fall back", http.Header{"Retry-After": {"4"}, "Retry-After-Ms": {"0"}}, 4 * time.Second},
	} {
		if got := provider.RetryAfterHeader(tc.header, now); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}
