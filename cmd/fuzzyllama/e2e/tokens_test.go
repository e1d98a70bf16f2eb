package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/fuzzyllama/fuzzyllama/platform/authn"
)

func newSeed(t *testing.T) string {
	t.Helper()
	b := make([]byte, ed25519.SeedSize)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func signWith(t *testing.T, seed, typ, sub, sid string, iat time.Time, ttl time.Duration) string {
	t.Helper()
	raw, err := authn.ParseSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := authn.NewKey(raw)
	tok, err := authn.Signer{Key: key, Issuer: authn.Issuer, Audience: authn.Audience}.Sign(typ, sub, sid, "jti-1", iat, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestForgedAndMisusedTokensAreRejected: expired, wrong key, alg none, HS256 keyed with the
// public key, and each token type where the other is expected.
func TestForgedAndMisusedTokensAreRejected(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		seed := newSeed(t)
		s := start(t, m.env(t), map[string]string{"AUTH_SIGNING_KEY": seed})
		ses := s.register(t, "gina@example.com", goodPassword, "Gina")
		var claims authn.Claims
		if _, _, err := jwt.NewParser().ParseUnverified(ses.AccessToken, &claims); err != nil {
			t.Fatal(err)
		}
		uid, sid := claims.Subject, claims.SessionID

		// Sanity: a token we sign with the configured key and the real session is accepted,
		// so the rejections below are about the forgery, not the harness.
		s.do("GET", "/api/v1/auth/me", signWith(t, seed, authn.TypeAccess, uid, sid, time.Now(), time.Minute), nil).want(t, 200, "")

		raw, _ := authn.ParseSeed(seed)
		pub := ed25519.NewKeyFromSeed(raw).Public().(ed25519.PublicKey)
		mapClaims := jwt.MapClaims{"iss": authn.Issuer, "aud": authn.Audience, "sub": uid, "sid": sid, "jti": "x",
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
		none := jwt.NewWithClaims(jwt.SigningMethodNone, mapClaims)
		none.Header["typ"] = authn.TypeAccess
		noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
		hs := jwt.NewWithClaims(jwt.SigningMethodHS256, mapClaims)
		hs.Header["typ"], hs.Header["kid"] = authn.TypeAccess, authn.Thumbprint(pub)
		hsTok, _ := hs.SignedString([]byte(pub))

		forged := map[string]string{
			"expired":           signWith(t, seed, authn.TypeAccess, uid, sid, time.Now().Add(-time.Hour), 10*time.Minute),
			"wrong key":         signWith(t, newSeed(t), authn.TypeAccess, uid, sid, time.Now(), time.Minute),
			"alg none":          noneTok,
			"HS256 public key":  hsTok,
			"refresh as access": ses.RefreshToken,
			"garbage":           "not.a.jwt",
			"tampered":          ses.AccessToken[:len(ses.AccessToken)-4] + "AAAA",
		}
		for name, tok := range forged {
			r := s.do("GET", "/api/v1/auth/me", tok, nil)
			if r.status != 401 || r.env.Error == nil || r.env.Error.Code != "UNAUTHENTICATED" {
				t.Errorf("%s: got %d %s", name, r.status, r.raw)
			}
			if r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: no WWW-Authenticate", name)
			}
		}
		// An access token is never a refresh token either.
		s.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": ses.AccessToken}).want(t, 401, "UNAUTHENTICATED")
		s.do("GET", "/api/v1/auth/me", "", nil).want(t, 401, "UNAUTHENTICATED")
		s.do("GET", "/api/v1/auth/me", "", nil, "Authorization", "Basic dTpw").want(t, 401, "UNAUTHENTICATED")
		// The real token still works after all that.
		s.do("GET", "/api/v1/auth/me", ses.AccessToken, nil).want(t, 200, "")
	})
}

// TestKeyRotationKeepsOldTokensValid restarts the product with a new signing key and the old one
// as a previous key: tokens signed before the rotation still verify, new ones use the new key,
// and the JWKS publishes both.
func TestKeyRotationKeepsOldTokensValid(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		env := m.env(t)
		oldSeed, newSeedValue := newSeed(t), newSeed(t)
		s := start(t, env, map[string]string{"AUTH_SIGNING_KEY": oldSeed})
		ses := s.register(t, "hank@example.com", goodPassword, "Hank")
		s.stop()

		s = start(t, env, map[string]string{"AUTH_SIGNING_KEY": newSeedValue, "AUTH_PREVIOUS_SIGNING_KEYS": oldSeed})
		s.do("GET", "/api/v1/auth/me", ses.AccessToken, nil).want(t, 200, "")
		fresh := s.login(t, "hank@example.com", goodPassword)
		if kid(t, fresh.AccessToken) == kid(t, ses.AccessToken) {
			t.Fatal("new tokens are still signed with the old key")
		}
		r := s.do("GET", "/.well-known/jwks.json", "", nil)
		var jwks struct {
			Keys []struct{ Kid, Kty, Crv, Alg string } `json:"keys"`
		}
		if err := json.Unmarshal(r.raw, &jwks); err != nil || len(jwks.Keys) != 2 {
			t.Fatalf("jwks: %v %s", err, r.raw)
		}
		if jwks.Keys[0].Kid != kid(t, fresh.AccessToken) || jwks.Keys[1].Kid != kid(t, ses.AccessToken) ||
			jwks.Keys[0].Alg != "EdDSA" || jwks.Keys[0].Crv != "Ed25519" {
			t.Errorf("jwks keys: %+v", jwks.Keys)
		}
		// Dropping the old key after its tokens expired ends them.
		s.stop()
		s = start(t, env, map[string]string{"AUTH_SIGNING_KEY": newSeedValue})
		s.do("GET", "/api/v1/auth/me", ses.AccessToken, nil).want(t, 401, "UNAUTHENTICATED")
		s.do("GET", "/api/v1/auth/me", fresh.AccessToken, nil).want(t, 200, "")
	})
}

func kid(t *testing.T, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := tok.Header["kid"].(string)
	return k
}

// TestDataSurvivesRestart: the embedded default keeps accounts and its generated signing key in
// DATA_DIR, so a restart keeps users and keeps their access tokens valid.
func TestDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := start(t, map[string]string{"DATA_DIR": dir}, nil)
	ses := s.register(t, "ivy@example.com", goodPassword, "Ivy")
	s.stop()
	if fi, err := os.Stat(filepath.Join(dir, "auth-signing-key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key file: %v %v", fi, err)
	}
	s = start(t, map[string]string{"DATA_DIR": dir}, nil)
	s.do("GET", "/api/v1/auth/me", ses.AccessToken, nil).want(t, 200, "")
	s.login(t, "ivy@example.com", goodPassword)
	if strings.Contains(s.logs.String(), goodPassword) {
		t.Fatal("password in logs")
	}
}
