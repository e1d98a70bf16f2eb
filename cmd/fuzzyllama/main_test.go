package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/cmd/fuzzyllama/internal/app"
)

// TestBannerSaysWhatThePortServes: the gateway (alone or in "all") announces the API, docs and
// console; a lone service announces only health and metrics, which is all its HTTP port serves.
// Every banner keeps the "is up: http://<addr>" prefix that web/test/server.js parses.
func TestBannerSaysWhatThePortServes(t *testing.T) {
	upRe := regexp.MustCompile(`is up: (http://\S+)`)
	for _, target := range app.Targets {
		line := banner(target, "127.0.0.1:8080")
		if m := upRe.FindStringSubmatch(line); m == nil || m[1] != "http://127.0.0.1:8080" {
			t.Errorf("%s: banner %q does not carry the parsed address", target, line)
		}
		gateway := target == "all" || target == "gateway"
		if got := strings.Contains(line, "/api/v1"); got != gateway {
			t.Errorf("%s: banner %q mentions the API: %v, want %v", target, line, got, gateway)
		}
		if gateway {
			for _, want := range []string{"/api/docs", "console"} {
				if !strings.Contains(line, want) {
					t.Errorf("%s: banner %q lacks %q", target, line, want)
				}
			}
		} else {
			for _, want := range []string{"/healthz", "/readyz", "/metrics"} {
				if !strings.Contains(line, want) {
					t.Errorf("%s: banner %q lacks %q", target, line, want)
				}
			}
		}
	}
}
