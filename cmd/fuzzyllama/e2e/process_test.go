package e2e

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/fuzzyllama/fuzzyllama/cmd/fuzzyllama/internal/binarytest"
	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/platform/logging/logtest"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/providertest"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/bwrap"
)

// TestMain removes the binary the tests built. The sandbox runner of the in-process product
// re-executes this test binary as its helper (bwrap.Init).
func TestMain(m *testing.M) {
	bwrap.Init()
	code := m.Run()
	binarytest.Cleanup()
	if sharedSandbox.dir != "" {
		if err := os.RemoveAll(sharedSandbox.dir); err != nil {
			fmt.Fprintf(os.Stderr, "removing the tests' sandbox directory: %v\n", err)
		}
	}
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// runProcess starts the binary with env and waits until it says it is up.
func runProcess(t *testing.T, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binarytest.Path(t), args...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cancel()
		}
	})
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "is up:") {
				close(up)
				signalled = true
			}
		}
	}()
	select {
	case <-up:
	case <-time.After(60 * time.Second):
		t.Fatalf("%v did not come up", args)
	}
	return cmd
}

// TestServicesRunAsSeparateProcesses runs the production shape: the auth, projects and
// documents services and the gateway as processes of the real binary, on PostgreSQL and Redis,
// talking gRPC.
func TestServicesRunAsSeparateProcesses(t *testing.T) {
	t.Parallel()
	_, prefix := redistest.New(t)
	shared := map[string]string{
		"FUZZYLLAMA_ENV":     "production",
		"REDIS_URL":          redistest.URL(),
		"REDIS_KEY_PREFIX":   string(prefix),
		"AUTH_SIGNING_KEY":   newSeed(t),
		"SERVICE_CREDENTIAL": newSeed(t) + newSeed(t),
		"FRONTEND_URL":       "https://app.example.com",
		"DATA_DIR":           t.TempDir(),
	}
	db := dbtest.NewPostgres(t) // one database; each service migrates and uses its own schema
	authAddr, projectsAddr, documentsAddr, agentsAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	authEnv := map[string]string{"DATABASE_URL": db, "AUTH_GRPC_ADDR": authAddr, "HTTP_ADDR": freeAddr(t)}
	for k, v := range shared {
		authEnv[k] = v
	}
	runProcess(t, authEnv, "-target=auth")

	// The other parts need no signing key: they verify with the auth service's JWKS.
	projectsEnv := map[string]string{"DATABASE_URL": db, "PROJECTS_GRPC_ADDR": projectsAddr, "AUTH_SERVICE_ADDR": authAddr, "HTTP_ADDR": freeAddr(t)}
	documentsEnv := map[string]string{"DATABASE_URL": db, "DOCUMENTS_GRPC_ADDR": documentsAddr, "AUTH_SERVICE_ADDR": authAddr,
		"PROJECTS_SERVICE_ADDR": projectsAddr, "HTTP_ADDR": freeAddr(t)}
	agentsEnv := map[string]string{"DATABASE_URL": db, "AGENTS_GRPC_ADDR": agentsAddr, "AUTH_SERVICE_ADDR": authAddr,
		"PROJECTS_SERVICE_ADDR": projectsAddr, "DOCUMENTS_SERVICE_ADDR": documentsAddr, "HTTP_ADDR": freeAddr(t),
		"AGENT_QUEUE_POLL_INTERVAL": "50ms"}
	gwEnv := map[string]string{"AUTH_SERVICE_ADDR": authAddr, "PROJECTS_SERVICE_ADDR": projectsAddr, "DOCUMENTS_SERVICE_ADDR": documentsAddr,
		"AGENTS_SERVICE_ADDR": agentsAddr, "HTTP_ADDR": freeAddr(t)}
	for k, v := range shared {
		if k != "AUTH_SIGNING_KEY" {
			projectsEnv[k], documentsEnv[k], agentsEnv[k], gwEnv[k] = v, v, v, v
		}
	}
	runProcess(t, projectsEnv, "-target=projects")
	runProcess(t, documentsEnv, "-target=documents")
	runProcess(t, agentsEnv, "-target=agents")
	runProcess(t, gwEnv, "-target=gateway")

	s := &server{t: t, base: "http://" + gwEnv["HTTP_ADDR"], logs: &logtest.Buffer{}}
	ses := s.register(t, "lena@example.com", goodPassword, "Lena")
	s.do("GET", "/api/v1/auth/me", ses.AccessToken, nil).want(t, 200, "")
	p := s.createProject(t, ses.AccessToken, "Across processes", "PROJECT_TYPE_TRADITIONAL")
	s.do("GET", "/api/v1/projects/"+p.ID, ses.AccessToken, nil).want(t, 200, "")
	// Gateway -> documents -> projects (access, the gate's deliverable), each its own process.
	s.do("POST", "/api/v1/projects/"+p.ID+"/gates/1:start", ses.AccessToken, map[string]string{}).want(t, 200, "")
	if _, rec := s.createDocument(t, ses.AccessToken, p.ID, map[string]any{"gate": 1, "type": "DOCUMENT_TYPE_INTAKE", "title": "Intake", "content": "# Intake\n"}); rec == nil || !rec.Recorded {
		t.Fatalf("deliverable across processes: %+v", rec)
	}
	// Gateway -> agents; the run, in the background, acts for the user with a delegated token
	// from the auth process, on projects and documents in theirs.
	q := s.createProject(t, ses.AccessToken, "Agents across processes", "PROJECT_TYPE_TRADITIONAL")
	run := s.startWork(t, ses.AccessToken, q.ID)
	if got := s.waitRun(t, ses.AccessToken, q.ID, run.ID); got.State != "RUN_STATE_SUCCEEDED" || len(got.Documents) != 1 {
		t.Fatalf("run across processes: %+v", got)
	}
	s.waitGate(t, ses.AccessToken, q.ID, 1, "GATE_STATE_IN_REVIEW")
	// Logout in the auth process ends the session in the gateway and projects processes too,
	// as soon as the revocation message reaches them (a pub/sub delivery: well under a second).
	s.do("POST", "/api/v1/auth/logout", ses.AccessToken, map[string]string{}).want(t, 200, "")
	deadline := time.Now().Add(2 * time.Second)
	for s.do("GET", "/api/v1/projects/"+p.ID, ses.AccessToken, nil).status != 401 {
		if time.Now().After(deadline) {
			t.Fatal("the session outlived its logout in the other processes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.do("GET", "/readyz", "", nil).want(t, 200, "")
	// HSTS is on in production.
	if s.do("GET", "/healthz", "", nil).header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS in production")
	}
	// The lone auth service serves its own health and metrics.
	auth := &server{t: t, base: "http://" + authEnv["HTTP_ADDR"], logs: &logtest.Buffer{}}
	if r := auth.do("GET", "/metrics", "", nil); r.status != 200 || !strings.Contains(string(r.raw), `grpc_method="Register"`) {
		t.Errorf("auth /metrics: %d", r.status)
	}
}

func TestBadConfigurationIsReportedAndExits(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binarytest.Path(t))
	cmd.Env = append(os.Environ(), "FUZZYLLAMA_ENV=production", "FRONTEND_URL=nope", "DATABASE_URL=postgres://u:topsecret@/x")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("want exit code 2, got %v:\n%s", err, out)
	}
	for _, want := range []string{"REDIS_URL: is required in production", "AUTH_SIGNING_KEY: is required", "FRONTEND_URL: must be an absolute URL"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "topsecret") {
		t.Error("a password was printed")
	}
	help, err := exec.Command(binarytest.Path(t), "-help").CombinedOutput()
	if err != nil || !strings.Contains(string(help), "DATABASE_URL") || !strings.Contains(string(help), "-target") {
		t.Errorf("-help: %v\n%s", err, help)
	}
}

