package authn

import (
	"context"
	"time"

	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
)

// RemoteKeys is the key source of every process but the auth service: the auth service's JWKS,
// fetched over gRPC and cached (see JWKSCache).
func RemoteKeys(client authv1.AuthServiceClient) *JWKSCache {
	return &JWKSCache{MinRefresh: 30 * time.Second, Fetch: func(ctx context.Context) ([]JWK, error) {
		resp, err := client.GetJWKS(ctx, &authv1.GetJWKSRequest{})
		if err != nil {
			return nil, err
		}
		keys := make([]JWK, 0, len(resp.GetKeys()))
		for _, k := range resp.GetKeys() {
			keys = append(keys, JWK{Kty: k.GetKty(), Crv: k.GetCrv(), X: k.GetX(), Kid: k.GetKid(), Alg: k.GetAlg(), Use: k.GetUse()})
		}
		return keys, nil
	}}
}

// NewVerifier returns the verifier of FuzzyLlama access tokens over keys, with the shared
// revocation list.
func NewVerifier(keys KeySource, revocations *Revocations) *Verifier {
	return &Verifier{Keys: keys, Issuer: Issuer, Audience: Audience, Revocations: revocations, Leeway: DefaultLeeway}
}

// RemoteRevocations is the durable revocation list of every process but the auth service: the
// auth service's ListRevokedSessions (see Revocations.Source).
func RemoteRevocations(client authv1.AuthServiceClient) func(context.Context) ([]Revoked, error) {
	return func(ctx context.Context) ([]Revoked, error) {
		resp, err := client.ListRevokedSessions(ctx, &authv1.ListRevokedSessionsRequest{})
		if err != nil {
			return nil, err
		}
		list := make([]Revoked, 0, len(resp.GetRevoked()))
		for _, e := range resp.GetRevoked() {
			list = append(list, Revoked{UserID: e.GetUserId(), SessionID: e.GetSessionId(),
				EndedAt: e.GetEndTime().AsTime(), Expires: e.GetExpireTime().AsTime()})
		}
		return list, nil
	}
}
