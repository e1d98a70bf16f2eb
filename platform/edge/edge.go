// Package edge carries what the REST gateway and the services tell each other beyond the proto
// messages, as gRPC metadata: the client address the gateway established (for per-IP rules in a
// service, such as login throttling), and the HTTP status a service wants for a successful
// response (201 for creations). Neither can be set by an HTTP client: the gateway forwards no
// incoming header under these names.
package edge

import (
	"context"
	"net/netip"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// ClientIPKey is the metadata key of the client address seen by the gateway.
const ClientIPKey = "x-fuzzyllama-client-ip"

// HTTPStatusKey is the response header metadata key of the wanted HTTP status.
const HTTPStatusKey = "x-fuzzyllama-http-status"

// ClientIP returns the client address the gateway forwarded or, for a direct gRPC caller, the
// TCP peer's — as the key per-client limits should use: the IPv4 address, or the IPv6 /64
// (anyone with IPv6 holds at least a /64, so a per-address limit would be no limit). "" when
// neither is known.
//
// Trust boundary: the metadata is believed from any caller, because the services' gRPC ports
// are reachable only from inside the deployment (compose network, cluster network policy);
// never expose them publicly.
func ClientIP(ctx context.Context) string {
	raw := ""
	if v := metadata.ValueFromIncomingContext(ctx, ClientIPKey); len(v) > 0 {
		raw = v[0]
	} else if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		raw = p.Addr.String()
	}
	return clientKey(raw)
}

func clientKey(raw string) string {
	if ap, err := netip.ParseAddrPort(raw); err == nil {
		raw = ap.Addr().String()
	}
	a, err := netip.ParseAddr(raw)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// SetHTTPStatus asks the gateway to answer a successful call with code instead of 200.
func SetHTTPStatus(ctx context.Context, code int) {
	// The error only means the RPC was not called through a gRPC server (a unit test): ignore.
	_ = grpc.SetHeader(ctx, metadata.Pairs(HTTPStatusKey, strconv.Itoa(code)))
}
