// Package app is the composition root of the fuzzyllama binary: it builds the services and the
// gateway a target asks for, with their shared infrastructure, and runs them until the context
// ends. -target=all (the default) runs everything in one process on the embedded default
// (SQLite, an in-process Redis); other targets run one part each for production. Either way the
// gateway reaches the services through gRPC client connections, so the code path is the same.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/fuzzyllama/fuzzyllama/gateway"
	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
	documentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/grpcx"
	"github.com/fuzzyllama/fuzzyllama/platform/logging"
	"github.com/fuzzyllama/fuzzyllama/platform/outage"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/platform/telemetry"
	"github.com/fuzzyllama/fuzzyllama/services/agents"
	"github.com/fuzzyllama/fuzzyllama/services/auth"
	"github.com/fuzzyllama/fuzzyllama/services/documents"
	"github.com/fuzzyllama/fuzzyllama/services/projects"
)

// Targets are the parts a process can run. "all" runs every one of them.
var Targets = []string{"all", "auth", "projects", "documents", "agents", "gateway"}

// App is a started process.
type App struct {
	cfg       Config
	log       *slog.Logger
	queueLog  *slog.Logger
	httpLis   net.Listener
	httpSrv   *http.Server
	gw        *gateway.Gateway
	closers   []func(context.Context) error // run in reverse order on Close
	readiness []func(context.Context) error
	serveErr  chan error

	// database is the outage log of the process's own databases: calls that meet an outage and
	// the probe record it, and its changes set every gRPC server's health (setServing).
	database   *outage.Log
	stores     []func(context.Context) error
	probes     context.Context // background checks run until stopProbes
	stopProbes context.CancelFunc

	mu      sync.Mutex // guards servers: the database's outage log reads them from calls
	servers []*grpcx.Server
}

// HTTPAddr is the address the HTTP listener is bound to.
func (a *App) HTTPAddr() string { return a.httpLis.Addr().String() }

