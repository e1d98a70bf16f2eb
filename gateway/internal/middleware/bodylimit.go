package middleware

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
)

// BodyLimit caps request bodies at max bytes.
//
// A request that declares a larger Content-Length is refused at once with 413
// PAYLOAD_TOO_LARGE, and the next handler is not called. Any other body (chunked, or a
// Content-Length within the limit) is wrapped in http.MaxBytesReader, so reading past max
// fails with *http.MaxBytesError and the server closes the connection after the response.
// The wrapper remembers that the limit was hit: whoever answers the failed read (the gateway's
// error handler) asks BodyTooLarge and answers 413 too, whatever error the read became on the
// way (grpc-gateway turns a decoding error into an InvalidArgument status, losing its type).
func BodyLimit(max int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max {
				WriteTooLarge(w, r, max)
				return
			}
			r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, max), max: max}
			next.ServeHTTP(w, r)
		})
	}
}

// WriteTooLarge answers 413 PAYLOAD_TOO_LARGE naming the limit.
func WriteTooLarge(w http.ResponseWriter, r *http.Request, max int64) {
	envelope.WriteError(w, r, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE",
		fmt.Sprintf("request body is larger than the limit of %d bytes", max), nil)
}

// limitedBody is the body BodyLimit installs; it records a read past the limit.
type limitedBody struct {
	io.ReadCloser
	max int64
	hit atomic.Bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if mbe := (*http.MaxBytesError)(nil); err != nil && errors.As(err, &mbe) {
		b.hit.Store(true)
	}
	return n, err
}

// BodyTooLarge reports whether reading r's body failed at BodyLimit's limit, and the limit.
func BodyTooLarge(r *http.Request) (max int64, ok bool) {
	if b, isLimited := r.Body.(*limitedBody); isLimited && b.hit.Load() {
		return b.max, true
	}
	return 0, false
}
