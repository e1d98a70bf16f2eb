// Package edge carries what the REST gateway and the services tell each other beyond the proto
// messages, as gRPC metadata: the client address the gateway established (for per-IP rules in a
// service, such as login throttling), and the HTTP status a service wants for a successful
// response (201 for creations). Neither can be set by an HTTP client: the gateway forwards no
// incoming header under these names.
package edge

import (
	"context"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// ClientIPKey is the metadata key of the client address seen by the gateway.
const ClientIPKey = "x-fuzzyllama-client-ip"

// HTTPStatusKey is the response header metadata key of the wanted HTTP status.
const HTTPStatusKey = "x-fuzzyllama-http-status"

// ClientIP returns the client address the gateway forwarded, or "" for direct gRPC callers.
func ClientIP(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(ClientIPKey); len(v) > 0 {
		return v[0]
	}
	return ""
}

// SetHTTPStatus asks the gateway to answer a successful call with code instead of 200.
func SetHTTPStatus(ctx context.Context, code int) {
	// The error only means the RPC was not called through a gRPC server (a unit test): ignore.
	_ = grpc.SetHeader(ctx, metadata.Pairs(HTTPStatusKey, strconv.Itoa(code)))
}
