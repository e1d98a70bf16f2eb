package faults_test

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/providertest"
)

// deployment is the production shape of one scenario: five processes of the binary on their own
// PostgreSQL cluster and Redis, the agents talking to a fake Anthropic API.
type deployment struct {
	pg     *dbtest.PrivatePostgres
	redis  *redistest.PrivateRedis
	vendor *providertest.Server
	procs  map[string]*process // by target
	api    *client             // the gateway
}

// targets in start order: the others fetch the auth service's keys, the gateway calls them all.
var targets = []string{"auth", "projects", "documents", "agents", "gateway"}

// deploy starts a deployment whose fake vendor answers with scripts (see providertest: the last
// one repeats; none: a short greeting).
func deploy(t *testing.T, scripts ...providertest.Script) *deployment {
	t.Helper()
	d := &deployment{
		pg:     dbtest.NewPrivatePostgres(t),
		redis:  redistest.NewPrivate(t),
		vendor: providertest.NewAnthropic(t, scripts...),
		procs:  map[string]*process{},
	}
	grpc := map[string]string{}
	for _, target := range targets[:4] {
		grpc[target] = freeAddr(t)
	}
	shared := map[string]string{
		"FUZZYLLAMA_ENV":      "production",
		"DATABASE_URL":        d.pg.URL,
		"REDIS_URL":           d.redis.URL,
		"SERVICE_CREDENTIAL":  seed(t) + seed(t),
		"FRONTEND_URL":        "https://app.example.com",
		"DATA_DIR":            t.TempDir(),
		"SHUTDOWN_DRAIN_TIME": "0s",
		"SANDBOX_RUNNER":      "off", // no scenario reaches code
		// The scenarios poll the API every few milliseconds, far above a person's rate.
		"RATE_LIMIT_PER_USER_PER_MINUTE":    "1000000",
		"RATE_LIMIT_PER_IP_PER_MINUTE":      "1000000",
		"RATE_LIMIT_AUTH_PER_IP_PER_MINUTE": "1000",
		"AUTH_SERVICE_ADDR":                 grpc["auth"],
		"PROJECTS_SERVICE_ADDR":             grpc["projects"],
		"DOCUMENTS_SERVICE_ADDR":            grpc["documents"],
		"AGENTS_SERVICE_ADDR":               grpc["agents"],
		"ANTHROPIC_API_KEY":                 "sk-ant-fault-suite",
		"ANTHROPIC_BASE_URL":                d.vendor.URL,
	}
	signingKey := seed(t)
	for _, target := range targets {
		vars := maps.Clone(shared)
		vars["HTTP_ADDR"] = freeAddr(t)
		if target != "gateway" {
			vars[strings.ToUpper(target)+"_GRPC_ADDR"] = grpc[target]
		}
		if target == "auth" { // the others verify with its published keys
			vars["AUTH_SIGNING_KEY"] = signingKey
		}
		p := &process{target: target, httpAddr: vars["HTTP_ADDR"], logs: &logTail{}}
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			p.env = append(p.env, k+"="+vars[k])
		}
		d.procs[target] = p
		t.Cleanup(p.stop)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, target := range targets {
				t.Logf("--- last lines of %s ---\n%s", target, d.procs[target].logs)
			}
		}
	})
	for _, target := range targets {
		d.procs[target].start(t)
	}
	// Traffic comes once every process is ready, as behind a load balancer.
	if ready := d.waitReadiness(t, http.StatusOK, 30*time.Second); len(ready) < len(targets) {
		t.Fatalf("30 s after they started, only %v of the processes are ready", slices.Sorted(maps.Keys(ready)))
	}
	d.api = newClient("http://" + d.procs["gateway"].httpAddr)
	return d
}