// TestOneTraceFromGatewayToService: a request's gateway span and the auth service's span share
// one trace, continuing the caller's W3C traceparent. Not parallel: it installs a global
// tracer provider.
func TestOneTraceFromGatewayToService(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	s := start(t, map[string]string{"DATA_DIR": t.TempDir()}, nil)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	s.do("GET", "/.well-known/jwks.json", "", nil, "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	// The service ends its span after it has sent the response, so the span may be exported a
	// moment after the client has its answer: look until both are there (or a generous deadline).
	var gatewaySpan, serviceSpan bool
	for deadline := time.Now().Add(5 * time.Second); !(gatewaySpan && serviceSpan) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, sp := range exp.GetSpans() {
			if sp.SpanContext.TraceID().String() != traceID {
				continue
			}
			switch {
			case sp.Name == "GET" && sp.SpanKind.String() == "server": // otelhttp names server spans by method
				gatewaySpan = true
			case sp.Name == "fuzzyllama.auth.v1.AuthService/GetJWKS" && sp.SpanKind.String() == "server":
				serviceSpan = true
			}
		}
	}
	if !gatewaySpan || !serviceSpan {
		for _, sp := range exp.GetSpans() {
			t.Logf("span %s kind=%s trace=%s", sp.Name, sp.SpanKind, sp.SpanContext.TraceID())
		}
		t.Fatalf("gateway span %v, service span %v in trace %s", gatewaySpan, serviceSpan, traceID)
	}
	if !strings.Contains(s.logs.String(), `"trace_id":"`+traceID+`"`) {
		t.Error("log lines do not carry the trace id")
	}
}

