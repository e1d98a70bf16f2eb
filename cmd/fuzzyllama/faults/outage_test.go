package faults_test

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The outages the issue asks the runs to live through: long enough to exhaust AGENT_MAX_ATTEMPTS
// many times over if our own unavailability were spent as provider attempts.
const longOutage = 30 * time.Second

// inFlightRuns is how many runs are in the middle of their work when a dependency goes away.
const inFlightRuns = 3

// TestRedisOutageWithRunsInFlight: Redis is gone for 30 s (killed; it returns empty) while three
// runs stream their answers. Reading and writing projects and documents keeps working meanwhile
// (losing Redis must not take the API down), and after Redis is back every run succeeds and
// every gate goes to review: no run failed, no gate was blocked.
func TestRedisOutageWithRunsInFlight(t *testing.T) {
	t.Parallel()
	d := deploy(t, slowAnswer(8))
	owner := d.api.register(t, "owner@example.com")
	tok := owner.AccessToken
	other := d.api.login(t, "owner@example.com") // a second session, ended during the outage
	notes := d.api.createProject(t, tok, "Notes")
	started := d.startWork(t, tok, inFlightRuns)

	mark := d.markLogs()
	d.redis.Stop()
	down := time.Now()
	endedWithinMs := sessionsWithoutRedis(t, d, owner, other, "/api/v1/projects/"+notes)
	failed := map[string]int{} // each failed call's route and answer, counted
	calls := 0
	for round := 0; time.Since(down) < longOutage; round++ {
		for _, c := range projectAndDocumentCalls(notes, round) {
			calls++
			r, err := d.api.call(c.method, c.path, tok, c.body)
			switch {
			case err != nil:
				failed[fmt.Sprintf("%s %s: %v", c.method, c.route, err)]++
			case r.status >= 300:
				failed[fmt.Sprintf("%s %s: %d %s", c.method, c.route, r.status, r.code())]++
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	d.redis.Start()
	back := time.Now()
	last := d.everyRunSucceeds(t, tok, started, 2*time.Minute)
	t.Logf("FAULT redis_outage outage_ms=%d runs=%d vendor_calls=%d rest_calls_during=%d rest_failed_during=%d logout_refused_within_ms=%d runs_done_after_return_ms=%d",
		back.Sub(down).Milliseconds(), len(started), d.vendor.Calls(), calls, sum(failed), endedWithinMs, sinceOrZero(last, back))
	d.paidOnce(t, started)
	if r, err := d.api.call("GET", "/api/v1/projects/"+notes, other.AccessToken, nil); err != nil || r.status != http.StatusUnauthorized {
		t.Errorf("after Redis returned, the token of the session ended during the outage got %s, want 401", describe(r, err))
	}
	t.Logf("logged since the outage began: %s", strings.Join(d.problemsSince(mark), "; "))
	d.loggedOncePerOutage(t, mark, len(started))
	for _, k := range slices.Sorted(maps.Keys(failed)) {
		t.Errorf("during the Redis outage: %s (%d times)", k, failed[k])
	}
}

// sessionsWithoutRedis: login and refresh work or answer 503 with Retry-After, never 500; a
// logout works, and from then on its access token is refused (within 5 s: the processes reload
// the durable revocation list every 2 s while Redis is away). It returns how long that took.
func sessionsWithoutRedis(t *testing.T, d *deployment, owner, other session, probe string) int64 {
	t.Helper()
	for _, c := range []apiCall{
		{"POST", "/api/v1/auth/login", "/auth/login", map[string]string{"email": "owner@example.com", "password": password}},
		{"POST", "/api/v1/auth/refresh", "/auth/refresh", map[string]string{"refreshToken": owner.RefreshToken}},
	} {
		a := describe(d.api.call(c.method, c.path, "", c.body))
		t.Logf("%s %s without Redis: %s", c.method, c.route, a)
		if !strings.HasPrefix(a, "2") && a != unavailable {
			t.Errorf("%s %s without Redis: %s, want 2xx or %s", c.method, c.route, a, unavailable)
		}
	}
	ended := time.Now()
	d.api.must(t, http.StatusOK, "POST", "/api/v1/auth/logout", other.AccessToken, map[string]string{}, nil)
	for {
		r, err := d.api.call("GET", probe, other.AccessToken, nil)
		if err == nil && r.status == http.StatusUnauthorized {
			return time.Since(ended).Milliseconds()
		}
		if time.Since(ended) > 5*time.Second {
			t.Errorf("5 s after a logout without Redis, its token still gets %s, want 401", describe(r, err))
			return 0
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProjectsOutageWithRunsInFlight: the projects service is killed and restarted on its port
// 30 s later while three runs stream their answers. Every run succeeds after, every gate goes to
// review; and the gateway reaches the restarted service within a second of its being ready.
func TestProjectsOutageWithRunsInFlight(t *testing.T) {
	t.Parallel()
	d := deploy(t, slowAnswer(8))
	tok := d.api.register(t, "owner@example.com").AccessToken
	started := d.startWork(t, tok, inFlightRuns)

	mark := d.markLogs()
	d.procs["projects"].kill(t)
	down := time.Now()
	time.Sleep(longOutage)
	reconnect := d.restart(t, "projects", tok, "/api/v1/projects/"+started[0].project)
	back := time.Now()
	last := d.everyRunSucceeds(t, tok, started, 2*time.Minute)
	t.Logf("FAULT projects_outage outage_ms=%d runs=%d vendor_calls=%d gateway_reconnect_ms=%d runs_done_after_return_ms=%d",
		back.Sub(down).Milliseconds(), len(started), d.vendor.Calls(), reconnect.Milliseconds(), sinceOrZero(last, back))
	d.paidOnce(t, started)
	t.Logf("logged since the outage began: %s", strings.Join(d.problemsSince(mark), "; "))
	d.loggedOncePerOutage(t, mark, len(started))
	if reconnect > time.Second {
		t.Errorf("the gateway reached the projects service %v after it was ready (after a %v outage), want ≤ 1 s", reconnect, longOutage)
	}
}

// paidOnce checks that our own outage cost no provider call: each run's answer was streamed
// once, and kept.
func (d *deployment) paidOnce(t *testing.T, started []work) {
	t.Helper()
	if n := d.vendor.Calls(); n != len(started) {
		t.Errorf("the vendor was called %d times for %d runs: an outage of our own made runs ask the model again", n, len(started))
	}
}

// apiCall is one request of the outage traffic.
type apiCall struct {
	method, path, route string
	body                any
}

// projectAndDocumentCalls are the reads and writes of projects and documents a person makes:
// round numbers the names so that every write is a new one.
func projectAndDocumentCalls(pid string, round int) []apiCall {
	base := "/api/v1/projects/" + pid
	return []apiCall{
		{"GET", "/api/v1/projects", "/projects", nil},
		{"GET", base, "/projects/{id}", nil},
		{"POST", "/api/v1/projects", "/projects", map[string]string{"name": fmt.Sprintf("During the outage %d", round),
			"description": "written while a dependency is down", "type": "PROJECT_TYPE_TRADITIONAL"}},
		{"PATCH", base, "/projects/{id}", map[string]string{"description": fmt.Sprintf("revised %d", round)}},
		{"GET", base + "/documents", "/projects/{id}/documents", nil},
		{"POST", base + "/documents", "/projects/{id}/documents", map[string]any{"document": map[string]any{
			"gate": 1, "type": "DOCUMENT_TYPE_INTAKE", "title": fmt.Sprintf("Notes %d", round), "content": "# Notes\n"}}},
	}
}

// restart starts a killed process again and measures how long after it is ready (its /readyz
// answers 200) the gateway reaches it: probe is a GET through the gateway that needs it, tried
// every 20 ms. A gateway that gets there first counts as 0.
func (d *deployment) restart(t *testing.T, target, token, probe string) time.Duration {
	t.Helper()
	p := d.procs[target]
	self := newClient("http://" + p.httpAddr)
	var ready, reached time.Time
	done := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(done)
		for {
			now := time.Now()
			if ready.IsZero() {
				if r, err := self.call("GET", "/readyz", "", nil); err == nil && r.status == http.StatusOK {
					ready = now
				}
			}
			if reached.IsZero() {
				if r, err := d.api.call("GET", probe, token, nil); err == nil && r.status == http.StatusOK {
					reached = now
				}
			}
			if !ready.IsZero() && !reached.IsZero() {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	p.start(t)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		close(stop)
		<-done
		t.Fatalf("%s restarted: ready at %v, reached through the gateway at %v (zero: not within 30 s)", target, ready, reached)
	}
	return max(0, reached.Sub(ready))
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// sinceOrZero is t − from in milliseconds, or 0 when t never happened.
func sinceOrZero(t, from time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Sub(from).Milliseconds()
}
