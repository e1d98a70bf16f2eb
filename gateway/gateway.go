// Package gateway is the REST/JSON edge of FuzzyLlama: grpc-gateway handlers under /api/v1 that
// call the services over gRPC client connections (so every request passes through the services'
// own interceptors), wrapped in the HTTP middleware every request needs.
//
// Middleware order, outermost first — each step relies on the ones before it:
//
//  1. recovery: a panic anywhere below answers 500 in the envelope, never a dropped connection.
//  2. OpenTelemetry: the server span (W3C trace context in and out) covers everything below.
//  3. request id: adopted or made, returned as X-Request-Id, in every log line and envelope.
//  4. metrics and access log: RED per route, one log line per request.
//  5. security headers, then CORS (preflights end here), then browser sessions: the auth
//     requests that ask for the refresh token in a cookie are marked, and a logout's answer
//     clears the cookie whatever refuses it later (session_cookie.go).
//  6. body limit: oversized bodies never reach a handler.
//  7. client IP: from the TCP peer, or X-Forwarded-For only behind configured trusted proxies.
//  8. identification: a bearer token, if sent, is verified and the identity enters the context.
//  9. rate limiting: per client IP on credential routes (stricter), per user when identified,
//     per client IP otherwise; it runs before requests with bad tokens are refused, so those
//     spend their IP's budget too.
//  10. authentication required: public routes pass; all others need a valid access token.
//  11. before the mux: headers the services must not see are dropped (forwarded-for chains, a
//     client-chosen gRPC deadline) and a path or query that is not valid UTF-8 is refused.
//  12. the grpc-gateway mux (/api/, /.well-known/), the operational endpoints (health, metrics,
//     docs), or the web console (every other GET and HEAD: see isConsoleRequest).
package gateway

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/go-redis/redis_rate/v10"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/fuzzyllama/fuzzyllama/gateway/console"
	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
	"github.com/fuzzyllama/fuzzyllama/gateway/internal/middleware"
	"github.com/fuzzyllama/fuzzyllama/gateway/live"
	agentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
	documentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/config"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/platform/requestid"
)

// Config is the gateway's configuration, read from the environment.
type Config struct {
	CORSOrigins       []string
	TrustedProxies    string
	MaxBodyBytes      int64
	RateLimitPerIP    int
	RateLimitAuthIP   int
	RateLimitPerUser  int
	HSTS              bool
	ShutdownDrainTime time.Duration
	// Live events (/api/v1/ws).
	LiveMaxConnsPerUser int
	LiveSendBuffer      int
	LiveHeartbeat       time.Duration
}

// Register declares the gateway's variables.
func (c *Config) Register(s *config.Set) {
	s.ListVar(&c.CORSOrigins, "CORS_ALLOWED_ORIGINS", "", "comma-separated origins allowed to call the API from a browser (default: FRONTEND_URL)")
	s.StringVar(&c.TrustedProxies, "TRUSTED_PROXIES", "", "comma-separated CIDRs/IPs of reverse proxies whose X-Forwarded-For is believed; empty trusts none")
	s.Int64Var(&c.MaxBodyBytes, "HTTP_MAX_BODY_BYTES", 1<<20, "largest accepted request body")
	s.IntVar(&c.RateLimitPerIP, "RATE_LIMIT_PER_IP_PER_MINUTE", 100, "requests per minute per client IP")
	s.IntVar(&c.RateLimitAuthIP, "RATE_LIMIT_AUTH_PER_IP_PER_MINUTE", 10, "requests per minute per client IP to each credential route (login, register, refresh, password reset)")
	s.IntVar(&c.RateLimitPerUser, "RATE_LIMIT_PER_USER_PER_MINUTE", 300, "requests per minute per authenticated user")
	s.IntVar(&c.LiveMaxConnsPerUser, "LIVE_MAX_CONNECTIONS_PER_USER", 8, "live-event sockets one user may have open on one gateway")
	s.IntVar(&c.LiveSendBuffer, "LIVE_SEND_BUFFER", 256, "messages a slow live-event client may fall behind before it is disconnected (close code 4008)")
	s.DurationVar(&c.LiveHeartbeat, "LIVE_HEARTBEAT", 20*time.Second, "how often live-event sockets are pinged; one that does not answer is closed")
	s.DurationVar(&c.ShutdownDrainTime, "SHUTDOWN_DRAIN_TIME", 5*time.Second, "how long /readyz reports 503 before the server stops, so load balancers move away")
	s.Check(func() error {
		if _, err := middleware.ParseTrustedProxies(c.TrustedProxies); err != nil {
			return config.Errorf("TRUSTED_PROXIES", "%v", err)
		}
		return nil
	})
	s.Check(func() error {
		if c.LiveMaxConnsPerUser < 1 || c.LiveSendBuffer < 1 || c.LiveHeartbeat < time.Second {
			return config.Errorf("LIVE_MAX_CONNECTIONS_PER_USER", "live limits must be at least 1 (LIVE_HEARTBEAT at least 1s)")
		}
		if c.RateLimitPerIP < 1 || c.RateLimitAuthIP < 1 || c.RateLimitPerUser < 1 || c.MaxBodyBytes < 1024 {
			return config.Errorf("RATE_LIMIT_PER_IP_PER_MINUTE", "rate limits must be at least 1 and HTTP_MAX_BODY_BYTES at least 1024")
		}
		return nil
	})
}

