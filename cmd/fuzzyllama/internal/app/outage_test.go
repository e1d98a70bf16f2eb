package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/platform/logging/logtest"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
)

// TestDatabaseOutageIsHonestAndHeals: while PostgreSQL is down the services' gRPC health is
// NOT_SERVING, /readyz is 503, and a request that needs the database is 503 UNAVAILABLE with
// Retry-After — never 500 — with the outage logged once at WARN and nothing at ERROR. When
// PostgreSQL is back, the same process, not restarted, is SERVING, ready and answering again.
func TestDatabaseOutageIsHonestAndHeals(t *testing.T) {
	pg := dbtest.NewPrivatePostgres(t)
	a, logs := startAll(t, "DATABASE_URL", pg.URL)
	base := "http://" + a.HTTPAddr()
	register := func(email string) *http.Response {
		body := `{"email":"` + email + `","password":"correct horse battery staple","name":"Ada"}`
		resp, err := http.Post(base+"/api/v1/auth/register", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := register("before@example.com"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("register before the outage: %d", resp.StatusCode)
	}

	pg.Stop()
	waitFor(t, "the services' health to be NOT_SERVING", func() bool { return a.health() == healthpb.HealthCheckResponse_NOT_SERVING })
	waitFor(t, "/readyz to be 503", func() bool { return status(t, base+"/readyz") == http.StatusServiceUnavailable })
	for range 3 {
		resp := register("during@example.com")
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("register during the outage: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}

	pg.Start()
	waitFor(t, "the services' health to be SERVING", func() bool { return a.health() == healthpb.HealthCheckResponse_SERVING })
	waitFor(t, "/readyz to be 200", func() bool { return status(t, base+"/readyz") == http.StatusOK })
	if resp := register("after@example.com"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("register after the outage: %d", resp.StatusCode)
	}

	var warns, infos, errs int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l struct{ Level, Msg string }
		if json.Unmarshal([]byte(line), &l) != nil {
			continue
		}
		switch {
		case l.Level == "ERROR":
			errs++
			t.Errorf("logged at ERROR: %s", line)
		case l.Msg == "database unavailable":
			warns++
		case l.Msg == "database available again":
			infos++
		}
	}
	if warns != 1 || infos != 1 {
		t.Errorf("the database outage was logged %d times at WARN and its end %d times at INFO, want once each", warns, infos)
	}
}

// TestRedisOutageKeepsTheAPIUp: losing Redis takes neither readiness nor projects down: /readyz
// stays 200, projects are created and read, the outage is logged at WARN and its end at INFO,
// nothing at ERROR.
func TestRedisOutageKeepsTheAPIUp(t *testing.T) {
	r := redistest.NewPrivate(t)
	a, logs := startAll(t, "REDIS_URL", r.URL)
	base := "http://" + a.HTTPAddr()
	call := func(method, path, token, body string) (int, []byte) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := call("POST", "/api/v1/auth/register", "", `{"email":"ada@example.com","password":"correct horse battery staple","name":"Ada"}`)
	var session struct{ Data struct{ AccessToken string } }
	if err := json.Unmarshal(body, &session); code != http.StatusCreated || err != nil {
		t.Fatalf("register: %d %s", code, body)
	}
	tok := session.Data.AccessToken

	r.Stop()
	waitFor(t, "the Redis outage to be noticed", func() bool { return strings.Contains(logs.String(), `"msg":"redis unavailable"`) })
	if code := status(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz while Redis is down: %d, want 200", code)
	}
	for i := range 3 {
		code, body := call("POST", "/api/v1/projects", tok, `{"name":"Notes `+strconv.Itoa(i)+`","type":"PROJECT_TYPE_TRADITIONAL"}`)
		var created struct {
			Data struct{ Project struct{ ID string } }
		}
		if err := json.Unmarshal(body, &created); code != http.StatusCreated || err != nil {
			t.Fatalf("create a project while Redis is down: %d %s", code, body)
		}
		if created.Data.Project.ID == "" {
			t.Fatalf("created project without an id: %s", body)
		}
		if code, body := call("GET", "/api/v1/projects/"+created.Data.Project.ID, tok, ""); code != http.StatusOK {
			t.Fatalf("read a project while Redis is down: %d %s", code, body)
		}
	}

	r.Start()
	waitFor(t, "Redis's return to be noticed", func() bool { return strings.Contains(logs.String(), `"msg":"redis available again"`) })
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("logged at ERROR: %s", line)
		}
	}
}

// health is the health status of every gRPC server of the process, when they agree.
func (a *App) health() healthpb.HealthCheckResponse_ServingStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	seen := healthpb.HealthCheckResponse_UNKNOWN
	for i, s := range a.servers {
		resp, err := s.Health.Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err != nil || (i > 0 && resp.GetStatus() != seen) {
			return healthpb.HealthCheckResponse_UNKNOWN
		}
		seen = resp.GetStatus()
	}
	return seen
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitFor polls cond until it holds, for at most 30 s (generous: the probes check every second).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startAll starts every part in this process with one setting changed (where its database or
// Redis is), and closes it when the test ends.
func startAll(t *testing.T, key, value string) (*App, *logtest.Buffer) {
	t.Helper()
	cfg := Config{Target: "all"}
	env := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "SHUTDOWN_DRAIN_TIME": "0s", "DATA_DIR": t.TempDir(), key: value}
	if err := NewConfigSet(&cfg).Parse(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	a, err := Start(context.Background(), cfg, logs)
	if err != nil {
		t.Fatalf("start: %v\n%s", err, logs)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	return a, logs
}
