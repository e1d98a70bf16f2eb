package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
	"github.com/fuzzyllama/fuzzyllama/platform/outage"
)

func healthz(w http.ResponseWriter, r *http.Request) {
	envelope.WriteData(w, r, http.StatusOK, json.RawMessage(`{"status":"ok"}`))
}

// readyz answers 503 while draining or while a dependency of ready fails (the backends' health,
// which follows their databases; Redis is not one: see ARCHITECTURE.md, "Outages"). Probes ask
// every few seconds: a failure is logged once when it starts and once when it ends.
func (g *Gateway) readyz(ready func(context.Context) error, log *slog.Logger) http.HandlerFunc {
	notReady := &outage.Log{Dependency: "dependencies of /readyz", Logger: log}
	return func(w http.ResponseWriter, r *http.Request) {
		if g.draining.Load() {
			envelope.WriteError(w, r, http.StatusServiceUnavailable, "UNAVAILABLE", "shutting down", nil)
			return
		}
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := ready(ctx); err != nil {
				notReady.Down(ctx, err)
				envelope.WriteError(w, r, http.StatusServiceUnavailable, "UNAVAILABLE", "not ready: a dependency is not answering", nil)
				return
			}
			notReady.Up(ctx)
		}
		envelope.WriteData(w, r, http.StatusOK, json.RawMessage(`{"status":"ready"}`))
	}
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
					log.ErrorContext(r.Context(), "panic serving request", "panic", fmt.Sprint(p), "path", envelope.Clip(r.URL.Path))
					envelope.WriteError(w, r, http.StatusInternalServerError, "INTERNAL", "internal error", nil)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
