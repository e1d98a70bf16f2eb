package grpcx

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/platform/authn"
)

// serveAt starts a NewServer on addr ("127.0.0.1:0" for any port) and returns it with the
// address it listens on.
func serveAt(t *testing.T, addr string) (*Server, string) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := NewServer(ServerConfig{Logger: log, Authorizer: &authn.Authorizer{Logger: log}})
	s.Serving(nil)
	go func() { _ = s.Serve(lis) }()
	return s, lis.Addr().String()
}

// waitFor waits, through the connectivity state API, until conn is in state want.
func waitFor(ctx context.Context, t *testing.T, conn *grpc.ClientConn, want connectivity.State) {
	t.Helper()
	for s := conn.GetState(); s != want; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			t.Fatalf("connection still %v, want %v: %v", s, want, ctx.Err())
		}
	}
}

// TestClientReconnectsAfterServerRestart: a backend stopped and started again on the same
// address is reached again by the client on its own, without a call to wake it, because the
// client keeps trying several times a second while the backend is away. With grpc-go's default
// backoff (1 s growing to 120 s) the attempts below would take 16 s, past the test's deadline;
// the reconnect time itself is measured against real processes by the fault suite
// (cmd/fuzzyllama/faults).
func TestClientReconnectsAfterServerRestart(t *testing.T) {
	srv, addr := serveAt(t, "127.0.0.1:0")
	var dials atomic.Int32
	conn, err := Dial(addr, grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, "tcp", a)
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	waitFor(ctx, t, conn, connectivity.Idle)
	// A call while the backend is away fails at once with Unavailable (fail fast), which the
	// gateway answers as 503 with Retry-After.
	if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("call while the server is down: %v, want Unavailable", err)
	}
	// With no further call, the client keeps trying: six attempts, ~1.2 s with our backoff.
	before := dials.Load()
	for dials.Load() < before+6 {
		select {
		case <-ctx.Done():
			t.Fatalf("the client made %d connection attempts while the server was down, want 6 before the deadline", dials.Load()-before)
		case <-time.After(10 * time.Millisecond):
		}
	}

	restarted, _ := serveAt(t, addr)
	defer restarted.Stop()
	waitFor(ctx, t, conn, connectivity.Ready) // reconnected on its own
	if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("call after the restart: %v", err)
	}
}

// TestSetServingFollowsDependency: the health status callers see follows SetServing, for the
// server as a whole and for each registered service.
func TestSetServingFollowsDependency(t *testing.T) {
	srv, addr := serveAt(t, "127.0.0.1:0")
	defer srv.Stop()
	conn, err := Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	check := func(service string) healthpb.HealthCheckResponse_ServingStatus {
		resp, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetStatus()
	}
	const registered = "grpc.health.v1.Health"
	for _, up := range []bool{false, true} {
		srv.SetServing(up)
		want := healthpb.HealthCheckResponse_NOT_SERVING
		if up {
			want = healthpb.HealthCheckResponse_SERVING
		}
		if got := check(""); got != want {
			t.Errorf("SetServing(%v): server status %v", up, got)
		}
		if got := check(registered); got != want {
			t.Errorf("SetServing(%v): %s status %v", up, registered, got)
		}
	}
}
