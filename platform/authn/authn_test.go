package authn

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
)

func testKey(t *testing.T) Key {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	_, _ = rand.Read(seed)
	k, err := NewKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestJWKSCachePicksUpRotatedKeys: an unknown kid triggers one refetch (how a rotated-in key is
// learnt), but forged kids cannot make the cache fetch more than once per MinRefresh.
func TestJWKSCachePicksUpRotatedKeys(t *testing.T) {
	k1, k2 := testKey(t), testKey(t)
	published := []JWK{k1.PublicJWK()}
	var fetches atomic.Int32
	c := &JWKSCache{MinRefresh: time.Hour, Fetch: func(context.Context) ([]JWK, error) {
		fetches.Add(1)
		return published, nil
	}}
	ctx := context.Background()
	if _, err := c.PublicKey(ctx, k1.ID); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if _, err := c.PublicKey(ctx, "forged-kid"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("forged kid: %v", err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	published = append(published, k2.PublicJWK())
	c.MinRefresh = 0
	if got, err := c.PublicKey(ctx, k2.ID); err != nil || !got.Equal(k2.Public) {
		t.Fatalf("rotated key not learnt: %v", err)
	}
}

// TestJWKSCacheRetriesSoonAfterAFailedFetch: a fetch that failed (the auth service down) must
// not count as a fetch: once the service is back the keys are fetched within about a second,
// not MinRefresh later (every request was 503 for 30 s after an outage). Meanwhile repeated
// checks do not each fetch, and Loaded/Ready tell readiness whether keys are there.
func TestJWKSCacheRetriesSoonAfterAFailedFetch(t *testing.T) {
	k := testKey(t)
	var down atomic.Bool
	var fetches atomic.Int32
	down.Store(true)
	c := &JWKSCache{MinRefresh: 30 * time.Second, Fetch: func(context.Context) ([]JWK, error) {
		fetches.Add(1)
		if down.Load() {
			return nil, errors.New("connection refused")
		}
		return []JWK{k.PublicJWK()}, nil
	}}
	ctx := context.Background()
	if _, err := c.PublicKey(ctx, k.ID); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("auth down: %v, want ErrKeysUnavailable", err)
	}
	if err := c.Ready(ctx); !errors.Is(err, ErrKeysUnavailable) || c.Loaded() {
		t.Fatalf("auth down: Ready %v, Loaded %v", err, c.Loaded())
	}
	for range 50 { // a burst right after the failure waits for the backoff
		if _, err := c.PublicKey(ctx, k.ID); !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("auth down: %v", err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches within the backoff, want 1", n)
	}
	down.Store(false)
	time.Sleep(DefaultKeysRetry + 100*time.Millisecond)
	if got, err := c.PublicKey(ctx, k.ID); err != nil || !got.Equal(k.Public) {
		t.Fatalf("auth back for a second: %v, want the key", err)
	}
	if err := c.Ready(ctx); err != nil || !c.Loaded() {
		t.Fatalf("loaded: Ready %v, Loaded %v", err, c.Loaded())
	}
}

// TestJWKSCacheReadyLoadsTheKeys: readiness loads the keys itself (no request reaches a pod that
// is not ready), once it can.
func TestJWKSCacheReadyLoadsTheKeys(t *testing.T) {
	k := testKey(t)
	var fetches atomic.Int32
	c := &JWKSCache{MinRefresh: 30 * time.Second, Fetch: func(context.Context) ([]JWK, error) {
		fetches.Add(1)
		return []JWK{k.PublicJWK()}, nil
	}}
	if c.Loaded() {
		t.Fatal("loaded before any fetch")
	}
	if err := c.Ready(context.Background()); err != nil || !c.Loaded() {
		t.Fatalf("Ready %v, Loaded %v", err, c.Loaded())
	}
	if _, err := c.PublicKey(context.Background(), k.ID); err != nil || fetches.Load() != 1 {
		t.Fatalf("%v after %d fetches", err, fetches.Load())
	}
}

func TestVerifierChecksTypeIssuerAndExpiry(t *testing.T) {
	k := testKey(t)
	s := Signer{Key: k, Issuer: Issuer, Audience: Audience}
	v := &Verifier{Keys: NewStaticKeys(k), Issuer: Issuer, Audience: Audience}
	ctx, now := context.Background(), time.Now()
	access, _ := s.Sign(TypeAccess, "u1", "s1", "j1", now, time.Minute)
	if c, err := v.Verify(ctx, access, TypeAccess); err != nil || c.Subject != "u1" || c.SessionID != "s1" {
		t.Fatalf("valid token: %v %+v", err, c)
	}
	if _, err := v.Verify(ctx, access, TypeRefresh); !errors.Is(err, ErrWrongType) {
		t.Fatalf("access as refresh: %v", err)
	}
	expired, _ := s.Sign(TypeAccess, "u1", "s1", "j1", now.Add(-time.Hour), time.Minute)
	if _, err := v.Verify(ctx, expired, TypeAccess); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	other, _ := Signer{Key: k, Issuer: "someone-else", Audience: Audience}.Sign(TypeAccess, "u1", "s1", "j1", now, time.Minute)
	if _, err := v.Verify(ctx, other, TypeAccess); !errors.Is(err, ErrInvalid) {
		t.Fatalf("foreign issuer: %v", err)
	}
	if _, err := v.Verify(ctx, "a.b.c", TypeAccess); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestThumbprintIsRFC7638(t *testing.T) {
	// RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
	pub := []byte{0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
		0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a}
	if got := Thumbprint(pub); got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Fatalf("thumbprint %s", got)
	}
}

// BenchmarkVerify is the CPU cost of verifying one access token (no revocation check): the
// first time a process sees it (Ed25519 signature), and again (remembered).
func BenchmarkVerify(b *testing.B) {
	seed := make([]byte, ed25519.SeedSize)
	k, _ := NewKey(seed)
	tok, _ := Signer{Key: k, Issuer: Issuer, Audience: Audience}.Sign(TypeAccess, "u", "s", "j", time.Now(), time.Hour)
	ctx := context.Background()
	b.Run("first-sight", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v := &Verifier{Keys: NewStaticKeys(k), Issuer: Issuer, Audience: Audience}
			if _, err := v.Verify(ctx, tok, TypeAccess); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("remembered", func(b *testing.B) {
		v := &Verifier{Keys: NewStaticKeys(k), Issuer: Issuer, Audience: Audience}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, tok, TypeAccess); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestVerifiedTokensAreRememberedButStillExpire: a second Verify of the same token skips the
// signature, but expiry and the token type are still enforced.
func TestVerifiedTokensAreRememberedButStillExpire(t *testing.T) {
	k := testKey(t)
	now := time.Now()
	v := &Verifier{Keys: NewStaticKeys(k), Issuer: Issuer, Audience: Audience, Now: func() time.Time { return now }}
	tok, _ := Signer{Key: k, Issuer: Issuer, Audience: Audience}.Sign(TypeAccess, "u", "s", "j", now, time.Minute)
	if _, err := v.Verify(context.Background(), tok, TypeAccess); err != nil {
		t.Fatal(err)
	}
	v.Keys = StaticKeys{} // a cache hit must not need the key
	if _, err := v.Verify(context.Background(), tok, TypeAccess); err != nil {
		t.Fatalf("remembered token: %v", err)
	}
	if _, err := v.Verify(context.Background(), tok, TypeRefresh); err == nil {
		t.Fatal("remembered access token accepted as a refresh token")
	}
	now = now.Add(2 * time.Minute)
	if _, err := v.Verify(context.Background(), tok, TypeAccess); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired remembered token: %v", err)
	}
}

// TestDelegatedTokens: a delegated token verifies as its user with the service as actor; a token
// whose actor and session id disagree (one forged into looking delegated, or the reverse) is
// refused.
func TestDelegatedTokens(t *testing.T) {
	k := testKey(t)
	s := Signer{Key: k, Issuer: Issuer, Audience: Audience}
	v := &Verifier{Keys: NewStaticKeys(k), Issuer: Issuer, Audience: Audience}
	ctx, now := context.Background(), time.Now()
	tok, err := s.SignDelegated("u1", "agents", "j1", now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(ctx, tok, TypeAccess)
	if err != nil || c.Subject != "u1" || c.Actor == nil || c.Actor.Subject != "agents" || c.SessionID != "svc:agents" {
		t.Fatalf("delegated token: %v %+v", err, c)
	}
	// A user's session id may not start like a service's, and an actor needs the matching one.
	for name, claims := range map[string]Claims{
		"service session without actor": s.claims("u1", "svc:agents", "j2", now, time.Minute),
		"actor without service session": func() Claims {
			c := s.claims("u1", "s1", "j3", now, time.Minute)
			c.Actor = &Actor{Subject: "agents"}
			return c
		}(),
		"actor of another service": func() Claims {
			c := s.claims("u1", "svc:documents", "j4", now, time.Minute)
			c.Actor = &Actor{Subject: "agents"}
			return c
		}(),
	} {
		tok, err := s.sign(TypeAccess, claims)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, tok, TypeAccess); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

// TestServicePolicyNeedsADelegatedToken: an ACCESS_SERVICE method refuses a user's own token and
// takes a service's; ACCESS_USER methods take both, and the identity says which it was.
func TestServicePolicyNeedsADelegatedToken(t *testing.T) {
	k := testKey(t)
	s := Signer{Key: k, Issuer: Issuer, Audience: Audience}
	a := &Authorizer{Verifier: &Verifier{Keys: NewStaticKeys(k), Issuer: Issuer, Audience: Audience}}
	now := time.Now()
	user, _ := s.Sign(TypeAccess, "u1", "s1", "j1", now, time.Minute)
	delegated, _ := s.SignDelegated("u1", "agents", "j2", now, time.Minute)
	with := func(tok string) context.Context {
		return metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+tok))
	}
	a.cache.Store("/x.Svc/Service", commonv1.Access_ACCESS_SERVICE)
	a.cache.Store("/x.Svc/User", commonv1.Access_ACCESS_USER)

	if _, err := a.Authorize(with(user), "/x.Svc/Service"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("user token on a service method: %v", err)
	}
	ctx, err := a.Authorize(with(delegated), "/x.Svc/Service")
	if id, _ := FromContext(ctx); err != nil || !id.Delegated() || id.Actor != "agents" || id.UserID != "u1" {
		t.Fatalf("delegated token on a service method: %v %+v", err, id)
	}
	ctx, err = a.Authorize(with(user), "/x.Svc/User")
	if id, _ := FromContext(ctx); err != nil || id.Delegated() {
		t.Fatalf("user token on a user method: %v %+v", err, id)
	}
	if _, err := a.Authorize(with(delegated), "/x.Svc/User"); err != nil {
		t.Fatalf("delegated token on a user method: %v", err)
	}
}

// noncanonical returns seg (base64url, unpadded) with one of the unused low bits of its last
// character set, so that a lenient decoder yields the same bytes; ok is false when seg has no
// unused bits.
func noncanonical(seg string) (string, bool) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 != 2 && len(seg)%4 != 3 {
		return "", false
	}
	i := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[i|1]), true
}

// TestVerifierDecodesSegmentsStrictly: a token whose header, claims or signature differs only in
// the unused bits of its last base64url character is a different token and must not verify.
func TestVerifierDecodesSegmentsStrictly(t *testing.T) {
	k := testKey(t)
	s := Signer{Key: k, Issuer: Issuer, Audience: Audience}
	v := &Verifier{Keys: NewStaticKeys(k), Issuer: Issuer, Audience: Audience}
	ctx := context.Background()
	tested := 0
	for i := 0; i < 20; i++ { // token lengths vary with the ids; cover each segment at least once
		tok, err := s.Sign(TypeAccess, "user-"+strings.Repeat("x", i), "s1", "j1", time.Now(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, tok, TypeAccess); err != nil {
			t.Fatalf("valid token: %v", err)
		}
		parts := strings.Split(tok, ".")
		for seg := range parts {
			alt, ok := noncanonical(parts[seg])
			if !ok {
				continue
			}
			forged := append([]string(nil), parts...)
			forged[seg] = alt
			if _, err := v.Verify(ctx, strings.Join(forged, "."), TypeAccess); err == nil {
				t.Fatalf("segment %d with non-zero unused bits verified", seg)
			}
			tested++
		}
	}
	if tested == 0 {
		t.Fatal("no segment had unused bits")
	}
}

// TestExpiryHasNoLeeway pins the decision in ARCHITECTURE.md "Identity": a token is refused from
// the instant of its exp, on first sight and when remembered; only iat and nbf tolerate
// DefaultLeeway, so a verifier whose clock is slightly behind the auth service still accepts a
// token issued a moment ago.
func TestExpiryHasNoLeeway(t *testing.T) {
	k := testKey(t)
	issued := time.Now().Truncate(time.Second)
	tok, _ := Signer{Key: k, Issuer: Issuer, Audience: Audience}.Sign(TypeAccess, "u", "s", "j", issued, time.Minute)
	exp := issued.Add(time.Minute)
	ctx := context.Background()
	at := func(now time.Time) *Verifier {
		return &Verifier{Keys: NewStaticKeys(k), Issuer: Issuer, Audience: Audience, Leeway: DefaultLeeway, Now: func() time.Time { return now }}
	}
	if _, err := at(issued.Add(-DefaultLeeway/2)).Verify(ctx, tok, TypeAccess); err != nil {
		t.Fatalf("token issued just ahead of the verifier's clock: %v", err)
	}
	if _, err := at(exp.Add(-time.Millisecond)).Verify(ctx, tok, TypeAccess); err != nil {
		t.Fatalf("token just before its exp: %v", err)
	}
	for _, late := range []time.Duration{0, time.Millisecond, time.Second, 2 * time.Second} {
		if _, err := at(exp.Add(late)).Verify(ctx, tok, TypeAccess); !errors.Is(err, ErrExpired) {
			t.Fatalf("token %v past its exp: %v", late, err)
		}
	}
	now := issued
	v := &Verifier{Keys: NewStaticKeys(k), Issuer: Issuer, Audience: Audience, Leeway: DefaultLeeway, Now: func() time.Time { return now }}
	if _, err := v.Verify(ctx, tok, TypeAccess); err != nil {
		t.Fatal(err)
	}
	now = exp
	if _, err := v.Verify(ctx, tok, TypeAccess); !errors.Is(err, ErrExpired) {
		t.Fatalf("remembered token at its exp: %v", err)
	}
}