// Backends are the client connections to the services.
type Backends struct {
	Auth      *grpc.ClientConn
	Projects  *grpc.ClientConn
	Documents *grpc.ClientConn
	Agents    *grpc.ClientConn
}

// Deps are the gateway's collaborators.
type Deps struct {
	Backends Backends
	Redis    *redis.Client
	Keys     redisx.Keyspace
	Logger   *slog.Logger
	Registry *prometheus.Registry
	// Revocations is the process's list of ended sessions (see authn.Revocations).
	Revocations *authn.Revocations
	// Ready reports whether every dependency answers; /readyz is 503 while it errs.
	Ready func(ctx context.Context) error
	// Console is the web console's build, served at /; nil serves the embedded one
	// (console.Files()).
	Console fs.FS
}

// Gateway is the HTTP handler of the edge.
type Gateway struct {
	http.Handler
	draining atomic.Bool
	// streams ends with the gateway: long-lived responses (run watches) stop on it, since a
	// graceful HTTP shutdown would otherwise wait for them for ever.
	streams    context.Context
	endStreams context.CancelFunc
	live       *live.Hub
}

// Drain makes /readyz answer 503 so load balancers stop sending traffic before shutdown.
func (g *Gateway) Drain() { g.draining.Store(true) }

// EndStreams ends every long-lived response (run watches); their clients reconnect, to another
// replica. Register it with http.Server.RegisterOnShutdown.
func (g *Gateway) EndStreams() {
	g.endStreams()
	g.live.Shutdown()
}

// originHosts turns the CORS origins (https://app.example.com) into the host patterns the
// WebSocket origin check takes (app.example.com).
func originHosts(origins []string) []string {
	var hosts []string
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			hosts = append(hosts, u.Host)
		}
	}
	return hosts
}

// publicRoutes need no access token; everything else does. Keep this list short and explicit.
// The files of the API reference and the contract documents are public too: every route
// mountDocs serves (isDocsRoute), and nothing else under /api/docs. So is the web console: every
// GET and HEAD outside /api, /.well-known and the operational endpoints (isConsoleRequest).
var publicRoutes = map[string]bool{
	"POST /api/v1/auth/register":        true,
	"POST /api/v1/auth/login":           true,
	"POST /api/v1/auth/refresh":         true,
	"POST /api/v1/auth/forgot-password": true,
	"POST /api/v1/auth/reset-password":  true,
	"GET /.well-known/jwks.json":        true,
	"GET /healthz":                      true,
	"GET /readyz":                       true,
	"GET /metrics":                      true,
	"GET /api/v1/ws":                    true, // authenticates itself: browsers send the token as a subprotocol
}

// credentialRoutes get the stricter per-IP limit: they are what brute force targets.
var credentialRoutes = []string{"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh",
	"/api/v1/auth/forgot-password", "/api/v1/auth/reset-password"}

