package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
)

// Browser sessions keep the refresh token where no script can read it: in an HttpOnly cookie
// the gateway sets and reads, never in the page's JavaScript. API clients keep the token in the
// JSON body, unchanged; a client asks for the cookie by sending SessionHeader: cookie on the auth
// routes, and only then does the gateway read or write the cookie (a cookie sent without the
// header is ignored):
//
//   - login, register: on success the refresh token goes into the cookie and the body's
//     refreshToken is "".
//   - refresh: the token is the cookie's (the body is ignored); without the cookie, 401
//     UNAUTHENTICATED. Success rotates the cookie like the body token; a refusal of the token
//     (401: revoked, expired, the session ended) clears the cookie.
//   - logout, logout-all: the cookie is cleared whatever the outcome (even a 401 for a stale
//     access token, or a 429): the browser forgets the session.
//
// The cookie is HttpOnly, SameSite=Strict, Path=/api/v1/auth (only the auth routes ever see it)
// and Secure unless the request's host is a loopback name (plain-http localhost must work). Its
// Max-Age is the refresh token's remaining lifetime, read from the token's exp claim (the token
// comes from the auth service over the backend connection, so it is not verified here); a token
// whose exp cannot be read gets a session cookie.
//
// CSRF: the cookie is only ever read on POST /api/v1/auth/refresh and only with the header, which
// a cross-site form cannot send, and a cross-origin script cannot send without a CORS preflight
// the gateway grants only to CORS_ALLOWED_ORIGINS (and without credentials); SameSite=Strict
// keeps the cookie off cross-site requests besides. Refresh is the only route the cookie
// authenticates: every other call takes the access token in Authorization, as before.
const (
	// SessionHeader: "X-FuzzyLlama-Session: cookie" asks for a cookie session.
	SessionHeader      = "X-FuzzyLlama-Session"
	sessionHeaderValue = "cookie"
	// RefreshCookie holds a browser session's refresh token.
	RefreshCookie     = "fuzzyllama_refresh"
	refreshCookiePath = "/api/v1/auth"
)

// sessionStep is what a route does to a cookie session.
type sessionStep int

const (
	sessionStart   sessionStep = iota + 1 // the answer's refresh token goes into the cookie
	sessionRefresh                        // the cookie's token is presented, the answer's replaces it
	sessionEnd                            // the cookie is cleared
)

var sessionRoutes = map[string]sessionStep{
	"/api/v1/auth/login":      sessionStart,
	"/api/v1/auth/register":   sessionStart,
	"/api/v1/auth/refresh":    sessionRefresh,
	"/api/v1/auth/logout":     sessionEnd,
	"/api/v1/auth/logout-all": sessionEnd,
}

// refreshPattern is the root mux's route for refresh, where the cookie becomes the body.
const refreshPattern = "POST /api/v1/auth/refresh"

// cookieSession marks a request of a browser session.
type cookieSession struct {
	step   sessionStep
	secure bool
}

type cookieSessionKey struct{}

func cookieSessionFrom(ctx context.Context) *cookieSession {
	s, _ := ctx.Value(cookieSessionKey{}).(*cookieSession)
	return s
}

// browserSessions marks the auth requests that ask for a cookie session, for the steps after it
// (refreshFromCookie, setSessionCookie, the error handler), and clears the cookie on logout before
// anything can refuse the request. With alwaysSecure (HSTS on: the site is only ever served
// over https) the cookie is Secure whatever the Host says, so a proxy that rewrites Host to
// localhost cannot make it travel in clear.
func browserSessions(alwaysSecure bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return browserSessionsHandler(next, alwaysSecure) }
}

func browserSessionsHandler(next http.Handler, alwaysSecure bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		step, ok := sessionRoutes[r.URL.Path]
		if !ok || r.Method != http.MethodPost || !strings.EqualFold(strings.TrimSpace(r.Header.Get(SessionHeader)), sessionHeaderValue) {
			next.ServeHTTP(w, r)
			return
		}
		s := &cookieSession{step: step, secure: alwaysSecure || !isLoopbackHost(r.Host)}
		if step == sessionEnd {
			s.clear(w)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), cookieSessionKey{}, s)))
	})
}

