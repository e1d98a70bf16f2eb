// Package authn issues and verifies FuzzyLlama's Ed25519-signed JWTs, carries the verified
// identity through contexts, and enforces the per-RPC access policy declared in the protos.
//
// Two token types exist and are never interchangeable: access tokens (JOSE header typ
// "at+jwt", RFC 9068) authorise API calls for AccessTTL; refresh tokens (typ "rt+jwt") are only
// accepted by the auth service's Refresh RPC. Both carry the session id (sid) they belong to, so
// ending a session revokes its access tokens too (see Revocations).
package authn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types, carried in the JOSE "typ" header.
const (
	TypeAccess  = "at+jwt"
	TypeRefresh = "rt+jwt"
)

// Issuer and Audience of every FuzzyLlama token.
const (
	Issuer   = "fuzzyllama-auth"
	Audience = "fuzzyllama-api"
)

// DefaultLeeway is the clock skew tolerated on a token's issued-at and not-before times, so a
// verifier whose clock is slightly behind the auth service's accepts a token issued a moment
// ago. Expiry has no leeway: a token is refused from the instant of its exp (see
// ARCHITECTURE.md "Identity"). Processes of one deployment keep their clocks within well under
// a second of each other, and every token comes from the same auth service.
const DefaultLeeway = 1 * time.Second

// Claims are the claims of every FuzzyLlama token.
type Claims struct {
	jwt.RegisteredClaims
	// SessionID is the login session (refresh-token family) the token belongs to.
	SessionID string `json:"sid"`
	// Actor is set on a delegated token: the FuzzyLlama service acting for the subject in
	// background work (RFC 8693 §4.1 "act" claim).
	Actor *Actor `json:"act,omitempty"`
}

// Actor names who acts for a token's subject.
type Actor struct {
	Subject string `json:"sub"`
}

// ServiceSessionPrefix begins the session id of every delegated token, which belongs to no
// login session: "svc:" plus the service name.
const ServiceSessionPrefix = "svc:"

// Signer signs tokens with the current key.
type Signer struct {
	Key      Key
	Issuer   string
	Audience string
}

// Sign returns a signed token of the given type for subject, session and token id, valid from
// now for ttl.
func (s Signer) Sign(typ, subject, sessionID, tokenID string, now time.Time, ttl time.Duration) (string, error) {
	return s.sign(typ, s.claims(subject, sessionID, tokenID, now, ttl))
}

// SignDelegated returns an access token for subject on which service acts (see Actor), valid
// from now for ttl.
func (s Signer) SignDelegated(subject, service, tokenID string, now time.Time, ttl time.Duration) (string, error) {
	c := s.claims(subject, ServiceSessionPrefix+service, tokenID, now, ttl)
	c.Actor = &Actor{Subject: service}
	return s.sign(TypeAccess, c)
}

func (s Signer) claims(subject, sessionID, tokenID string, now time.Time, ttl time.Duration) Claims {
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.Issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{s.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        tokenID,
		},
		SessionID: sessionID,
	}
}

func (s Signer) sign(typ string, c Claims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = s.Key.ID
	t.Header["typ"] = typ
	return t.SignedString(s.Key.Private)
}

// Verification failures. Callers answer every one of them with Unauthenticated; the distinction
// is for logs and tests.
var (
	ErrMalformed    = errors.New("malformed token")
	ErrWrongType    = errors.New("wrong token type")
	ErrInvalid      = errors.New("invalid token")
	ErrExpired      = errors.New("token expired")
	ErrRevoked      = errors.New("token revoked")
	ErrRevokedCheck = errors.New("cannot check token revocation")
)

// Verifier checks tokens: signature by a known key (EdDSA only — "none", HS256 and any other
// algorithm are refused before a key is looked up), issuer, audience, expiry, type, and — for
// access tokens, when Revocations is set — that the session has not been ended.
type Verifier struct {
	Keys        KeySource
	Issuer      string
	Audience    string
	Revocations *Revocations
	// Leeway tolerates clock skew between services on iat and nbf only; exp is exact.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	verified verifiedCache
}

