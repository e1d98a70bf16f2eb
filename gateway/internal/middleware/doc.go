// Package middleware holds the HTTP middleware of the gateway, each a standard
// func(http.Handler) http.Handler. Errors are written with envelope.WriteError, so a client
// sees the same JSON shape whether a request was refused here or by a service.
package middleware
