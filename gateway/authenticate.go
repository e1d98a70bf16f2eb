package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/outage"
)

// isPublic reports whether a request may go through without an access token: the listed public
// routes, the docs, and the web console (its files are the same for everyone; the data it shows
// comes from the API, with the user's token).
func isPublic(r *http.Request) bool {
	if r.Method == http.MethodOptions {
		return true // CORS preflights carry no credentials
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet // a HEAD is the GET without its body: public where the GET is
	}
	route := method + " " + strings.TrimSuffix(r.URL.Path, "/")
	return publicRoutes[route] || isDocsRoute(route) || isConsoleRequest(r)
}

// authOutcome is what identify learned about the request's credentials.
type authOutcome struct {
	// refused is why the credentials cannot be used (Unauthenticated, or Unavailable while they
	// cannot be checked); nil when the caller is identified or sent none. requireAuth writes it
	// like any other error of the edge (writeStatus: WWW-Authenticate, Retry-After).
	refused *status.Status
}

func refuse(c codes.Code, message string) authOutcome {
	return authOutcome{refused: status.New(c, message)}
}

type authOutcomeKey struct{}

// identify verifies the bearer token, if any, and puts the identity in the context, so the rate
// limiter that runs next can count the request against the user and requireAuth can refuse it.
// Verification happens before rate limiting so that requests with bad tokens still spend their
// client's per-IP budget (a flood of forged tokens ends in 429s like any other flood).
//
// While tokens cannot be checked (the signing keys or the revocation list are unavailable)
// every request with one is 503; that is logged once, at WARN when it starts and at INFO when
// a token can be checked again, not once per request.
func identify(v *authn.Verifier, log *slog.Logger) func(http.Handler) http.Handler {
	unverifiable := &checkOutage{log: outage.Log{Dependency: "signing keys or revocation list (token checks)", Logger: log}}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			values := r.Header.Values("Authorization")
			var out authOutcome
			ctx := r.Context()
			if len(values) > 1 {
				// The gateway and the service must see the same credential; with several, they
				// might not (grpc-gateway drops some values when building metadata).
				out = refuse(codes.Unauthenticated, "send exactly one Authorization header")
			} else {
				out, ctx = verifyRequest(ctx, v, log, unverifiable, r.Header.Get("Authorization"))
			}
			if who, ok := authn.FromContext(ctx); ok {
				// Forward exactly the token that was verified.
				r.Header["Authorization"] = []string{"Bearer " + who.Token}
			} else {
				r.Header.Del("Authorization")
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, authOutcomeKey{}, out)))
		})
	}
}

// checkOutage is the outage log of token checks; down spares the requests of normal times the
// log's lock.
type checkOutage struct {
	log  outage.Log
	down atomic.Bool
}

func (c *checkOutage) failed(ctx context.Context, err error) {
	c.log.Down(ctx, err) // before down is set: a check ending it meanwhile must not miss it
	c.down.Store(true)
}

func (c *checkOutage) checked(ctx context.Context) {
	if c.down.CompareAndSwap(true, false) {
		c.log.Up(ctx)
	}
}

func verifyRequest(ctx context.Context, v *authn.Verifier, log *slog.Logger, unverifiable *checkOutage, header string) (authOutcome, context.Context) {
	if header == "" {
		return refuse(codes.Unauthenticated, "missing access token: send Authorization: Bearer <accessToken>"), ctx
	}
	token, ok := authn.ParseBearer(header)
	if !ok {
		return refuse(codes.Unauthenticated, "malformed Authorization header: expected Bearer <accessToken>"), ctx
	}
	claims, err := v.Verify(ctx, token, authn.TypeAccess)
	if errors.Is(err, authn.ErrRevokedCheck) || errors.Is(err, authn.ErrKeysUnavailable) {
		unverifiable.failed(ctx, err)
		return refuse(codes.Unavailable, "cannot verify credentials right now; try again shortly"), ctx
	}
	if err == nil || errors.Is(err, authn.ErrRevoked) {
		unverifiable.checked(ctx) // the keys and the revocation list answered
	}
	if err != nil {
		log.DebugContext(ctx, "access token rejected", "reason", err.Error())
		return refuse(codes.Unauthenticated, "invalid or expired access token"), ctx
	}
	if claims.Actor != nil {
		// A service's delegated token is for calls between services; at the edge it would let
		// whoever copied it out of a process act as the user.
		return refuse(codes.Unauthenticated, "service tokens are not accepted here: sign in for an access token"), ctx
	}
	id := authn.Identity{UserID: claims.Subject, SessionID: claims.SessionID, Token: token}
	return authOutcome{}, authn.NewContext(ctx, id)
}

// requireAuth refuses non-public requests whose credentials identify failed to verify, before
// they cost a backend call. The services verify the token again themselves: the gateway is not
// trusted blindly.
func requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, _ := r.Context().Value(authOutcomeKey{}).(authOutcome)
		if out.refused != nil && !isPublic(r) {
			writeStatus(w, r, httpStatus(out.refused.Code()), out.refused)
			return
		}
		next.ServeHTTP(w, r)
	})
}
