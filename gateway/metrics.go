package gateway

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics records RED metrics per route. The route label is the grpc-gateway path template
// (/api/v1/projects/{id}, never the concrete path) or the fixed operational path, so its
// cardinality is bounded by the API, not by the traffic.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests served by the gateway.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency at the gateway.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

type routeKey struct{}

// setRoute records the matched route template for the metrics of the current request.
// routed labels a handler of the root mux with its route pattern (the metrics and access log's
// route), as grpc-gateway's routes are labelled by forwardedMetadata.
func routed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, path, ok := strings.Cut(r.Pattern, " "); ok {
			setRoute(r.Context(), path)
		}
		h.ServeHTTP(w, r)
	})
}

func setRoute(ctx context.Context, route string) {
	if p, ok := ctx.Value(routeKey{}).(*string); ok {
		*p = route
	}
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hands the connection over (a WebSocket upgrade), which answered 101.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if s.code == 0 {
		s.code = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

var operationalRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true,
	"/api/docs": true, "/api/docs/openapi.json": true, "/api/docs/app.js": true}

// middleware records metrics and writes one access-log line per request.
func (m *httpMetrics) middleware(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			route := "unmatched"
			if operationalRoutes[r.URL.Path] {
				route = r.URL.Path
			}
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), routeKey{}, &route)))
			if rec.code == 0 {
				rec.code = http.StatusOK
			}
			elapsed, method := time.Since(start), methodLabel(r.Method)
			m.requests.WithLabelValues(method, route, strconv.Itoa(rec.code)).Inc()
			m.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
			if route != "/metrics" && route != "/healthz" && route != "/readyz" {
				log.InfoContext(r.Context(), "http request", "method", r.Method, "route", route,
					"status", rec.code, "duration_ms", float64(elapsed.Microseconds())/1000)
			}
		})
	}
}

// methodLabel bounds the method label: clients can send any token as a method.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}
