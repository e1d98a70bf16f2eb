package gateway

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
)

// isPublic reports whether a request may go through without an access token.
func isPublic(r *http.Request) bool {
	if r.Method == http.MethodOptions {
		return true // CORS preflights carry no credentials
	}
	return publicRoutes[r.Method+" "+strings.TrimSuffix(r.URL.Path, "/")] || publicRoutes[r.Method+" "+r.URL.Path]
}

// authenticate rejects non-public requests without a valid access token before they cost a
// backend call, and puts the verified identity in the context for the per-user rate limit. The
// services verify the token again themselves: the gateway is not trusted blindly.
func authenticate(v *authn.Verifier, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isPublic(r) {
				next.ServeHTTP(w, r)
				return
			}
			header := r.Header.Get("Authorization")
			if header == "" {
				unauthorized(w, r, "missing access token: send Authorization: Bearer <accessToken>")
				return
			}
			token, ok := authn.ParseBearer(header)
			if !ok {
				unauthorized(w, r, "malformed Authorization header: expected Bearer <accessToken>")
				return
			}
			claims, err := v.Verify(r.Context(), token, authn.TypeAccess)
			if errors.Is(err, authn.ErrRevokedCheck) || errors.Is(err, authn.ErrKeysUnavailable) {
				log.WarnContext(r.Context(), "cannot verify access token", "error", err.Error())
				envelope.WriteError(w, r, http.StatusServiceUnavailable, "UNAVAILABLE", "cannot verify credentials right now; try again shortly", nil)
				return
			}
			if err != nil {
				log.DebugContext(r.Context(), "access token rejected", "reason", err.Error())
				unauthorized(w, r, "invalid or expired access token")
				return
			}
			id := authn.Identity{UserID: claims.Subject, SessionID: claims.SessionID, Token: token}
			next.ServeHTTP(w, r.WithContext(authn.NewContext(r.Context(), id)))
		})
	}
}

func unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="fuzzyllama"`)
	envelope.WriteError(w, r, http.StatusUnauthorized, "UNAUTHENTICATED", msg, nil)
}
