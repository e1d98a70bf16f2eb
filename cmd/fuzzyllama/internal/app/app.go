// Package app is the composition root of the fuzzyllama binary: it builds the services and the
// gateway a target asks for, with their shared infrastructure, and runs them until the context
// ends. -target=all (the default) runs everything in one process on the embedded default
// (SQLite, an in-process Redis); other targets run one part each for production. Either way the
// gateway reaches the services through gRPC client connections, so the code path is the same.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/alicebob/miniredis/v2"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/fuzzyllama/fuzzyllama/gateway"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/grpcx"
	"github.com/fuzzyllama/fuzzyllama/platform/logging"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/platform/telemetry"
	"github.com/fuzzyllama/fuzzyllama/services/auth"
)

// Targets are the parts a process can run. "all" runs every one of them.
var Targets = []string{"all", "auth", "gateway"}

// App is a started process.
type App struct {
	cfg      Config
	log      *slog.Logger
	httpLis  net.Listener
	httpSrv  *http.Server
	gw       *gateway.Gateway
	closers  []func(context.Context) error // run in reverse order on Close
	servers  []*grpcx.Server
	serveErr chan error
}

// HTTPAddr is the address the HTTP listener is bound to.
func (a *App) HTTPAddr() string { return a.httpLis.Addr().String() }

// Start builds and starts cfg.Target; logs go to logOut.
func Start(ctx context.Context, cfg Config, logOut io.Writer) (a *App, err error) {
	target := cfg.Target
	if !slices.Contains(Targets, target) {
		return nil, fmt.Errorf("unknown target %q: choose one of %v", target, Targets)
	}
	a = &App{cfg: cfg, serveErr: make(chan error, 4)}
	a.log = logging.New(logOut, cfg.Level(), target)
	defer func() {
		if err != nil {
			_ = a.Close(context.Background())
		}
	}()

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
	authorizer := &authn.Authorizer{Logger: a.log}
	var readiness []func(context.Context) error
	readiness = append(readiness, func(ctx context.Context) error { return rdb.Ping(ctx).Err() })

	authAddr := cfg.AuthService
	if cfg.runs("auth") {
		svc, ready, err := a.startAuth(ctx, rdb, keys)
		if err != nil {
			return nil, err
		}
		readiness = append(readiness, ready)
		authorizer.Verifier = &authn.Verifier{Keys: svc.Keys, Issuer: authn.Issuer, Audience: authn.Audience,
			Revocations: svc.Revocations, Leeway: authn.DefaultLeeway}
		srv := grpcx.NewServer(grpcx.ServerConfig{Logger: a.log, Metrics: grpcMetrics, Authorizer: authorizer})
		auth.RegisterGRPC(srv, svc)
		listen := cfg.AuthGRPCAddr
		if target == "all" {
			listen = "127.0.0.1:0" // loopback only: in one process the gateway is the only client
		}
		lis, err := net.Listen("tcp", listen)
		if err != nil {
			return nil, fmt.Errorf("auth gRPC listener: %w", err)
		}
		authAddr = lis.Addr().String()
		a.serveGRPC(srv, lis, grpcMetrics)
		a.log.Info("auth service listening (gRPC)", "addr", authAddr)
	}

	var handler http.Handler
	if cfg.runs("gateway") {
		conn, err := grpcx.Dial(authAddr)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, func(context.Context) error { return conn.Close() })
		readiness = append(readiness, healthCheck(conn, "fuzzyllama.auth.v1.AuthService"))
		a.gw, err = gateway.New(ctx, cfg.Gateway, gateway.Deps{
			Backends: gateway.Backends{Auth: conn},
			Redis:    rdb, Keys: keys, Logger: a.log, Registry: reg,
			Ready: func(ctx context.Context) error {
				var errs []error
				for _, r := range readiness {
					errs = append(errs, r(ctx))
				}
				return errors.Join(errs...)
			},
		})
		if err != nil {
			return nil, err
		}
		handler = a.gw
	} else {
		handler = opsHandler(reg, readiness)
	}

	a.httpLis, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("HTTP listener on %s: %w", cfg.HTTPAddr, err)
	}
	a.httpSrv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	go func() {
		if err := a.httpSrv.Serve(a.httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.serveErr <- fmt.Errorf("http: %w", err)
		}
	}()
	a.log.Info("listening (HTTP)", "addr", "http://"+a.HTTPAddr(), "target", target)
	return a, nil
}

func (a *App) openRedis(ctx context.Context) (*redis.Client, error) {
	url := a.cfg.RedisURL
	if url == "" {
		mr := miniredis.NewMiniRedis()
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

func (a *App) startAuth(ctx context.Context, rdb *redis.Client, keys redisx.Keyspace) (*auth.Service, func(context.Context) error, error) {
	st, err := auth.OpenStore(ctx, a.cfg.DatabaseURL, a.cfg.DataDir)
	if err != nil {
		return nil, nil, fmt.Errorf("auth store: %w", err)
	}
	a.closers = append(a.closers, func(context.Context) error { return st.Close() })
	keyFile := ""
	if !a.cfg.Production() {
		keyFile = filepath.Join(a.cfg.DataDir, "auth-signing-key")
	}
	kr, err := auth.LoadKeyring(a.cfg.Auth.SigningKey, a.cfg.Auth.PreviousSigningKeys, keyFile)
	if err != nil {
		return nil, nil, err
	}
	svc, err := auth.NewService(a.cfg.Auth, auth.Deps{Store: st, Redis: rdb, Keys: keys, Keyring: kr,
		Logger: a.log, DataDir: a.cfg.DataDir, FrontendURL: a.cfg.FrontendURL})
	if err != nil {
		return nil, nil, err
	}
	return svc, st.Ping, nil
}

func (a *App) serveGRPC(srv *grpcx.Server, lis net.Listener, metrics *grpcprom.ServerMetrics) {
	srv.Serving(metrics)
	a.servers = append(a.servers, srv)
	go func() {
		if err := srv.Serve(lis); err != nil {
			a.serveErr <- fmt.Errorf("grpc: %w", err)
		}
	}()
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
	var errs []error
	if a.httpSrv != nil {
		errs = append(errs, a.httpSrv.Shutdown(ctx))
	}
	for _, s := range a.servers {
		stopGRPC(ctx, s)
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i](ctx))
	}
	a.closers, a.servers, a.httpSrv = nil, nil, nil
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
