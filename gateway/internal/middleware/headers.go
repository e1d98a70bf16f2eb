package middleware

import "net/http"

// securityHeaders are set on every response. The gateway serves JSON, one docs page and the web
// console, whose scripts, styles and images are all same-origin files (the console's build inlines
// nothing: web/vite.config.ts), so 'self' suffices and nothing needs 'unsafe-inline'.
var securityHeaders = [...]struct{ name, value string }{
	{"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"},
	{"X-Frame-Options", "DENY"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-site"},
	{"Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"},
}

// hstsValue makes browsers use HTTPS only, for two years, on subdomains too.
const hstsValue = "max-age=63072000; includeSubDomains"

// SecurityHeaders sets the browser-hardening headers on every response before the next
// handler runs. Strict-Transport-Security is added only when hsts is true: it must be sent
// only when the gateway is reached over TLS (production), since a browser that has seen it
// refuses plain HTTP to the host for two years.
func SecurityHeaders(hsts bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			for _, sh := range securityHeaders {
				h.Set(sh.name, sh.value)
			}
			if hsts {
				h.Set("Strict-Transport-Security", hstsValue)
			}
			next.ServeHTTP(w, r)
		})
	}
}