// New builds the gateway.
func New(ctx context.Context, cfg Config, d Deps) (*Gateway, error) {
	trusted, err := middleware.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	consoleFiles := d.Console
	if consoleFiles == nil {
		consoleFiles = console.Files()
	}
	site, err := console.Handler(consoleFiles)
	if err != nil {
		return nil, err
	}
	authClient := authv1.NewAuthServiceClient(d.Backends.Auth)
	verifier := authn.NewVerifier(authn.RemoteKeys(authClient), d.Revocations)

	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &marshaler{runtime.JSONPb{
			MarshalOptions: edge.JSON,
			// Unknown fields are refused (400 naming the field) rather than silently dropped, so
			// a typo in a request never passes unnoticed.
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
		runtime.WithIncomingHeaderMatcher(incomingHeaders),
		runtime.WithOutgoingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithMetadata(forwardedMetadata),
		// setSessionCookie sets a header: it must run before successStatus writes the status.
		runtime.WithForwardResponseOption(setSessionCookie),
		runtime.WithForwardResponseOption(successStatus),
		runtime.WithForwardResponseRewriter(envelopeRewriter),
		runtime.WithErrorHandler(errorHandler(d.Logger)),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
		// The route the middleware checked (public routes, rate-limit rules) must be the route
		// that runs: no method override by header, no path-length fallback.
		runtime.WithDisableHTTPMethodOverride(),
		runtime.WithDisablePathLengthFallback(),
	)
	if err := authv1.RegisterAuthServiceHandlerClient(ctx, mux, authClient); err != nil {
		return nil, fmt.Errorf("register auth routes: %w", err)
	}
	if err := projectsv1.RegisterProjectsServiceHandlerClient(ctx, mux, projectsv1.NewProjectsServiceClient(d.Backends.Projects)); err != nil {
		return nil, fmt.Errorf("register projects routes: %w", err)
	}
	documentsClient := documentsv1.NewDocumentsServiceClient(d.Backends.Documents)
	if err := documentsv1.RegisterDocumentsServiceHandlerClient(ctx, mux, documentsClient); err != nil {
		return nil, fmt.Errorf("register documents routes: %w", err)
	}
	agentsClient := agentsv1.NewAgentsServiceClient(d.Backends.Agents)
	if err := agentsv1.RegisterAgentsServiceHandlerClient(ctx, mux, agentsClient); err != nil {
		return nil, fmt.Errorf("register agents routes: %w", err)
	}
	// After the generated routes, so that it replaces the generated ExportDocuments handler.
	if err := mux.HandlePath(http.MethodGet, exportPattern, serveExport(mux, documentsClient, d.Logger)); err != nil {
		return nil, fmt.Errorf("register the export download: %w", err)
	}
	g := &Gateway{}
	g.streams, g.endStreams = context.WithCancel(context.Background())
	if err := mux.HandlePath(http.MethodGet, watchRunPattern, serveWatchRun(mux, agentsClient, g.streams, d.Logger)); err != nil {
		return nil, fmt.Errorf("register the run watch: %w", err)
	}

	g.live = live.New(live.Config{MaxConnsPerUser: cfg.LiveMaxConnsPerUser, SendBuffer: cfg.LiveSendBuffer, MaxSubscriptions: 50,
		MaxWatches: 10, Heartbeat: cfg.LiveHeartbeat, WriteTimeout: 10 * time.Second, OriginPatterns: originHosts(cfg.CORSOrigins),
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) {
			st := status.Convert(err)
			writeStatus(w, r, httpStatus(st.Code()), st)
		}},
		verifier, live.Backends{Projects: projectsv1.NewProjectsServiceClient(d.Backends.Projects), Runs: agentsClient, Documents: documentsClient},
		&eventbus.Bus{Redis: d.Redis, Keys: d.Keys}, d.Logger)
	go g.live.Run(g.streams)

	root := http.NewServeMux()
	// The API and the JWKS go to the grpc-gateway mux, and so does every request the console
	// does not answer (other methods than GET and HEAD): its routing error handler answers them
	// as it always has (a JSON 404, or 405 on an API path with another method).
	root.Handle("/", consoleOr(site, mux))
	// A browser session's refresh presents the cookie's token (session_cookie.go).
	root.Handle(refreshPattern, routed(refreshFromCookie(mux)))
	root.Handle("GET /api/v1/ws", routed(g.live))
	// The event-stream fallbacks of the socket; their token comes in the Authorization header.
	root.Handle("GET /api/v1/projects/{projectId}/events:stream", routed(http.HandlerFunc(g.live.ServeProjectStream)))
	root.Handle("GET /api/v1/notifications:stream", routed(http.HandlerFunc(g.live.ServeNotificationStream)))
	root.HandleFunc("GET /healthz", healthz)
	root.HandleFunc("GET /readyz", g.readyz(d.Ready, d.Logger))
	root.Handle("GET /metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{}))
	if err := mountDocs(root); err != nil {
		return nil, err
	}

	// Probes and scrapes come from a few addresses at a steady pace: a zero limit exempts them,
	// so a load balancer never sees a 429 and marks the instance unhealthy.
	// The console's files are exempt too: they are embedded, cost no backend call, and one page
	// load fetches many of them; the limits protect the services.
	rateRoutes := []middleware.Rule{
		{Name: "healthz", Method: http.MethodGet, Path: "/healthz"},
		{Name: "readyz", Method: http.MethodGet, Path: "/readyz"},
		{Name: "metrics", Method: http.MethodGet, Path: "/metrics"},
		{Name: "console", Match: isConsoleRequest},
	}
	for _, p := range credentialRoutes {
		rateRoutes = append(rateRoutes, middleware.Rule{Name: p, Method: http.MethodPost, Path: p,
			Limit: redis_rate.PerMinute(cfg.RateLimitAuthIP)})
	}
	metrics := newHTTPMetrics(d.Registry)
	chain := []func(http.Handler) http.Handler{
		recoverPanics(d.Logger),
		func(h http.Handler) http.Handler { return otelhttp.NewHandler(h, "gateway") },
		middleware.RequestID(),
		metrics.middleware(d.Logger),
		middleware.SecurityHeaders(cfg.HSTS),
		middleware.CORS(cfg.CORSOrigins),
		browserSessions(cfg.HSTS),
		middleware.BodyLimit(cfg.MaxBodyBytes),
		middleware.ClientIP(trusted),
		identify(verifier, d.Logger),
		middleware.RateLimit(middleware.RateLimitConfig{
			Redis:   d.Redis,
			Prefix:  d.Keys,
			PerIP:   redis_rate.PerMinute(cfg.RateLimitPerIP),
			Routes:  rateRoutes,
			PerUser: redis_rate.PerMinute(cfg.RateLimitPerUser),
			UserID: func(r *http.Request) (string, bool) {
				id, ok := authn.FromContext(r.Context())
				return id.UserID, ok
			},
			Logger: d.Logger,
		}),
		requireAuth,
	}
	var h http.Handler = beforeMux(root)
	for i := len(chain) - 1; i >= 0; i-- {
		h = chain[i](h)
	}
	g.Handler = h
	return g, nil
}

// consoleRoute is the route label (metrics, access log) of everything the console answers.
const consoleRoute = "console"

// isConsoleRequest reports whether the web console answers r: a GET or HEAD whose path is not
// the API's (/api, /api/...), the JWKS's (/.well-known/...) or an operational endpoint's. Such
// requests are public (isPublic) and not rate limited. The path is judged cleaned, as the root
// mux routes it (it redirects an unclean path to its clean form first), so /x/../api/... is an
// API path here too.
func isConsoleRequest(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := path.Clean("/" + r.URL.Path)
	for _, prefix := range []string{"/api", "/.well-known"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return false
		}
	}
	switch p {
	case "/healthz", "/readyz", "/metrics":
		return false
	}
	return true
}

