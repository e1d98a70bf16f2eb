package agents

import (
	"io"
	"log/slog"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/grpcx"
)

// TestEveryRPCDeclaresAnAccessPolicy: the authorizer refuses methods without a policy, so a new
// RPC without one would be unreachable; this catches it before a user does.
func TestEveryRPCDeclaresAnAccessPolicy(t *testing.T) {
	srv := grpcx.NewServer(grpcx.ServerConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Authorizer: &authn.Authorizer{}})
	RegisterGRPC(srv, &Service{})
	if missing := authn.MissingPolicies(srv.Server); len(missing) > 0 {
		t.Fatalf("RPCs without an access policy: %v", missing)
	}
	if n := len(srv.GetServiceInfo()["fuzzyllama.agents.v1.AgentsService"].Methods); n != 14 {
		t.Fatalf("AgentsService has %d methods", n)
	}
}
