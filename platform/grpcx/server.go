// Package grpcx builds the gRPC servers and client connections of every FuzzyLlama service, so
// that all of them share one interceptor chain, one error model and one way to dial each other.
package grpcx

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/requestid"
)

// ServerConfig is what every service's gRPC server needs.
type ServerConfig struct {
	Logger     *slog.Logger
	Metrics    *prometheus.ServerMetrics // shared by every server of the process; may be nil
	Authorizer *authn.Authorizer
	// MaxRecvBytes is the largest request the server accepts; 0 keeps gRPC's 4 MiB.
	MaxRecvBytes int
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
//  6. error mapping: domain errors become statuses with details; anything unexpected is logged
//     and masked as Internal, so internals never reach a caller.
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
		errorsUnary(cfg.Logger),
		recovery.UnaryServerInterceptor(recoverOpts...),
	)
	stream = append(stream,
		cfg.Authorizer.StreamInterceptor(),
		errorsStream(cfg.Logger),
		recovery.StreamServerInterceptor(recoverOpts...),
	)
	opts := []grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
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

// Serving marks every registered service SERVING in the health service and initialises the
// per-method metrics so dashboards show zeros instead of gaps.
func (s *Server) Serving(metrics *prometheus.ServerMetrics) {
	for name := range s.GetServiceInfo() {
		s.Health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	s.Health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	if metrics != nil {
		metrics.InitializeMetrics(s.Server)
	}
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

func mapError(ctx context.Context, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	st, masked := apperr.ToStatus(err)
	if masked {
		log.ErrorContext(ctx, "internal error", "method", method, "error", err.Error())
	}
	return st.Err()
}

func errorsUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		return resp, mapError(ctx, log, info.FullMethod, err)
	}
}

func errorsStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		return mapError(ss.Context(), log, info.FullMethod, h(srv, ss))
	}
}

// callLogLevel is the level of a finished call's log line: a successful call is DEBUG (every
// internal call was ~1 KB at INFO; the edge's access log already has one INFO line per request),
// a failed one keeps go-grpc-middleware's level for its code (INFO for a caller's mistake such as
// NotFound, WARN or ERROR for the rest).
func callLogLevel(c codes.Code) logging.Level {
	if c == codes.OK {
		return logging.LevelDebug
	}
	return logging.DefaultServerCodeToLevel(c)
}

// slogAdapter lets go-grpc-middleware's logging interceptor write through our slog logger.
func slogAdapter(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}
