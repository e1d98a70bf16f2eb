package authn

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Algorithm is the only JWT signing algorithm FuzzyLlama issues or accepts.
const Algorithm = "EdDSA"

// Key is an Ed25519 signing key with its key id.
type Key struct {
	ID      string
	Private ed25519.PrivateKey
	Public  ed25519.PublicKey
}

// NewKey derives a key from a 32-byte Ed25519 seed.
func NewKey(seed []byte) (Key, error) {
	if len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("an Ed25519 seed is %d bytes, got %d", ed25519.SeedSize, len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	return Key{ID: Thumbprint(pub), Private: priv, Public: pub}, nil
}

// ParseSeed decodes a base64 (standard or URL alphabet, padded or not) Ed25519 seed, as given
// in configuration.
func ParseSeed(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != ed25519.SeedSize {
				return nil, fmt.Errorf("must decode to %d bytes, got %d", ed25519.SeedSize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("must be base64")
}

// Thumbprint is the RFC 7638 JWK thumbprint of an Ed25519 public key (RFC 8037 §2), used as kid.
func Thumbprint(pub ed25519.PublicKey) string {
	// Members in lexicographic order, no whitespace, as RFC 7638 requires.
	canonical := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// JWK is the public half of a key in RFC 7517/8037 form.
type JWK struct {
	Kty, Crv, X, Kid, Alg, Use string
}

// PublicJWK returns the key's public JWK.
func (k Key) PublicJWK() JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.Public), Kid: k.ID, Alg: Algorithm, Use: "sig"}
}

// PublicKey decodes and checks a JWK; the kid must be the key's thumbprint.
func (j JWK) PublicKey() (ed25519.PublicKey, error) {
	if j.Kty != "OKP" || j.Crv != "Ed25519" {
		return nil, fmt.Errorf("jwk %q: unsupported key type %s/%s", j.Kid, j.Kty, j.Crv)
	}
	x, err := base64.RawURLEncoding.DecodeString(j.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("jwk %q: malformed x", j.Kid)
	}
	pub := ed25519.PublicKey(x)
	if Thumbprint(pub) != j.Kid {
		return nil, fmt.Errorf("jwk %q: kid is not the key's thumbprint", j.Kid)
	}
	return pub, nil
}

// KeySource resolves the public key a token's kid names.
type KeySource interface {
	PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error)
}

// ErrUnknownKey is returned for a kid no source knows.
var ErrUnknownKey = errors.New("unknown signing key")

// ErrKeysUnavailable is returned when the published keys cannot be fetched: the token may be
// fine, so callers answer Unavailable, not Unauthenticated.
var ErrKeysUnavailable = errors.New("signing keys unavailable")

// StaticKeys is a fixed KeySource: the auth service verifies with the keys it holds.
type StaticKeys map[string]ed25519.PublicKey

// NewStaticKeys indexes keys by id.
func NewStaticKeys(keys ...Key) StaticKeys {
	m := StaticKeys{}
	for _, k := range keys {
		m[k.ID] = k.Public
	}
	return m
}

