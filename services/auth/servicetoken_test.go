package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
)

// TestIssueServiceToken: a service presenting the shared credential gets a delegated access
// token for an existing user, which verifies as the user with the service as actor; a wrong
// credential, an unknown user or a malformed service name get nothing.
func TestIssueServiceToken(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	const credential = "0123456789abcdef0123456789abcdef"
	svc := newService(t, rdb, "test", nil)
	svc.ServiceCredential = credential
	ctx := context.Background()
	u, _, err := svc.Register(ctx, "ada@example.com", testPassword, "Ada", clientIP)
	if err != nil {
		t.Fatal(err)
	}

	token, expiry, err := svc.IssueServiceToken(ctx, "agents", credential, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := authn.NewVerifier(svc.Keys, svc.Revocations).Verify(ctx, token, authn.TypeAccess)
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject != u.ID || claims.Actor == nil || claims.Actor.Subject != "agents" || !claims.ExpiresAt.Time.Equal(expiry.Truncate(1e9)) {
		t.Fatalf("claims = %+v (actor %+v), expiry %v", claims, claims.Actor, expiry)
	}

	_, _, err = svc.IssueServiceToken(ctx, "agents", credential[:31]+"x", u.ID)
	wantErr(t, err, apperr.KindUnauthenticated)
	svc.ServiceCredential = ""
	_, _, err = svc.IssueServiceToken(ctx, "agents", "", u.ID)
	wantErr(t, err, apperr.KindUnauthenticated)
	svc.ServiceCredential = credential
	_, _, err = svc.IssueServiceToken(ctx, "agents", credential, "no-such-user")
	wantErr(t, err, apperr.KindNotFound)
	_, _, err = svc.IssueServiceToken(ctx, "Agents\n", credential, u.ID)
	if e := wantErr(t, err, apperr.KindInvalid); !strings.Contains(e.Error(), "service") {
		t.Fatalf("error %v does not name the service field", e)
	}
}