// Start builds and starts cfg.Target; logs go to logOut.
func Start(ctx context.Context, cfg Config, logOut io.Writer) (a *App, err error) {
	target := cfg.Target
	if !slices.Contains(Targets, target) {
		return nil, fmt.Errorf("unknown target %q: choose one of %v", target, Targets)
	}
	if cfg.ServiceCredential == "" && target == "all" {
		// One process: its services share a secret nobody else ever sees.
		cfg.ServiceCredential = rand.Text() + rand.Text()
	}
	a = &App{cfg: cfg, serveErr: make(chan error, 4)}
	a.log = logging.New(logOut, cfg.Level(), target)
	a.probes, a.stopProbes = context.WithCancel(context.WithoutCancel(ctx))
	a.database = &outage.Log{Dependency: "database", Logger: a.log, OnChange: a.setServing}
	// River reports its routine (migrations applied, job counts every few seconds) at info; only
	// its warnings and errors are worth an operator's attention.
	a.queueLog = slog.New(&quietDuringOutage{next: logging.New(logOut, max(cfg.Level(), slog.LevelWarn), target).Handler(), database: a.database})
	started := a // the error returns below set a to nil
	defer func() {
		if err != nil {
			_ = started.Close(context.Background())
		}
	}()

	// The HTTP listener first: FRONTEND_URL's default, the gateway's own origin, may depend on
	// the port it gets (HTTP_ADDR with port 0), and the auth service built below puts that URL
	// in its reset links. Connections wait in the backlog until the server starts, at the end.
	if a.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("HTTP listener on %s: %w", cfg.HTTPAddr, err)
	}
	a.closers = append(a.closers, func(context.Context) error {
		if started.httpSrv != nil {
			return nil // the server's Shutdown closed it
		}
		return started.httpLis.Close()
	})
	if cfg.FrontendURL == "" { // unset, and the gateway's port was chosen at binding
		cfg.FrontendURL, _ = gatewayOrigin(a.HTTPAddr())
		if len(cfg.Gateway.CORSOrigins) == 0 {
			cfg.Gateway.CORSOrigins = []string{cfg.FrontendURL}
		}
		a.cfg = cfg
	}
	if cfg.frontendDefaulted && cfg.Production() && cfg.runs("auth") {
		a.log.Warn("FRONTEND_URL is not set: password-reset links point at its default; set it to the URL users open",
			"frontend_url", cfg.FrontendURL)
	}

	shutdownTracing, err := telemetry.Setup(ctx, "fuzzyllama-"+target, cfg.OTLPEndpoint, cfg.OTLPInsecure)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, shutdownTracing)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	grpcMetrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	reg.MustRegister(grpcMetrics)

	rdb, err := a.openRedis(ctx)
	if err != nil {
		return nil, err
	}
	keys := redisx.Keyspace(cfg.RedisKeyPrefix)
	// One revocation list per process, in memory (see authn.Revocations): loaded from the durable
	// list (the auth store in the auth process, ListRevokedSessions elsewhere; its Source is set
	// below) and pushed over Redis. Token checks cost no round trip; until the first load they
	// fail closed (503).
	revocations := &authn.Revocations{Redis: rdb, Keys: keys}
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	a.closers = append(a.closers, func(context.Context) error { stopWatch(); return nil })
	// Redis is not part of readiness: losing it must not take the API down (see ARCHITECTURE.md,
	// "Outages"); its outages are logged, here and by each part that carries on without it.
	a.watch(&outage.Log{Dependency: "redis", Logger: a.log}, func(ctx context.Context) error { return rdb.Ping(ctx).Err() }, 2*time.Second)
	// One bus for the process's services: a Redis outage pauses live events and is logged once.
	bus := &eventbus.Bus{Redis: rdb, Keys: keys, Logger: a.log}
	serve := func(name, listen string, verifier *authn.Verifier, maxRecv int, register func(grpc.ServiceRegistrar)) (string, error) {
		return a.serveService(name, listen, verifier, grpcMetrics, maxRecv, register)
	}

	// Auth first: every other part verifies tokens with its keys and resolves users through it.
	authAddr := cfg.AuthService
	if cfg.runs("auth") {
		svc, err := a.startAuth(ctx, rdb, keys, revocations)
		if err != nil {
			return nil, err
		}
		revocations.Source = svc.RevokedSessions
		verifier := authn.NewVerifier(svc.Keys, svc.Revocations)
		if authAddr, err = serve("auth", cfg.AuthGRPCAddr, verifier, 0, func(s grpc.ServiceRegistrar) { auth.RegisterGRPC(s, svc) }); err != nil {
			return nil, err
		}
	}
	var authConn *grpc.ClientConn
	if cfg.runs("projects") || cfg.runs("documents") || cfg.runs("agents") || cfg.runs("gateway") {
		if authConn, err = a.dial(authAddr, "fuzzyllama.auth.v1.AuthService"); err != nil {
			return nil, err
		}
	}
	authClient := authv1.NewAuthServiceClient(authConn)
	if revocations.Source == nil {
		revocations.Source = authn.RemoteRevocations(authClient)
	}
	// Load once before serving, so that the first requests are not refused while the watch
	// starts; if the auth service is not there yet, the watch keeps trying (readiness waits).
	loadCtx, cancelLoad := context.WithTimeout(ctx, 2*time.Second)
	if err := revocations.Load(loadCtx); err != nil {
		a.log.Info("revocation list not loaded at start; loading it in the background", "error", err.Error())
	}
	cancelLoad()
	go revocations.Watch(watchCtx, a.log)
	// Until the list is loaded every token check answers 503, so the process is not ready.
	a.readiness = append(a.readiness, func(context.Context) error {
		if !revocations.Loaded() {
			return errors.New("the revocation list is not loaded yet")
		}
		return nil
	})
	remoteKeys := authn.RemoteKeys(authClient)
	remoteVerifier := authn.NewVerifier(remoteKeys, revocations)
	if authConn != nil {
		// The parts verifying with the auth service's published keys (the auth service itself
		// uses its own) are not ready until those are loaded: every token check answers 503
		// until then. The check fetches them (at most once a second while that fails).
		a.readiness = append(a.readiness, func(ctx context.Context) error {
			if err := remoteKeys.Ready(ctx); err != nil {
				return fmt.Errorf("the signing keys are not loaded yet: %w", err)
			}
			return nil
		})
	}

	projectsAddr := cfg.ProjectsService
	if cfg.runs("projects") {
		st, err := projects.OpenStore(ctx, cfg.DatabaseURL, cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("projects store: %w", err)
		}
		a.closers = append(a.closers, func(context.Context) error { return st.Close() })
		a.addStore(st.Ping)
		svc := &projects.Service{Store: st, Directory: projects.AuthDirectory{Client: authClient},
			Bus: bus, EncodeEvent: projects.PublicEvent, EncodeNotification: projects.PublicNotification,
			Metrics: projects.NewMetrics(reg), Logger: a.log}
		if projectsAddr, err = serve("projects", cfg.ProjectsGRPCAddr, remoteVerifier, 0, func(s grpc.ServiceRegistrar) { projects.RegisterGRPC(s, svc) }); err != nil {
			return nil, err
		}
	}
	var projectsConn *grpc.ClientConn
	if cfg.runs("documents") || cfg.runs("agents") || cfg.runs("gateway") {
		if projectsConn, err = a.dial(projectsAddr, "fuzzyllama.projects.v1.ProjectsService"); err != nil {
			return nil, err
		}
	}

	// Documents calls projects for every access decision and for gate deliverables.
	documentsAddr := cfg.DocumentsService
	if cfg.runs("documents") {
		st, err := documents.OpenStore(ctx, cfg.DatabaseURL, cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("documents store: %w", err)
		}
		a.closers = append(a.closers, func(context.Context) error { return st.Close() })
		a.addStore(st.Ping)
		// Deliverables are recorded as the documents service (delegated tokens): see ProjectsClient.
		svc := &documents.Service{Store: st, Projects: &documents.ProjectsClient{Client: projectsv1.NewProjectsServiceClient(projectsConn),
			Tokens: &authn.ServiceTokens{Client: authClient, Service: "documents", Credential: cfg.ServiceCredential}},
			Bus: bus, EncodeSaved: documents.PublicSaved, Logger: a.log, Export: cfg.Documents.Export()}
		if documentsAddr, err = serve("documents", cfg.DocumentsGRPCAddr, remoteVerifier, documents.MaxRequestBytes,
			func(s grpc.ServiceRegistrar) { documents.RegisterGRPC(s, svc) }); err != nil {
			return nil, err
		}
	}

	var documentsConn *grpc.ClientConn
	if cfg.runs("agents") || cfg.runs("gateway") {
		if documentsConn, err = a.dial(documentsAddr, "fuzzyllama.documents.v1.DocumentsService"); err != nil {
			return nil, err
		}
	}

	// Agents calls projects and documents, as the user or (background work) for the user.
	agentsAddr := cfg.AgentsService
	if cfg.runs("agents") {
		svc, err := a.startAgents(ctx, authClient, projectsConn, documentsConn, bus, reg)
		if err != nil {
			return nil, err
		}
		if agentsAddr, err = serve("agents", cfg.AgentsGRPCAddr, remoteVerifier, 0, func(s grpc.ServiceRegistrar) { agents.RegisterGRPC(s, svc) }); err != nil {
			return nil, err
		}
	}

	var handler http.Handler
	if cfg.runs("gateway") {
		agentsConn, err := a.dial(agentsAddr, "fuzzyllama.agents.v1.AgentsService")
		if err != nil {
			return nil, err
		}
		a.gw, err = gateway.New(ctx, cfg.Gateway, gateway.Deps{
			Backends: gateway.Backends{Auth: authConn, Projects: projectsConn, Documents: documentsConn, Agents: agentsConn},
			Redis:    rdb, Keys: keys, Logger: a.log, Registry: reg, Revocations: revocations,
			Ready: a.ready,
		})
		if err != nil {
			return nil, err
		}
		handler = a.gw
	} else {
		handler = opsHandler(reg, a.ready)
	}

	a.httpSrv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	if a.gw != nil {
		// A graceful shutdown waits for responses to end; run watches would not on their own.
		a.httpSrv.RegisterOnShutdown(a.gw.EndStreams)
	}
	go func() {
		if err := a.httpSrv.Serve(a.httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.serveErr <- fmt.Errorf("http: %w", err)
		}
	}()
	if len(a.stores) > 0 {
		// Every second: the gateway's readiness follows the servers' health, and a database
		// that is back must be noticed before clients are told to retry (Retry-After: 2 s).
		a.watch(a.database, a.pingStores, time.Second)
	}
	a.log.Info("listening (HTTP)", "addr", "http://"+a.HTTPAddr(), "target", target)
	if cfg.PprofAddr != "" {
		if err := a.servePprof(cfg.PprofAddr); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *App) openRedis(ctx context.Context) (*redis.Client, error) {
	url := a.cfg.RedisURL
	if url == "" {
		mr := miniredis.NewMiniRedis()
		mr.ClockTTL(true) // let keys expire with the wall clock, like a real Redis
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("start in-process redis: %w", err)
		}
		a.closers = append(a.closers, func(context.Context) error { mr.Close(); return nil })
		url = "redis://" + mr.Addr()
		a.log.Info("using an in-process Redis: sessions end when the process stops (set REDIS_URL to keep them)")
	}
	rdb, err := redisx.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func(context.Context) error { return rdb.Close() })
	return rdb, nil
}