// refreshFromCookie makes the cookie's token the body of a cookie session's refresh, or answers
// 401 when there is no cookie. It runs after the rate limiter, so such refreshes spend the
// credential routes' budget like any other.
func refreshFromCookie(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := cookieSessionFrom(r.Context()); s == nil || s.step != sessionRefresh {
			next.ServeHTTP(w, r)
			return
		}
		c, err := r.Cookie(RefreshCookie)
		if err != nil || c.Value == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fuzzyllama"`)
			envelope.WriteError(w, r, http.StatusUnauthorized, "UNAUTHENTICATED",
				"no session to refresh: there is no "+RefreshCookie+" cookie (it expired or was cleared); sign in again", nil)
			return
		}
		body, err := json.Marshal(struct {
			RefreshToken string `json:"refreshToken"`
		}{c.Value})
		if err != nil {
			panic(err) // a struct of one string always marshals
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", "application/json")
		next.ServeHTTP(w, r)
	})
}

// setSessionCookie is a forward-response option: for a cookie session it moves the refresh token
// of a login, registration or refresh answer from the body into the cookie. grpc-gateway calls
// the options with the answer before marshalling it (runtime.ForwardResponseMessage), with a
// context derived from the request's; this one must come before successStatus, which writes the
// status line and so the headers.
func setSessionCookie(ctx context.Context, w http.ResponseWriter, resp proto.Message) error {
	s := cookieSessionFrom(ctx)
	if s == nil {
		return nil
	}
	var token *string
	switch m := resp.(type) {
	case *authv1.LoginResponse:
		token = &m.RefreshToken
	case *authv1.RegisterResponse:
		token = &m.RefreshToken
	case *authv1.RefreshResponse:
		token = &m.RefreshToken
	}
	if token == nil || *token == "" {
		return nil
	}
	s.set(w, *token)
	*token = ""
	return nil
}

// endRefusedSession clears the cookie of a cookie session whose refresh token the auth service
// refused (401: revoked, expired, or its session ended): it will never work again.
func endRefusedSession(w http.ResponseWriter, r *http.Request, code codes.Code) {
	if s := cookieSessionFrom(r.Context()); s != nil && s.step == sessionRefresh && code == codes.Unauthenticated {
		s.clear(w)
	}
}

func (s *cookieSession) cookie(value string, maxAge int) string {
	return (&http.Cookie{Name: RefreshCookie, Value: value, Path: refreshCookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode}).String()
}

// set stores token in the cookie. Set, not Add: a response carries one Set-Cookie.
func (s *cookieSession) set(w http.ResponseWriter, token string) {
	maxAge := 0 // a session cookie, when the token's expiry cannot be read
	if exp, ok := tokenExpiry(token); ok {
		maxAge = int(max(math.Ceil(time.Until(exp).Seconds()), 1))
	}
	w.Header().Set("Set-Cookie", s.cookie(token, maxAge))
}

// clear removes the cookie (Max-Age=0, the same attributes).
func (s *cookieSession) clear(w http.ResponseWriter) {
	w.Header().Set("Set-Cookie", s.cookie("", -1))
}

// tokenExpiry reads a JWT's exp claim without verifying the token.
func tokenExpiry(token string) (time.Time, bool) {
	// Unverified: the token came from the auth service over the backend connection; only its
	// lifetime is read, with the same strict decoding the verifiers use.
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser(jwt.WithStrictDecoding()).ParseUnverified(token, &claims); err != nil || claims.ExpiresAt == nil {
		return time.Time{}, false
	}
	exp := claims.ExpiresAt.Time
	if exp.Unix() <= 0 || exp.Unix() >= 1<<40 {
		return time.Time{}, false
	}
	return exp, true
}

// isLoopbackHost reports whether a Host header names this machine: localhost, a name under
// .localhost, or a loopback address (127.0.0.0/8, ::1).
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
