// Package requestid carries the id of the request being served through contexts, HTTP headers
// and gRPC metadata, so that every log line of one request, in every service, can be found.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// Header is the HTTP header a request id arrives in and is returned in.
const Header = "X-Request-Id"

// MetadataKey is the gRPC metadata key that carries the request id between services.
const MetadataKey = "x-request-id"

type ctxKey struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the request id carried by ctx, or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// New returns a fresh random request id (128 bits, hex).
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Valid reports whether an id supplied by a caller is safe to adopt: 1 to 128 characters of
// letters, digits, '-', '_', '.' or ':'. Anything else is replaced with a fresh id so that a
// caller cannot inject text into logs or headers.
func Valid(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}
