package middleware

import (
	"fmt"
	"net/http"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
)

// BodyLimit caps request bodies at max bytes.
//
// A request that declares a larger Content-Length is refused at once with 413
// PAYLOAD_TOO_LARGE, and the next handler is not called. Any other body (chunked, or a
// Content-Length within the limit) is wrapped in http.MaxBytesReader, so reading past max
// fails with *http.MaxBytesError and the server closes the connection after the response.
// The gateway handler then fails to read the body and answers 400 rather than 413; a client
// that sends an honest Content-Length gets the precise 413.
func BodyLimit(max int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max {
				envelope.WriteError(w, r, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE",
					fmt.Sprintf("request body is larger than the limit of %d bytes", max), nil)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}