// PublicKey implements KeySource.
func (s StaticKeys) PublicKey(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

// JWKSCache is a KeySource over a published key set (the auth service's GetJWKS). Keys are
// fetched on first use and again when a token names a kid the cache does not know — that is how
// a rotated-in key is picked up — but at most once per MinRefresh after a fetch that worked, so
// forged kids cannot turn into a flood of fetches. A fetch that failed holds the next one back
// only for RetryAfterFailure (1 s by default): while the auth service is down, at most one
// fetch a second is tried, and the keys are there within about a second of its return (a
// failure counted as a fetch held every request at 503 for MinRefresh, 30 s, after an outage).
// Concurrent misses share one fetch.
type JWKSCache struct {
	Fetch      func(ctx context.Context) ([]JWK, error)
	MinRefresh time.Duration
	// RetryAfterFailure is how long a failed fetch holds the next attempt back; zero means
	// DefaultKeysRetry. It is never longer than MinRefresh.
	RetryAfterFailure time.Duration

	mu        sync.RWMutex
	keys      map[string]ed25519.PublicKey
	fetchedAt time.Time // of the last fetch that worked
	failedAt  time.Time // of the last fetch that failed, zero once one works
	lastErr   error     // of that failed fetch
	group     singleflight.Group
}

// DefaultKeysRetry is how long a failed key fetch holds the next attempt back.
const DefaultKeysRetry = time.Second

func (c *JWKSCache) retryAfter() time.Duration {
	d := c.RetryAfterFailure
	if d <= 0 {
		d = DefaultKeysRetry
	}
	return min(d, c.MinRefresh)
}

// PublicKey implements KeySource.
func (c *JWKSCache) PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	c.mu.RLock()
	k, ok := c.keys[kid]
	fresh := c.keys != nil && time.Since(c.fetchedAt) < c.MinRefresh
	backoff, lastErr := !c.failedAt.IsZero() && time.Since(c.failedAt) < c.retryAfter(), c.lastErr
	c.mu.RUnlock()
	switch {
	case ok:
		return k, nil
	case fresh:
		return nil, ErrUnknownKey
	case backoff:
		// The last fetch failed a moment ago: the kid may be a rotated-in key, so the token may
		// be fine (Unavailable, not Unauthenticated).
		return nil, fmt.Errorf("%w: %v", ErrKeysUnavailable, lastErr)
	}
	if err := c.fetch(ctx); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if k, ok := c.keys[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

// Loaded reports whether the key set has been fetched at least once: until then every token
// check answers ErrKeysUnavailable.
func (c *JWKSCache) Loaded() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.keys != nil
}

// Ready is nil once the key set has been fetched; until then it tries a fetch (at most one
// per RetryAfterFailure, shared with the token checks waiting for one) and answers its error.
// A process's readiness check calls it, which also loads the keys before the first request.
func (c *JWKSCache) Ready(ctx context.Context) error {
	c.mu.RLock()
	loaded := c.keys != nil
	backoff, lastErr := !c.failedAt.IsZero() && time.Since(c.failedAt) < c.retryAfter(), c.lastErr
	c.mu.RUnlock()
	switch {
	case loaded:
		return nil
	case backoff:
		return fmt.Errorf("%w: %v", ErrKeysUnavailable, lastErr)
	}
	return c.fetch(ctx)
}

// fetch refreshes the key set, sharing a fetch under way. The fetch is shared by every waiting
// caller, so it must not die with the first caller's context; it gets its own deadline instead,
// and a caller whose context ends stops waiting for it.
func (c *JWKSCache) fetch(ctx context.Context) error {
	ch := c.group.DoChan("fetch", func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return nil, c.refresh(fctx)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return fmt.Errorf("%w: %v", ErrKeysUnavailable, res.Err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %v", ErrKeysUnavailable, ctx.Err())
	}
}

func (c *JWKSCache) refresh(ctx context.Context) error {
	jwks, err := c.Fetch(ctx)
	if err != nil {
		// A failed attempt holds the next one back briefly (see RetryAfterFailure), so that
		// while the auth service is down unknown kids do not turn every request into a fetch;
		// it does not count as a fetch, so the keys are fetched again soon after it is back.
		c.mu.Lock()
		c.failedAt, c.lastErr = time.Now(), err
		c.mu.Unlock()
		return err
	}
	keys := make(map[string]ed25519.PublicKey, len(jwks))
	for _, j := range jwks {
		pub, err := j.PublicKey()
		if err != nil {
			continue // one bad key must not lock out the others
		}
		keys[j.Kid] = pub
	}
	c.mu.Lock()
	c.keys, c.fetchedAt, c.failedAt, c.lastErr = keys, time.Now(), time.Time{}, nil
	c.mu.Unlock()
	return nil
}
