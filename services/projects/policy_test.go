package projects

import (
	"io"
	"log/slog"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/grpcx"
)

func TestEveryRPCDeclaresAnAccessPolicy(t *testing.T) {
	srv := grpcx.NewServer(grpcx.ServerConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Authorizer: &authn.Authorizer{}})
	RegisterGRPC(srv, &Service{})
	if missing := authn.MissingPolicies(srv.Server); len(missing) > 0 {
		t.Fatalf("RPCs without an access policy: %v", missing)
	}
}