func (a *App) startAuth(ctx context.Context, rdb *redis.Client, keys redisx.Keyspace, revocations *authn.Revocations) (*auth.Service, error) {
	st, err := auth.OpenStore(ctx, a.cfg.DatabaseURL, a.cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("auth store: %w", err)
	}
	a.closers = append(a.closers, func(context.Context) error { return st.Close() })
	a.addStore(st.Ping)
	keyFile := ""
	if !a.cfg.Production() {
		keyFile = filepath.Join(a.cfg.DataDir, "auth-signing-key")
	}
	kr, err := auth.LoadKeyring(a.cfg.Auth.SigningKey, a.cfg.Auth.PreviousSigningKeys, keyFile)
	if err != nil {
		return nil, err
	}
	svc, err := auth.NewService(a.cfg.Auth, auth.Deps{Store: st, Redis: rdb, Keys: keys, Keyring: kr,
		Logger: a.log, DataDir: a.cfg.DataDir, FrontendURL: a.cfg.FrontendURL, Revocations: revocations})
	if err != nil {
		return nil, err
	}
	svc.ServiceCredential = a.cfg.ServiceCredential
	// Closers run in reverse: in-flight reset mail finishes before the store closes.
	a.closers = append(a.closers, svc.Close)
	return svc, nil
}