// TestReadinessTurnsUnavailableOnShutdown: on SIGTERM /readyz answers 503 during the drain time
// while requests are still served, so load balancers move away before the server stops.
func TestReadinessTurnsUnavailableOnShutdown(t *testing.T) {
	t.Parallel()
	s := start(t, map[string]string{"DATA_DIR": t.TempDir()}, map[string]string{"SHUTDOWN_DRAIN_TIME": "2s"})
	a := s.app
	s.app = nil // Wait closes it
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Wait(ctx) }()
	s.do("GET", "/readyz", "", nil).want(t, 200, "")
	cancel()
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) && s.do("GET", "/readyz", "", nil).status != 503 {
		time.Sleep(10 * time.Millisecond)
	}
	s.do("GET", "/readyz", "", nil).want(t, 503, "UNAVAILABLE")
	s.do("GET", "/healthz", "", nil).want(t, 200, "") // still serving while draining
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// TestKilledWorkerResumes: a process killed (SIGKILL) while a run streams leaves the run RUNNING
// under a lease it no longer renews; a new process on the same database, with the production
// defaults (AGENT_LEASE_TTL 30 s, AGENT_RUN_TIMEOUT 15 min), finds the lease expired and
// resumes the run in a new attempt within a minute of the kill, and the run shows the rescue.
func TestKilledWorkerResumes(t *testing.T) {
	t.Parallel()
	vendor := providertest.NewAnthropic(t,
		providertest.Script{Text: intakeAnswer(), Chunks: 8, Fault: providertest.Stall, FaultAfter: 2},
		providertest.Script{Text: intakeAnswer(), Chunks: 8, InputTokens: 500, OutputTokens: 100})
	httpAddr := freeAddr(t)
	env := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": httpAddr, "ANTHROPIC_API_KEY": "sk-ant-test",
		"ANTHROPIC_BASE_URL": vendor.URL, "AGENT_QUEUE_POLL_INTERVAL": "50ms",
		"AGENT_STREAM_IDLE_TIMEOUT": "1h", "AUTH_SIGNING_KEY": newSeed(t), "SERVICE_CREDENTIAL": newSeed(t) + newSeed(t)}
	first := runProcess(t, env)
	s := &server{t: t, base: "http://" + httpAddr, logs: &logtest.Buffer{}}
	tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
	p := s.createProject(t, tok, "Recipes", "PROJECT_TYPE_TRADITIONAL")
	run := s.startWork(t, tok, p.ID)
	for deadline := time.Now().Add(30 * time.Second); vendor.Calls() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the run never called the vendor")
		}
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killed := time.Now()

	runProcess(t, env)
	// The killed attempt's lease runs out and the new process's rescuer hands the run on; the
	// vendor now answers.
	for {
		var out struct {
			Run struct {
				runView
				Rescues    int    `json:"rescues"`
				RescueTime string `json:"rescueTime"`
			}
		}
		s.do("GET", fmt.Sprintf("/api/v1/projects/%s/runs/%s", p.ID, run.ID), tok, nil).want(t, 200, "").data(t, &out)
		if out.Run.State == "RUN_STATE_SUCCEEDED" {
			if out.Run.Attempt != 2 || vendor.Calls() != 2 || out.Run.Rescues != 1 || out.Run.RescueTime == "" {
				t.Fatalf("resumed run: %+v, vendor calls %d", out.Run, vendor.Calls())
			}
			t.Logf("the run succeeded %s after its worker was killed", time.Since(killed).Round(time.Millisecond))
			break
		}
		if out.Run.State == "RUN_STATE_FAILED" || time.Since(killed) > time.Minute {
			t.Fatalf("run %s after the kill: %+v", time.Since(killed).Round(time.Second), out.Run)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.waitGate(t, tok, p.ID, 1, "GATE_STATE_IN_REVIEW")
}

// TestRunWorkLinksToItsRequest: the job queue carries the trace context: the span of a run's work
// links back to the trace of the request that started it. Not parallel: it installs a global
// tracer provider.
func TestRunWorkLinksToItsRequest(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	s := start(t, map[string]string{"DATA_DIR": t.TempDir()}, map[string]string{"AGENT_QUEUE_POLL_INTERVAL": "20ms"})
	tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
	p := s.createProject(t, tok, "Traced", "PROJECT_TYPE_TRADITIONAL")
	const traceID = "5bf92f3577b34da6a3ce929d0e0e4737"
	s.do("POST", "/api/v1/projects/"+p.ID+":startWork", tok, map[string]string{}, "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01").
		want(t, 200, "")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, sp := range exp.GetSpans() {
			if sp.Name != "river.work/agent_run" {
				continue
			}
			for _, l := range sp.Links {
				if l.SpanContext.TraceID().String() == traceID {
					return
				}
			}
		}
	}
	var names []string
	for _, sp := range exp.GetSpans() {
		names = append(names, sp.Name)
	}
	t.Fatalf("no river.work/agent_run span links to trace %s; spans: %v", traceID, names)
}

