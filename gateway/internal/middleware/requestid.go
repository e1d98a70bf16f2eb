package middleware

import (
	"net/http"

	"github.com/fuzzyllama/fuzzyllama/platform/requestid"
)

// RequestID gives every request an id: the caller's X-Request-Id when requestid.Valid accepts
// it, else a fresh one. The id is put in the request context (requestid.FromContext) and in
// the X-Request-Id response header before the next handler runs, so every response carries it,
// error responses included.
func RequestID() func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(requestid.Header)
			if !requestid.Valid(id) {
				id = requestid.New()
			}
			w.Header().Set(requestid.Header, id)
			next.ServeHTTP(w, r.WithContext(requestid.NewContext(r.Context(), id)))
		})
	}
}
