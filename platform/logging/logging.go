// Package logging builds the JSON slog logger every process uses. Each line carries the request
// id and trace id of the context it was logged with, and attributes whose key names a secret
// (password, token, secret, authorization, cookie, api key) are replaced before they are written,
// so a careless log call cannot leak a credential.
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/fuzzyllama/fuzzyllama/platform/requestid"
)

// Redacted replaces the value of every attribute whose key names a secret.
const Redacted = "[REDACTED]"

// secretKeyParts are matched case-insensitively anywhere in an attribute key.
var secretKeyParts = []string{"password", "token", "secret", "authorization", "cookie", "apikey", "api_key", "signing_key"}

// New returns a JSON logger writing to w at level, tagged with the component name.
func New(w io.Writer, level slog.Leveler, component string) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: redact})
	return slog.New(contextHandler{h}).With("component", component)
}

// ParseLevel maps debug, info, warn and error to a level.
func ParseLevel(s string) (slog.Level, bool) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo, false
	}
	return l, true
}

// IsSecretKey reports whether an attribute or field named key holds a secret.
func IsSecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, p := range secretKeyParts {
		if strings.Contains(k, p) {
			return true
		}
	}
	return false
}

func redact(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindGroup && IsSecretKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	return a
}

// contextHandler adds the request id and trace ids of the record's context.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := requestid.FromContext(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(as)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
