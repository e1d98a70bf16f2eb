package grpcx

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"

	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/requestid"
)

// maxResponseBytes bounds one response a client accepts.
const maxResponseBytes = 64 << 20

// reconnect is how a client retries a backend it lost. grpc-go's default backoff (1 s, ×1.6,
// up to 120 s) left the gateway cut off from a projects service that had been back for seconds
// (1.8 s after a 3 s outage, 15.5 s after a 30 s one). Capped at 400 ms with ±20 % jitter, the
// next attempt after a backend's return is at most 0.48 s away, whatever the outage's length, so
// the gateway reaches a returning backend within a second even on a loaded machine; the price is
// at most ~2.5 connection attempts a second per client to a backend that is down, each refused
// in microseconds. An attempt gets MinConnectTimeout (20 s by default) before
// giving up on a peer that does not answer at all: 2 s is ample between services on one network
// and keeps a dead address from holding the next attempt back.
var reconnect = grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 400 * time.Millisecond},
	MinConnectTimeout: 2 * time.Second,
}

// clientKeepalive pings an idle connection every 10 s (the server allows it: see
// keepaliveEnforcement), so a backend that vanished without closing the connection is noticed
// within 15 s rather than when a call hangs on it.
var clientKeepalive = keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}

// Dial returns a client connection to another FuzzyLlama service at target (host:port, or any
// gRPC target such as dns:///auth:9090). The connection propagates the trace context, the
// request id and the caller's identity. Transport security between services is the deployment's (a mesh or private
// network); the services still verify every caller's token themselves.
//
// It reconnects to a lost backend within a second of its return (reconnect) and notices a dead
// one through keepalive pings. Calls fail fast (gRPC's default, not wait-for-ready): a call made
// while the backend is unreachable fails at once with Unavailable, which the gateway answers as
// 503 with Retry-After, rather than holding the request, its goroutine and the client's
// patience for an outage of unknown length. A call made while the connection is being
// (re)established still waits for that attempt, so a backend that is already back is reached
// by the very next call. Callers that can wait out a blip retry on their own terms (the agents'
// background work does).
func Dial(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(reconnect),
		grpc.WithKeepaliveParams(clientKeepalive),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		// Lists (a project's tasks, a gate with its proofs) can outgrow gRPC's 4 MiB default.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxResponseBytes)),
		grpc.WithChainUnaryInterceptor(propagateUnary),
		grpc.WithChainStreamInterceptor(propagateStream),
	}, opts...)
	cc, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	return cc, nil
}

// propagate adds to an outgoing call what the callee needs from the request being served: its
// request id, and the verified caller's access token, so that a service calling another on a
// user's behalf is authorised as that user (each service verifies it again).
func propagate(ctx context.Context) context.Context {
	md, _ := metadata.FromOutgoingContext(ctx)
	if id := requestid.FromContext(ctx); id != "" && len(md.Get(requestid.MetadataKey)) == 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, requestid.MetadataKey, id)
	}
	if who, ok := authn.FromContext(ctx); ok && who.Token != "" && len(md.Get("authorization")) == 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+who.Token)
	}
	return ctx
}

func propagateUnary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return invoker(propagate(ctx), method, req, reply, cc, opts...)
}

func propagateStream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return streamer(propagate(ctx), desc, cc, method, opts...)
}
