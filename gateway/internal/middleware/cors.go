package middleware

import (
	"net/http"

	"github.com/rs/cors"
)

// CORS answers cross-origin requests, preflights included, from the listed origins only.
// Origins are matched exactly ("https://app.example.com"); there are no wildcards, and an
// empty list disables CORS: no CORS headers are sent and preflights reach the next handler.
//
// Credentials are not allowed: the API authenticates with a bearer token in Authorization. The
// one cookie, a browser session's refresh token, is for the gateway's own origin (the console it
// serves) and only read with the X-FuzzyLlama-Session header, which a cross-origin script can
// send only after a preflight from an allowed origin (see the gateway's session_cookie.go).
func CORS(allowedOrigins []string) func(http.Handler) http.Handler {
	if len(allowedOrigins) == 0 {
		// Not cors.New: it takes an empty AllowedOrigins to mean every origin.
		return func(next http.Handler) http.Handler { return next }
	}
	allowed := make(map[string]bool, len(allowedOrigins))
	for _, o := range allowedOrigins {
		allowed[o] = true
	}
	c := cors.New(cors.Options{
		// A func rather than AllowedOrigins, which would treat "*" in an entry as a wildcard.
		AllowOriginFunc: func(origin string) bool { return allowed[origin] },
		AllowedMethods: []string{
			http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions,
		},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "X-Request-Id", "X-FuzzyLlama-Session"},
		ExposedHeaders:   []string{"X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
		AllowCredentials: false,
		MaxAge:           600,
	})
	return c.Handler
}