// Verify checks token is a valid token of type typ and, for access tokens, that its session
// has not ended.
func (v *Verifier) Verify(ctx context.Context, token, typ string) (*Claims, error) {
	claims, err := v.verifySigned(ctx, token, typ)
	if err != nil {
		return nil, err
	}
	if typ == TypeAccess && v.Revocations != nil {
		revoked, err := v.Revocations.IsRevoked(claims.Subject, claims.SessionID)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRevokedCheck, err)
		}
		if revoked {
			return nil, ErrRevoked
		}
	}
	return claims, nil
}

// verifySigned checks the signature and claims, remembering tokens that passed: a token never
// changes, so a client sending the same one again only costs an expiry check, not another
// signature verification. Revocation is checked on every call by Verify.
func (v *Verifier) verifySigned(ctx context.Context, token, typ string) (*Claims, error) {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if e, ok := v.verified.get(token); ok && e.typ == typ {
		if expired(e.claims, now) {
			return nil, ErrExpired
		}
		return e.claims, nil
	}
	c, err := v.parse(ctx, token, typ, now)
	if err == nil {
		v.verified.put(token, verifiedToken{typ: typ, claims: c})
	}
	return c, err
}

// expired reports whether c is past its exp at now; there is no leeway on expiry.
func expired(c *Claims, now time.Time) bool {
	return !now.Before(c.ExpiresAt.Time)
}

func (v *Verifier) parse(ctx context.Context, token, typ string, now time.Time) (*Claims, error) {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{Algorithm}),
		jwt.WithIssuer(v.Issuer),
		jwt.WithAudience(v.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		// The leeway covers iat and nbf; exp is checked again below, without it.
		jwt.WithLeeway(v.Leeway),
		// Decode every segment strictly: a signature (or header, or claims) differing only in the
		// unused bits of its last base64url character is not the signed token.
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	}
	var claims Claims
	_, err := jwt.NewParser(opts...).ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		if got, _ := t.Header["typ"].(string); got != typ {
			return nil, ErrWrongType
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, fmt.Errorf("%w: no kid", ErrInvalid)
		}
		return v.Keys.PublicKey(ctx, kid)
	})
	switch {
	case err == nil:
	case errors.Is(err, ErrKeysUnavailable):
		return nil, ErrKeysUnavailable
	case errors.Is(err, ErrWrongType):
		return nil, ErrWrongType
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrExpired
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, ErrMalformed
	default:
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if claims.Subject == "" || claims.SessionID == "" || claims.ID == "" || claims.ExpiresAt == nil {
		return nil, fmt.Errorf("%w: missing sub, sid, jti or exp", ErrInvalid)
	}
	if expired(&claims, now) {
		return nil, ErrExpired
	}
	// A delegated token and only a delegated token carries a service session id, so neither
	// can pass for the other.
	if (claims.Actor != nil) != strings.HasPrefix(claims.SessionID, ServiceSessionPrefix) ||
		(claims.Actor != nil && (claims.Actor.Subject == "" || claims.SessionID != ServiceSessionPrefix+claims.Actor.Subject)) {
		return nil, fmt.Errorf("%w: actor and session disagree", ErrInvalid)
	}
	return &claims, nil
}

// verifiedCache remembers verified tokens, bounded: when full it starts over, which keeps it
// small and O(1) without tracking recency (a miss only costs one signature verification).
type verifiedCache struct {
	mu sync.RWMutex
	m  map[string]verifiedToken // by the token itself
}

type verifiedToken struct {
	typ    string
	claims *Claims
}

const verifiedCacheSize = 10000

func (c *verifiedCache) get(token string) (verifiedToken, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[token]
	return e, ok
}

func (c *verifiedCache) put(token string, e verifiedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= verifiedCacheSize {
		c.m = make(map[string]verifiedToken, 256)
	}
	c.m[token] = e
}
