package faults_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// restartOutage is how long the service stays down: grpc-go's default backoff (1 s growing
// 1.6 times per attempt) would make the gateway's next try come seconds after the return.
const restartOutage = 10 * time.Second

// TestGatewayReachesARestartedService: the projects service is killed and, 10 s later,
// restarted on its port. Meanwhile a request that needs it is a 503 UNAVAILABLE with
// Retry-After (never a 500); once the service is ready the gateway reaches it within a second.
func TestGatewayReachesARestartedService(t *testing.T) {
	t.Parallel()
	d := deploy(t)
	tok := d.api.register(t, "owner@example.com").AccessToken
	probe := "/api/v1/projects/" + d.api.createProject(t, tok, "Recipes")

	mark := d.markLogs()
	d.procs["projects"].kill(t)
	answers := map[string]int{} // what the gateway said meanwhile, counted
	for down := time.Now(); time.Since(down) < restartOutage; time.Sleep(100 * time.Millisecond) {
		answers[describe(d.api.call("GET", probe, tok, nil))]++
	}
	reconnect := d.restart(t, "projects", tok, probe)
	t.Logf("FAULT service_restart outage_ms=%d gateway_reconnect_ms=%d answers_during=%v", restartOutage.Milliseconds(), reconnect.Milliseconds(), answers)
	t.Logf("logged since the outage began: %s", strings.Join(d.problemsSince(mark), "; "))
	d.loggedOncePerOutage(t, mark, 1)
	if reconnect > time.Second {
		t.Errorf("the gateway reached the restarted projects service %v after it was ready, want ≤ 1 s", reconnect)
	}
	for _, a := range slices.Sorted(maps.Keys(answers)) {
		if a != unavailable {
			t.Errorf("while the projects service was down, %d answers were %s, want %s", answers[a], a, unavailable)
		}
	}
}

// unavailable is how describe puts the answer to a request whose dependency is down.
const unavailable = "503 UNAVAILABLE with Retry-After"

// describe puts an answer in the terms the outage assertions compare.
func describe(r reply, err error) string {
	if err != nil {
		return "transport error " + err.Error()
	}
	retry := "without Retry-After"
	if r.header.Get("Retry-After") != "" {
		retry = "with Retry-After"
	}
	if r.status >= 500 {
		return fmt.Sprintf("%d %s %s", r.status, r.code(), retry)
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", r.status, r.code()))
}
