package gateway

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/grpcx"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
)

// stubAuth answers GetMe and GetJWKS without a database, so the benchmark measures the edge.
type stubAuth struct {
	authv1.UnimplementedAuthServiceServer
	key authn.Key
}

func (s stubAuth) GetMe(ctx context.Context, _ *authv1.GetMeRequest) (*authv1.GetMeResponse, error) {
	id, _ := authn.FromContext(ctx)
	return &authv1.GetMeResponse{User: &authv1.User{Id: id.UserID, Email: "bench@example.com", Name: "Bench"}}, nil
}

func (s stubAuth) GetJWKS(context.Context, *authv1.GetJWKSRequest) (*authv1.GetJWKSResponse, error) {
	j := s.key.PublicJWK()
	return &authv1.GetJWKSResponse{Keys: []*authv1.JSONWebKey{{Kty: j.Kty, Crv: j.Crv, X: j.X, Kid: j.Kid, Alg: j.Alg, Use: j.Use}}}, nil
}

// BenchmarkAuthenticatedRequest measures one GET /api/v1/auth/me through the whole gateway:
// request id, metrics, security headers, CORS, body limit, client IP, JWT verification with the
// revocation check (in memory), GCRA rate limiting in Redis (per IP and per user), the grpc-gateway
// mux, a loopback gRPC call into a stub service (which verifies the token again, as every
// service does) and the response envelope. Needs the test Redis.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	rdb, prefix := redistest.New(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	key, _ := authn.NewKey(make([]byte, ed25519.SeedSize))
	revocations := &authn.Revocations{Redis: rdb, Keys: prefix, Source: func(context.Context) ([]authn.Revoked, error) { return nil, nil }}
	if err := revocations.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	verifier := &authn.Verifier{Keys: authn.NewStaticKeys(key), Issuer: authn.Issuer, Audience: authn.Audience,
		Revocations: revocations, Leeway: authn.DefaultLeeway}
	srv := grpcx.NewServer(grpcx.ServerConfig{Logger: log, Authorizer: &authn.Authorizer{Verifier: verifier}})
	authv1.RegisterAuthServiceServer(srv, stubAuth{key: key})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	b.Cleanup(srv.Stop)
	conn, err := grpcx.Dial(lis.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })

	gw, err := New(context.Background(), Config{MaxBodyBytes: 1 << 20, RateLimitPerIP: 1 << 30, RateLimitAuthIP: 1 << 30,
		RateLimitPerUser: 1 << 30}, Deps{Backends: Backends{Auth: conn, Projects: conn, Documents: conn}, Redis: rdb, Keys: prefix, Logger: log,
		Registry: prometheus.NewRegistry(), Revocations: verifier.Revocations})
	if err != nil {
		b.Fatal(err)
	}
	token, _ := authn.Signer{Key: key, Issuer: authn.Issuer, Audience: authn.Audience}.
		Sign(authn.TypeAccess, "user-1", "session-1", "jti-1", time.Now(), time.Hour)

	req := httptest.NewRequest(http.MethodGet, "/api/v1/auth/me", nil)
	req.RemoteAddr = "192.0.2.10:4242"
	req.Header.Set("Authorization", "Bearer "+token)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