// startAgents opens the agents store with its job queue, builds the service, and starts its
// workers and its watch on project events; they stop when the process closes.
func (a *App) startAgents(ctx context.Context, authClient authv1.AuthServiceClient, projectsConn, documentsConn *grpc.ClientConn,
	bus *eventbus.Bus, reg prometheus.Registerer) (*agents.Service, error) {
	cfg := a.cfg.Agents
	workers := river.NewWorkers()
	st, err := agents.OpenStore(ctx, a.cfg.DatabaseURL, a.cfg.DataDir, cfg.Queue(workers, a.queueLog))
	if err != nil {
		return nil, fmt.Errorf("agents store: %w", err)
	}
	a.closers = append(a.closers, func(context.Context) error { return st.Close() })
	a.addStore(st.Ping)
	router, model := cfg.Providers(&http.Client{})
	runner, err := cfg.Sandbox.NewRunner(a.cfg.DataDir, a.log)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	projectsClient := &agents.ProjectsClient{Client: projectsv1.NewProjectsServiceClient(projectsConn)}
	documentsClient := &agents.DocumentsClient{Client: documentsv1.NewDocumentsServiceClient(documentsConn)}
	svc := &agents.Service{Store: st, Projects: projectsClient, Documents: documentsClient,
		Runner: runner, Evidence: projectsClient, Providers: router, Prices: cfg.PriceTable(), Model: model, Limits: cfg.Limits(),
		Tokens: &authn.ServiceTokens{Client: authClient, Service: "agents", Credential: a.cfg.ServiceCredential},
		Bus:    bus, EncodeRun: agents.PublicRun, Metrics: agents.NewMetrics(reg, st), Logger: a.log}
	agents.RegisterWorkers(workers, svc)
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	if err := st.Start(runCtx); err != nil {
		stop()
		return nil, fmt.Errorf("agents job queue: %w", err)
	}
	go svc.WatchProjectEvents(runCtx)
	// Closers run in reverse: the queue stops (running jobs finish or are handed back) before
	// the store closes.
	a.closers = append(a.closers, func(ctx context.Context) error { defer stop(); return st.Stop(ctx) })
	if model != "" {
		a.log.Info("agent runs use one model for every role", "model", model)
	}
	return svc, nil
}

