package grpcx

import (
	"context"
	"fmt"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/requestid"
)

// maxResponseBytes bounds one response a client accepts.
const maxResponseBytes = 64 << 20

// Dial returns a client connection to another FuzzyLlama service at target (host:port, or any
// gRPC target such as dns:///auth:9090). The connection propagates the trace context, the
// request id and the caller's identity. Transport security between services is the deployment's (a mesh or private
// network); the services still verify every caller's token themselves.
func Dial(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
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
