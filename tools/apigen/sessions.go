package main

import (
	"github.com/getkin/kin-openapi/openapi3"
)

// Browser sessions (gateway/session_cookie.go): with the header below, the auth routes keep the
// refresh token in an HttpOnly cookie instead of the body. The gateway's tests check that this
// document names the same header, cookie and routes.
const (
	sessionHeader = "X-FuzzyLlama-Session"
	refreshCookie = "fuzzyllama_refresh"
)

// sessionRoutes are the operations that honour the header, and what their success does to the
// cookie.
var sessionRoutes = map[string]string{
	"/api/v1/auth/login":      "Sets the session cookie (with the header); the body's refreshToken is then empty.",
	"/api/v1/auth/register":   "Sets the session cookie (with the header); the body's refreshToken is then empty.",
	"/api/v1/auth/refresh":    "Rotates the session cookie (with the header); the body's refreshToken is then empty. A refused refresh clears it.",
	"/api/v1/auth/logout":     "Clears the session cookie (with the header), whatever the outcome.",
	"/api/v1/auth/logout-all": "Clears the session cookie (with the header), whatever the outcome.",
}

const sessionHeaderDescription = "`cookie`: a browser session. The refresh token travels in the HttpOnly cookie `" + refreshCookie +
	"` (SameSite=Strict, Path=/api/v1/auth, Secure except on loopback hosts) instead of the body: login and register set it, " +
	"refresh reads it (send `{\"refreshToken\": \"\"}`: the body's token is ignored) and rotates it, logout and logout-all clear it. " +
	"Without the header the cookie is neither read nor written. Requiring this header, which a cross-site form cannot send, is the CSRF defence."

// addBrowserSessions declares the session header on the auth operations and the cookie their
// answers set.
func addBrowserSessions(doc *openapi3.T) {
	for path, effect := range sessionRoutes {
		item := doc.Paths.Value(path)
		if item == nil || item.Post == nil {
			continue
		}
		op := item.Post
		op.AddParameter(openapi3.NewHeaderParameter(sessionHeader).WithDescription(sessionHeaderDescription).
			WithSchema(openapi3.NewStringSchema().WithEnum("cookie")))
		for _, status := range []string{"200", "201"} {
			ok := op.Responses.Value(status)
			if ok == nil || ok.Value == nil {
				continue
			}
			if ok.Value.Headers == nil {
				ok.Value.Headers = openapi3.Headers{}
			}
			ok.Value.Headers["Set-Cookie"] = &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: effect, Schema: openapi3.NewStringSchema().NewRef()}}}
		}
	}
}
