package authn

import "context"

// Identity is the verified caller of a request.
type Identity struct {
	UserID    string
	SessionID string
	// Actor is the FuzzyLlama service acting for the user (a delegated token), empty when the
	// user calls in person.
	Actor string
	// Token is the raw access token, forwarded when this service calls another on the
	// caller's behalf.
	Token string
}

type identityKey struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the verified identity of the caller, if the request carried one.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Delegated reports whether a service acts for the user rather than the user in person.
func (id Identity) Delegated() bool { return id.Actor != "" }