// serveService starts one service's gRPC server, with the shared interceptor chain, and returns
// the address it listens on. With -target=all every service listens on a loopback port of its
// own: the other parts of the process are its only clients, exactly as over the network.
func (a *App) serveService(name, listen string, verifier *authn.Verifier, metrics *grpcprom.ServerMetrics, maxRecv int, register func(grpc.ServiceRegistrar)) (string, error) {
	srv := grpcx.NewServer(grpcx.ServerConfig{Logger: a.log, Metrics: metrics,
		Authorizer: &authn.Authorizer{Verifier: verifier, Logger: a.log}, MaxRecvBytes: maxRecv,
		Dependencies: []grpcx.Dependency{{Name: "the database", IsUnavailable: database.IsUnavailable, Outages: a.database},
			{Name: "Redis", IsUnavailable: redisx.IsUnavailable}}})
	register(srv)
	if a.cfg.Target == "all" {
		listen = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", listen)
	if err != nil {
		return "", fmt.Errorf("%s gRPC listener: %w", name, err)
	}
	srv.Serving(metrics)
	a.mu.Lock()
	a.servers = append(a.servers, srv)
	a.mu.Unlock()
	go func() {
		if err := srv.Serve(lis); err != nil {
			a.serveErr <- fmt.Errorf("%s grpc: %w", name, err)
		}
	}()
	a.log.Info(name+" service listening (gRPC)", "addr", lis.Addr().String())
	return lis.Addr().String(), nil
}

// dial connects to a service, closes the connection with the process, and adds the service's
// health to readiness. A probe checks it every 2 s, so that its outages are logged once each
// (the 503s they cause are not logged one by one) and the connection is kept trying.
func (a *App) dial(addr, service string) (*grpc.ClientConn, error) {
	conn, err := grpcx.Dial(addr)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func(context.Context) error { return conn.Close() })
	a.readiness = append(a.readiness, healthCheck(conn, service))
	a.watch(&outage.Log{Dependency: service, Logger: a.log}, healthCheck(conn, service), 2*time.Second)
	return conn, nil
}

// addStore adds a store of the process's own to readiness and to the database probe, which
// sets the gRPC servers' health (see setServing).
func (a *App) addStore(ping func(context.Context) error) {
	a.readiness = append(a.readiness, ping)
	a.stores = append(a.stores, ping)
}

// pingStores checks every store of the process.
func (a *App) pingStores(ctx context.Context) error {
	var errs []error
	for _, ping := range a.stores {
		errs = append(errs, ping(ctx))
	}
	return errors.Join(errs...)
}

// setServing sets the health status of every gRPC server of the process: NOT_SERVING while its
// database is down, so that callers' readiness (the gateway's /readyz) reflects it, SERVING when
// it is back. Every server, because a process's services share its database in production (one
// service per process) and fail together in one process.
func (a *App) setServing(up bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.servers {
		s.SetServing(up)
	}
}

// watch checks a dependency every interval until the process closes, logging its outages in log.
func (a *App) watch(log *outage.Log, check func(context.Context) error, interval time.Duration) {
	p := &outage.Probe{Check: check, Interval: interval, Timeout: time.Second, Log: log}
	go p.Run(a.probes)
}

// ready reports whether every dependency answers.
func (a *App) ready(ctx context.Context) error {
	var errs []error
	for _, check := range a.readiness {
		errs = append(errs, check(ctx))
	}
	return errors.Join(errs...)
}

// Wait blocks until ctx ends or a server fails, then shuts down gracefully: readiness turns
// 503 first and stays so for the drain time, so load balancers stop sending traffic; then the
// HTTP server and gRPC servers finish in-flight requests; then stores and clients close.
func (a *App) Wait(ctx context.Context) error {
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-a.serveErr:
		a.log.Error("server failed", "error", runErr.Error())
	}
	if a.gw != nil {
		a.gw.Drain()
		if runErr == nil {
			time.Sleep(a.cfg.Gateway.ShutdownDrainTime)
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return errors.Join(runErr, a.Close(shutdownCtx))
}

// Close stops everything at once, without the drain delay.
func (a *App) Close(ctx context.Context) error {
	a.stopProbes() // first: a store closing under a probe is no outage
	var errs []error
	if a.httpSrv != nil {
		errs = append(errs, a.httpSrv.Shutdown(ctx))
	}
	a.mu.Lock()
	servers := a.servers
	a.servers = nil
	a.mu.Unlock()
	for _, s := range servers {
		stopGRPC(ctx, s)
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i](ctx))
	}
	a.closers, a.httpSrv = nil, nil
	return errors.Join(errs...)
}

func healthCheck(conn *grpc.ClientConn, service string) func(context.Context) error {
	client := healthpb.NewHealthClient(conn)
	return func(ctx context.Context) error {
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			return fmt.Errorf("%s: %w", service, err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("%s: %s", service, resp.GetStatus())
		}
		return nil
	}
}

// stopGRPC lets in-flight calls finish, but not past ctx: long-lived streams would otherwise
// hold the shutdown forever.
func stopGRPC(ctx context.Context, s *grpcx.Server) {
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.Stop()
		<-done
	}
}

// servePprof serves Go's profiling endpoints on their own listener, apart from the API.
func (a *App) servePprof(addr string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("DEBUG_PPROF_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a.closers = append(a.closers, func(ctx context.Context) error { return srv.Shutdown(ctx) })
	go func() { _ = srv.Serve(lis) }()
	a.log.Warn("pprof endpoints enabled", "addr", lis.Addr().String())
	return nil
}
