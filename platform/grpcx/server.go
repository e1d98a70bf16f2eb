// Package grpcx builds the gRPC servers and client connections of every FuzzyLlama service, so
// that all of them share one interceptor chain, one error model and one way to dial each other.
package grpcx

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/outage"
	"github.com/fuzzyllama/fuzzyllama/platform/requestid"
)

// ServerConfig is what every service's gRPC server needs.
type ServerConfig struct {
	Logger     *slog.Logger
	Metrics    *prometheus.ServerMetrics // shared by every server of the process; may be nil
	Authorizer *authn.Authorizer
	// MaxRecvBytes is the largest request the server accepts; 0 keeps gRPC's 4 MiB.
	MaxRecvBytes int
	// Dependencies are what the service's calls may find unavailable (its database, Redis): an
	// error one of them recognises is answered Unavailable with a retry delay, not masked as
	// Internal (see mapError).
	Dependencies []Dependency
}

// Dependency is something a service needs whose outage is nobody's fault.
type Dependency struct {
	// Name is what the caller is told is unavailable: "the database".
	Name string
	// IsUnavailable recognises the dependency's outage in an error, e.g. database.IsUnavailable.
	IsUnavailable func(error) bool
	// Outages, if set, records the outages calls meet: one WARN per outage, whoever notices
	// first, the calls or a probe.
	Outages *outage.Log
}

// Server is a gRPC server with the FuzzyLlama interceptor chain, the health service and
// reflection registered.
type Server struct {
	*grpc.Server
	Health *health.Server
}

// NewServer returns a server whose interceptors run in this order, outermost first:
//
//  1. OpenTelemetry stats handler (not an interceptor): the span covers everything below.
//  2. request id: adopt the caller's x-request-id or make one, so every later log line has it.
//  3. logging: one line per finished call, with the final code after error mapping (DEBUG on
//     success, see callLogLevel).
//  4. metrics: RED per method, also seeing the final code.
//  5. authorization: the method's declared access policy; the identity enters the context.
//  6. error mapping: domain errors become statuses with details; an outage of one of
//     cfg.Dependencies becomes Unavailable with a retry delay (see mapError); anything else
//     unexpected is logged and masked as Internal, so internals never reach a caller.
//  7. recovery, innermost, as go-grpc-middleware recommends: a panic becomes an error that every
//     interceptor above still sees (and step 6 masks).
func NewServer(cfg ServerConfig) *Server {
	logOpts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall), logging.WithLevels(callLogLevel)}
	recoverOpts := []recovery.Option{recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		return fmt.Errorf("panic: %v\n%s", p, debug.Stack())
	})}
	unary := []grpc.UnaryServerInterceptor{requestIDUnary}
	stream := []grpc.StreamServerInterceptor{requestIDStream}
	// The call log is written at info or above for failed calls (successful ones at debug);
	// when info is off the interceptor would only build fields to throw them away.
	if cfg.Logger.Enabled(context.Background(), slog.LevelInfo) {
		unary = append(unary, logging.UnaryServerInterceptor(slogAdapter(cfg.Logger), logOpts...))
		stream = append(stream, logging.StreamServerInterceptor(slogAdapter(cfg.Logger), logOpts...))
	}
	if cfg.Metrics != nil {
		unary = append(unary, cfg.Metrics.UnaryServerInterceptor())
		stream = append(stream, cfg.Metrics.StreamServerInterceptor())
	}
	unary = append(unary,
		cfg.Authorizer.UnaryInterceptor(),
		errorsUnary(cfg.Logger, cfg.Dependencies),
		recovery.UnaryServerInterceptor(recoverOpts...),
	)
	stream = append(stream,
		cfg.Authorizer.StreamInterceptor(),
		errorsStream(cfg.Logger, cfg.Dependencies),
		recovery.StreamServerInterceptor(recoverOpts...),
	)
	opts := []grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.KeepaliveEnforcementPolicy(keepaliveEnforcement),
		grpc.KeepaliveParams(serverKeepalive),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	}
	if cfg.MaxRecvBytes > 0 {
		opts = append(opts, grpc.MaxRecvMsgSize(cfg.MaxRecvBytes))
	}
	s := grpc.NewServer(opts...)
	h := health.NewServer()
	healthpb.RegisterHealthServer(s, h)
	reflection.Register(s)
	return &Server{Server: s, Health: h}
}