// TestOneTraceFromGatewayToDatabase: one request's trace covers the gateway, the service it
// calls, and that service's PostgreSQL queries and Redis commands. Not parallel: it installs a
// global tracer provider.
func TestOneTraceFromGatewayToDatabase(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	s := start(t, modes[1].env(t), nil) // PostgreSQL and Redis
	tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
	p := s.createProject(t, tok, "Traced", "PROJECT_TYPE_TRADITIONAL")
	const traceID = "6bf92f3577b34da6a3ce929d0e0e4738"
	s.do("GET", "/api/v1/projects/"+p.ID, tok, nil, "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01").want(t, 200, "")
	var gateway, service, query, redisCommand bool
	for deadline := time.Now().Add(5 * time.Second); !(gateway && service && query && redisCommand) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, sp := range exp.GetSpans() {
			if sp.SpanContext.TraceID().String() != traceID {
				continue
			}
			switch scope := sp.InstrumentationScope.Name; {
			case sp.Name == "GET" && sp.SpanKind.String() == "server":
				gateway = true
			case sp.Name == "fuzzyllama.projects.v1.ProjectsService/GetProject" && sp.SpanKind.String() == "server":
				service = true
			case strings.Contains(scope, "otelpgx"):
				query = true
			case strings.Contains(scope, "redisotel"):
				redisCommand = true
			}
		}
	}
	if !gateway || !service || !query || !redisCommand {
		for _, sp := range exp.GetSpans() {
			if sp.SpanContext.TraceID().String() == traceID {
				t.Logf("span %s kind=%s scope=%s", sp.Name, sp.SpanKind, sp.InstrumentationScope.Name)
			}
		}
		t.Fatalf("trace %s: gateway %v, projects service %v, PostgreSQL query %v, Redis command %v", traceID, gateway, service, query, redisCommand)
	}
}