// seed is a random base64 Ed25519 seed (also a fine random secret).
func seed(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// slowAnswer streams a valid G1 intake answer over the given seconds, so that a run is in the
// middle of its work when a fault is injected.
func slowAnswer(seconds int) providertest.Script {
	const chunks = 16
	return providertest.Script{Text: intakeAnswer(), Chunks: chunks, Delay: time.Duration(seconds) * time.Second / chunks,
		InputTokens: 500, OutputTokens: 100}
}

// intakeAnswer follows the output contract for the G1 intake.
func intakeAnswer() string {
	return output.Format(output.Output{
		Documents: []output.Document{{Type: "intake", Title: "Project Intake", Content: "# Project Intake\n\nRecipes for home cooks.\n"}},
		Handoff:   output.Handoff{Deliverables: []string{"intake"}, NextRoles: []string{"product_manager"}, Notes: "scope agreed"},
	})
}

// work is one project whose G1 intake run was started.
type work struct {
	project, run string
}

// startWork creates n projects and starts each one's work, then waits until every run is
// streaming its answer from the vendor.
func (d *deployment) startWork(t *testing.T, token string, n int) []work {
	t.Helper()
	var started []work
	for i := range n {
		pid := d.api.createProject(t, token, fmt.Sprintf("Recipes %d", i+1))
		started = append(started, work{project: pid, run: d.api.startWork(t, token, pid)})
	}
	for deadline := time.Now().Add(60 * time.Second); d.vendor.Calls() < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d runs reached the vendor within a minute", d.vendor.Calls(), n)
		}
	}
	return started
}

// everyRunSucceeds waits until each run has finished and its gate is in review: no run failed,
// no gate was blocked. It returns when the last one got there. An answer other than 200 (the
// API recovering too) is waited out like a run still working.
func (d *deployment) everyRunSucceeds(t *testing.T, token string, started []work, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	var last time.Time
	for _, w := range started {
		base := "/api/v1/projects/" + w.project
		for {
			var run struct{ Run runView }
			var gate struct{ Gate gateView }
			r, err := d.api.get(base+"/runs/"+w.run, token, &run)
			if err == nil && r.status == http.StatusOK {
				r, err = d.api.get(base+"/gates/1", token, &gate)
			}
			switch ok := err == nil && r.status == http.StatusOK; {
			case ok && gate.Gate.State == "GATE_STATE_BLOCKED":
				t.Errorf("project %s: G1 BLOCKED: %q (run %s, attempt %d, error %q)", w.project, gate.Gate.BlockedReason, run.Run.State, run.Run.Attempt, run.Run.Error)
			case ok && (run.Run.State == "RUN_STATE_FAILED" || run.Run.State == "RUN_STATE_CANCELLED"):
				t.Errorf("project %s: run %s %s after attempt %d: %q", w.project, w.run, run.Run.State, run.Run.Attempt, run.Run.Error)
			case ok && run.Run.State == "RUN_STATE_SUCCEEDED" && gate.Gate.State == "GATE_STATE_IN_REVIEW":
				last = time.Now()
			case time.Now().After(deadline):
				t.Errorf("project %s: %v after the fault, run %s attempt %d (error %q), G1 %s; last answer %s %v",
					w.project, within, run.Run.State, run.Run.Attempt, run.Run.Error, gate.Gate.State, r, err)
			default:
				time.Sleep(100 * time.Millisecond)
				continue
			}
			break
		}
	}
	return last
}

// logMark is every process's warning and error counts at one moment.
type logMark map[string]map[string]int

func (d *deployment) markLogs() logMark {
	m := logMark{}
	for _, target := range targets {
		m[target] = d.procs[target].logs.problemCounts()
	}
	return m
}

// problemsSince lists the warnings and errors each process logged since the mark, as
// "target: LEVEL msg ×n", most frequent first.
func (d *deployment) problemsSince(m logMark) []string {
	var out []string
	for _, p := range d.problems(m) {
		out = append(out, fmt.Sprintf("%s: %s ×%d", p.target, p.what, p.n))
	}
	return out
}

// loggedOncePerOutage checks that an outage since the mark was told once, as a warning: no
// process logged an error, nor one warning more than perOutage times (1, or one per run in
// flight for what a run says of itself).
func (d *deployment) loggedOncePerOutage(t *testing.T, m logMark, perOutage int) {
	t.Helper()
	for _, p := range d.problems(m) {
		if strings.HasPrefix(p.what, "ERROR ") || p.n > perOutage {
			t.Errorf("%s logged %q %d times during one outage, want a warning at most %d times", p.target, p.what, p.n, perOutage)
		}
	}
}

type problem struct {
	target, what string
	n            int
}

func (d *deployment) problems(m logMark) []problem {
	var all []problem
	for _, target := range targets {
		for what, n := range d.procs[target].logs.problemCounts() {
			if n -= m[target][what]; n > 0 {
				all = append(all, problem{target, what, n})
			}
		}
	}
	slices.SortFunc(all, func(a, b problem) int {
		return cmp.Or(b.n-a.n, strings.Compare(a.target, b.target), strings.Compare(a.what, b.what))
	})
	return all
}