// Keepalive, both ends (the client's is in client.go): clients ping an idle connection every
// 10 s, so a peer that vanished without closing its connections (a host lost, a network
// partition) is noticed in seconds, not at the next call; the server must then allow pings
// that often (its default policy refuses pings under 5 minutes apart and closes the
// connection). The server pings its own idle clients every 30 s to shed dead ones.
var (
	keepaliveEnforcement = keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}
	serverKeepalive      = keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}
)

// Serving marks every registered service SERVING in the health service and initialises the
// per-method metrics so dashboards show zeros instead of gaps.
func (s *Server) Serving(metrics *prometheus.ServerMetrics) {
	s.SetServing(true)
	if metrics != nil {
		metrics.InitializeMetrics(s.Server)
	}
}

// SetServing sets the health status of every registered service, and of the server as a whole
// (""), to SERVING or NOT_SERVING: a service whose database is down says so to the health
// checks of its callers (the gateway's readiness among them).
func (s *Server) SetServing(up bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if up {
		st = healthpb.HealthCheckResponse_SERVING
	}
	for name := range s.GetServiceInfo() {
		s.Health.SetServingStatus(name, st)
	}
	s.Health.SetServingStatus("", st)
}

func adoptRequestID(ctx context.Context) context.Context {
	id := ""
	if v := metadata.ValueFromIncomingContext(ctx, requestid.MetadataKey); len(v) > 0 && requestid.Valid(v[0]) {
		id = v[0]
	} else {
		id = requestid.New()
	}
	return requestid.NewContext(ctx, id)
}

func requestIDUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	return h(adoptRequestID(ctx), req)
}

func requestIDStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	wrapped := middleware.WrapServerStream(ss)
	wrapped.WrappedContext = adoptRequestID(ss.Context())
	return h(srv, wrapped)
}

// mapError turns a handler's error into the status the caller gets. An error that is not ours
// (apperr) nor a status would be masked as Internal and logged at ERROR, except a dependency
// outage (one of deps recognises it): that is Unavailable with apperr.RetryAfterUnavailable —
// nothing is wrong with the request or the code, and the caller should try again shortly —
// recorded in the dependency's outage log (one WARN per outage) rather than logged per call.
func mapError(ctx context.Context, log *slog.Logger, deps []Dependency, method string, err error) error {
	if err == nil {
		return nil
	}
	st, masked := apperr.ToStatus(err)
	if !masked {
		return st.Err()
	}
	for _, d := range deps {
		if !d.IsUnavailable(err) {
			continue
		}
		if d.Outages != nil {
			d.Outages.Down(ctx, err)
		}
		unavailable := apperr.Unavailable("%s is unavailable; try again shortly", d.Name)
		unavailable.RetryAfter = apperr.RetryAfterUnavailable
		st, _ = apperr.ToStatus(unavailable)
		return st.Err()
	}
	log.ErrorContext(ctx, "internal error", "method", method, "error", err.Error())
	return st.Err()
}

func errorsUnary(log *slog.Logger, deps []Dependency) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		return resp, mapError(ctx, log, deps, info.FullMethod, err)
	}
}

func errorsStream(log *slog.Logger, deps []Dependency) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		return mapError(ss.Context(), log, deps, info.FullMethod, h(srv, ss))
	}
}

// callLogLevel is the level of a finished call's log line: a successful call is DEBUG (every
// internal call was ~1 KB at INFO; the edge's access log already has one INFO line per request),
// an Unavailable one INFO (a dependency outage is reported once, at WARN, by its outage log,
// not once per call it fails), and any other failure keeps go-grpc-middleware's level for its
// code (INFO for a caller's mistake such as NotFound, WARN or ERROR for the rest).
func callLogLevel(c codes.Code) logging.Level {
	switch c {
	case codes.OK:
		return logging.LevelDebug
	case codes.Unavailable:
		return logging.LevelInfo
	}
	return logging.DefaultServerCodeToLevel(c)
}

// slogAdapter lets go-grpc-middleware's logging interceptor write through our slog logger.
func slogAdapter(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}
