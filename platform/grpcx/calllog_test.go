package grpcx

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/logging/logtest"
)

// callWithLogs serves a NewServer at level and makes one health check for service; it returns
// the call's error and the log lines written.
func callWithLogs(t *testing.T, level slog.Level, service string) (error, []map[string]any) {
	t.Helper()
	var logs logtest.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: level}))
	s := NewServer(ServerConfig{Logger: log, Authorizer: &authn.Authorizer{Logger: log}})
	s.Health.SetServingStatus("known", healthpb.HealthCheckResponse_SERVING)
	lis := bufconn.Listen(1 << 20)
	go func() { _ = s.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	_, callErr := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
	_ = conn.Close()
	s.GracefulStop() // the call log is written before the call returns; this also waits for it
	return callErr, logs.Records()
}

// TestSuccessfulCallsAreNotLoggedAtInfo: a successful internal call writes nothing at INFO (its
// line is DEBUG), while a failed one is still logged as before.
func TestSuccessfulCallsAreNotLoggedAtInfo(t *testing.T) {
	err, lines := callWithLogs(t, slog.LevelInfo, "known")
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 0 {
		t.Fatalf("a successful call logged at INFO: %v", lines)
	}

	err, lines = callWithLogs(t, slog.LevelDebug, "known")
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0]["level"] != "DEBUG" || lines[0]["grpc.code"] != "OK" {
		t.Fatalf("want one DEBUG line for the successful call, got %v", lines)
	}

	err, lines = callWithLogs(t, slog.LevelInfo, "unknown")
	if status.Code(err) != codes.NotFound {
		t.Fatalf("unknown service: %v", err)
	}
	if len(lines) != 1 || lines[0]["level"] != "INFO" || lines[0]["grpc.code"] != "NotFound" {
		t.Fatalf("want the failed call logged as before (INFO for NotFound), got %v", lines)
	}
}

// TestCallLogLevels: success is DEBUG, Unavailable INFO (its outage is reported once, by the
// outage log); other failures keep their WARN/ERROR levels.
func TestCallLogLevels(t *testing.T) {
	for c, want := range map[codes.Code]slog.Level{
		codes.OK: slog.LevelDebug, codes.NotFound: slog.LevelInfo,
		codes.Unavailable: slog.LevelInfo, codes.PermissionDenied: slog.LevelWarn,
		codes.Internal: slog.LevelError, codes.Unknown: slog.LevelError,
	} {
		if got := slog.Level(callLogLevel(c)); got != want {
			t.Errorf("%v logged at %v, want %v", c, got, want)
		}
	}
}
