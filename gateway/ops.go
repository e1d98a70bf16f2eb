package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
	"github.com/fuzzyllama/fuzzyllama/gen"
)

func healthz(w http.ResponseWriter, r *http.Request) {
	envelope.WriteData(w, r, http.StatusOK, json.RawMessage(`{"status":"ok"}`))
}

func (g *Gateway) readyz(ready func(context.Context) error, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if g.draining.Load() {
			envelope.WriteError(w, r, http.StatusServiceUnavailable, "UNAVAILABLE", "shutting down", nil)
			return
		}
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := ready(ctx); err != nil {
				log.WarnContext(ctx, "not ready", "error", err.Error())
				envelope.WriteError(w, r, http.StatusServiceUnavailable, "UNAVAILABLE", "not ready: a dependency is not answering", nil)
				return
			}
		}
		envelope.WriteData(w, r, http.StatusOK, json.RawMessage(`{"status":"ready"}`))
	}
}

// mountDocs serves the OpenAPI document and a small page that renders it. The page is
// self-contained (no CDN): its script is served from here, which the CSP allows.
func mountDocs(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/docs/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(gen.OpenAPI)
	})
	mux.HandleFunc("GET /api/docs", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(docsPage)
	})
	mux.HandleFunc("GET /api/docs/app.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(docsScript)
	})
}

// recoverPanics answers 500 in the envelope if a handler panics, and logs the panic.
func recoverPanics(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.ErrorContext(r.Context(), "panic serving request", "panic", fmt.Sprint(p), "path", r.URL.Path)
					envelope.WriteError(w, r, http.StatusInternalServerError, "INTERNAL", "internal error", nil)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
