package faults_test

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPostgresOutage: PostgreSQL is stopped (fast shutdown: every session is terminated).
// Requests that need it answer 503 UNAVAILABLE with Retry-After, never 500; the gateway's and
// each service's /readyz turn 503. When PostgreSQL is back the same processes, none restarted,
// answer again and every /readyz is 200.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	d := deploy(t)
	tok := d.api.register(t, "owner@example.com").AccessToken
	pid := d.api.createProject(t, tok, "Recipes")
	calls := func(round int) []apiCall {
		return append([]apiCall{
			{"GET", "/api/v1/auth/me", "/auth/me", nil},
			{"POST", "/api/v1/auth/login", "/auth/login", map[string]string{"email": "owner@example.com", "password": password}},
			{"GET", "/api/v1/projects/" + pid + "/runs", "/projects/{id}/runs", nil},
		}, projectAndDocumentCalls(pid, round)...)
	}

	mark := d.markLogs()
	d.pg.Stop()
	down := time.Now()
	notReady := d.waitReadiness(t, http.StatusServiceUnavailable, 15*time.Second)
	readyz503 := time.Since(down)
	answers := map[string][]string{} // route → what it answered
	for _, c := range calls(0) {
		a := describe(d.api.call(c.method, c.path, tok, c.body))
		answers[a] = append(answers[a], c.method+" "+c.route)
	}
	for _, a := range slices.Sorted(maps.Keys(answers)) {
		if a != unavailable {
			t.Errorf("while PostgreSQL was down, %v answered %s, want %s", answers[a], a, unavailable)
		}
	}
	for _, target := range targets {
		if !notReady[target] {
			t.Errorf("while PostgreSQL was down, the %s process's /readyz stayed 200 (15 s)", target)
		}
	}

	d.pg.Start()
	back := time.Now()
	ready := d.waitReadiness(t, http.StatusOK, 60*time.Second)
	readyz200 := time.Since(back)
	var failing []string
	for round, deadline := 1, time.Now().Add(30*time.Second); ; round++ {
		failing = failing[:0]
		for _, c := range calls(round) {
			if r, err := d.api.call(c.method, c.path, tok, c.body); err != nil || r.status >= 300 {
				failing = append(failing, c.method+" "+c.route+": "+describe(r, err))
			}
		}
		if len(failing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	recovered := time.Since(back)
	t.Logf("FAULT postgres_outage readyz_503_after_ms=%d readyz_200_after_return_ms=%d requests_2xx_after_return_ms=%d answers_during=%v",
		readyz503.Milliseconds(), readyz200.Milliseconds(), recovered.Milliseconds(), slices.Sorted(maps.Keys(answers)))
	t.Logf("logged since the outage began: %s", strings.Join(d.problemsSince(mark), "; "))
	d.loggedOncePerOutage(t, mark, 1)
	for _, target := range targets {
		if !ready[target] {
			t.Errorf("the %s process's /readyz was not 200 again 60 s after PostgreSQL returned", target)
		}
	}
	for _, f := range failing {
		t.Errorf("30 s after PostgreSQL returned, without a restart: %s", f)
	}
}

// waitReadiness polls every process's /readyz until each has answered status (or within has
// passed) and says which did.
func (d *deployment) waitReadiness(t *testing.T, status int, within time.Duration) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for deadline := time.Now().Add(within); len(seen) < len(targets) && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, target := range targets {
			if seen[target] {
				continue
			}
			r, err := newClient("http://"+d.procs[target].httpAddr).call("GET", "/readyz", "", nil)
			if err == nil && r.status == status {
				seen[target] = true
			}
		}
	}
	return seen
}