// consoleOr sends the console's requests to site and every other one to api.
func consoleOr(site, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isConsoleRequest(r) {
			setRoute(r.Context(), consoleRoute)
			site.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// incomingHeaders forwards only what services need from HTTP: the bearer token. The request id
// and client IP are added by forwardedMetadata from values the middleware established, so a
// client cannot set the metadata keys services trust.
func incomingHeaders(key string) (string, bool) {
	if http.CanonicalHeaderKey(key) == "Authorization" {
		return "authorization", true
	}
	return "", false
}

func forwardedMetadata(ctx context.Context, r *http.Request) metadata.MD {
	md := metadata.Pairs(requestid.MetadataKey, requestid.FromContext(ctx))
	if ip, ok := middleware.ClientIPFromContext(ctx); ok {
		md.Set(edge.ClientIPKey, ip.String())
	}
	if p, ok := runtime.HTTPPathPattern(ctx); ok {
		setRoute(ctx, p)
	}
	return md
}

// untrustedHeaders are dropped before the mux: grpc-gateway would turn them into metadata the
// services might trust (the forwarded-for chain, already resolved by the client-IP middleware)
// or obey (a client-chosen gRPC deadline, which could turn any call into a 504).
var untrustedHeaders = []string{"X-Forwarded-For", "X-Forwarded-Host", "Grpc-Timeout", "Forwarded"}

// beforeMux drops untrusted headers and refuses a path or query that is not valid UTF-8 after
// unescaping: protobuf strings must be, and the gRPC client would otherwise fail with a 500.
func beforeMux(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range untrustedHeaders {
			r.Header.Del(h)
		}
		if !utf8.ValidString(r.URL.Path) {
			envelope.WriteError(w, r, http.StatusBadRequest, "INVALID_ARGUMENT", "the request path must be valid UTF-8", nil)
			return
		}
		query, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			envelope.WriteError(w, r, http.StatusBadRequest, "INVALID_ARGUMENT", "malformed query string", nil)
			return
		}
		for name, values := range query {
			for _, v := range values {
				if !utf8.ValidString(name) || !utf8.ValidString(v) {
					envelope.WriteError(w, r, http.StatusBadRequest, "INVALID_ARGUMENT", "query parameters must be valid UTF-8",
						&envelope.Details{Fields: []envelope.Field{{Field: strings.ToValidUTF8(name, "?"), Description: "must be valid UTF-8"}}})
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