// TestKilledVerifierResumes: a process killed (SIGKILL) while its sandbox verifies G5 leaves
// the verification RUNNING under a lease it no longer renews; the next process on the same data
// directory queues it again once the lease ran out, and G5 reaches review on the proofs the
// sandbox produced, from the same verification.
func TestKilledVerifierResumes(t *testing.T) {
	t.Parallel()
	httpAddr := freeAddr(t)
	env := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": httpAddr, "AUTH_SIGNING_KEY": newSeed(t),
		"SERVICE_CREDENTIAL": newSeed(t) + newSeed(t), "AGENT_QUEUE_POLL_INTERVAL": "50ms", "AGENT_SWEEP_INTERVAL": "1s",
		"AGENT_LEASE_TTL": "3s", "RATE_LIMIT_PER_USER_PER_MINUTE": "100000"}
	maps.Copy(env, sandboxEnv(t))
	first := runProcess(t, env)
	s := &server{t: t, base: "http://" + httpAddr, logs: &logtest.Buffer{}}
	tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
	p := s.createProject(t, tok, "Recipes", "PROJECT_TYPE_TRADITIONAL")
	s.startWork(t, tok, p.ID)
	var wf workflowView
	s.do("GET", "/api/v1/workflows/PROJECT_TYPE_TRADITIONAL", tok, nil).want(t, 200, "").data(t, &wf)
	for n := 1; n <= 4; n++ {
		s.attest(t, tok, p.ID, n, wf.Gates[n-1], len(wf.Gates[n-1].Roles))
		s.waitGate(t, tok, p.ID, n, "GATE_STATE_IN_REVIEW")
		s.do("POST", fmt.Sprintf("/api/v1/projects/%s/gates/%d:approve", p.ID, n), tok, map[string]string{}).want(t, 200, "")
	}
	type verifications struct {
		Verifications []struct{ ID, State string }
	}
	var list verifications
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		s.do("GET", "/api/v1/projects/"+p.ID+"/verifications?gate=5", tok, nil).want(t, 200, "").data(t, &list)
		if len(list.Verifications) > 0 && list.Verifications[0].State == "VERIFICATION_STATE_RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("G5's verification did not start: %+v", list)
		}
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killed := time.Now()

	runProcess(t, env)
	s.attest(t, tok, p.ID, 5, wf.Gates[4], len(wf.Gates[4].Roles))
	g := s.waitGate(t, tok, p.ID, 5, "GATE_STATE_IN_REVIEW")
	s.wantRunProofs(t, tok, p.ID, g)
	var after verifications
	s.do("GET", "/api/v1/projects/"+p.ID+"/verifications?gate=5", tok, nil).want(t, 200, "").data(t, &after)
	if len(after.Verifications) != 1 || after.Verifications[0].ID != list.Verifications[0].ID ||
		after.Verifications[0].State != "VERIFICATION_STATE_PASSED" {
		t.Fatalf("verifications after the restart: %+v, want the one that was running, passed", after)
	}
	t.Logf("G5 in review %s after its verifier was killed", time.Since(killed).Round(time.Millisecond))
}
