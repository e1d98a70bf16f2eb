package app

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/gateway"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/config"
	"github.com/fuzzyllama/fuzzyllama/platform/logging"
	"github.com/fuzzyllama/fuzzyllama/services/agents"
	"github.com/fuzzyllama/fuzzyllama/services/auth"
	"github.com/fuzzyllama/fuzzyllama/services/documents"
)

// Config is the whole process's configuration: shared variables plus each component's own.
type Config struct {
	// Target is what the process runs (see Targets); set it before parsing, since which
	// variables are required depends on it.
	Target string

	Env              string
	DataDir          string
	DatabaseURL      string
	RedisURL         string
	RedisKeyPrefix   string
	HTTPAddr         string
	AuthGRPCAddr     string
	AuthService      string
	ProjectsGRPCAddr string
	ProjectsService  string
	// DocumentsGRPCAddr and DocumentsService: where the documents service listens, and where
	// the gateway finds it.
	DocumentsGRPCAddr string
	DocumentsService  string
	// AgentsGRPCAddr and AgentsService: where the agents service listens, and where the gateway
	// finds it.
	AgentsGRPCAddr string
	AgentsService  string
	// FrontendURL is where the web console is served: reset links in mail point into it, and it
	// is the default CORS origin. Unset, it is the gateway's own origin (see gatewayOrigin);
	// empty after parsing only when that depends on the port the listener gets (HTTP_ADDR with
	// port 0), which Start fills in once it has bound.
	FrontendURL string
	// ServiceCredential is the shared secret services present to the auth service for delegated
	// tokens (background work done for a user).
	ServiceCredential string
	LogLevel          string
	OTLPEndpoint      string
	OTLPInsecure      bool
	PprofAddr         string

	Auth      auth.Config
	Documents documents.Config
	Agents    agents.Config
	Gateway   gateway.Config

	production bool
	// frontendDefaulted: FRONTEND_URL was not set.
	frontendDefaulted bool
	// signingKeyRequired: production and this process runs the auth service.
	signingKeyRequired bool
}

// runs reports whether the process runs the named part.
func (c *Config) runs(part string) bool { return c.Target == "all" || c.Target == part }

// Production reports whether FUZZYLLAMA_ENV is production.
func (c *Config) Production() bool { return c.production }

// Level is the configured log level.
func (c *Config) Level() slog.Level {
	l, _ := logging.ParseLevel(c.LogLevel)
	return l
}

// NewConfigSet declares every variable of the process on a new set, storing into c.
func NewConfigSet(c *Config) *config.Set {
	s := config.NewSet()
	s.Check(func() error {
		if !slices.Contains(Targets, c.Target) {
			return fmt.Errorf("-target: must be one of %s, got %q", strings.Join(Targets, ", "), c.Target)
		}
		return nil
	})
	s.StringVar(&c.Env, "FUZZYLLAMA_ENV", "development", "development or production; production requires DATABASE_URL, REDIS_URL, AUTH_SIGNING_KEY and enables HSTS")
	s.StringVar(&c.DataDir, "DATA_DIR", "data", "directory of the embedded default's SQLite files, signing key and mail outbox")
	s.StringVar(&c.DatabaseURL, "DATABASE_URL", "", "postgres://user:password@host:5432/db; empty uses SQLite files under DATA_DIR")
	s.StringVar(&c.RedisURL, "REDIS_URL", "", "redis://host:6379/0; empty starts an in-process Redis (sessions then end with the process)")
	s.StringVar(&c.RedisKeyPrefix, "REDIS_KEY_PREFIX", "fl", "prefix of every Redis key, so deployments can share a Redis")
	s.StringVar(&c.HTTPAddr, "HTTP_ADDR", "localhost:8080", "where the gateway (or a lone service's health and metrics endpoints) listens")
	s.StringVar(&c.AuthGRPCAddr, "AUTH_GRPC_ADDR", ":9091", "where the auth service listens for gRPC when run alone (-target=auth)")
	s.StringVar(&c.AuthService, "AUTH_SERVICE_ADDR", "localhost:9091", "gRPC address of the auth service, for the other targets")
	s.StringVar(&c.ProjectsGRPCAddr, "PROJECTS_GRPC_ADDR", ":9092", "where the projects service listens for gRPC when run alone (-target=projects)")
	s.StringVar(&c.ProjectsService, "PROJECTS_SERVICE_ADDR", "localhost:9092", "gRPC address of the projects service, for -target=documents and -target=gateway")
	s.StringVar(&c.DocumentsGRPCAddr, "DOCUMENTS_GRPC_ADDR", ":9093", "where the documents service listens for gRPC when run alone (-target=documents)")
	s.StringVar(&c.DocumentsService, "DOCUMENTS_SERVICE_ADDR", "localhost:9093", "gRPC address of the documents service, for -target=gateway")
	s.StringVar(&c.AgentsGRPCAddr, "AGENTS_GRPC_ADDR", ":9094", "where the agents service listens for gRPC when run alone (-target=agents)")
	s.StringVar(&c.AgentsService, "AGENTS_SERVICE_ADDR", "localhost:9094", "gRPC address of the agents service, for -target=gateway")
	s.StringVar(&c.FrontendURL, "FRONTEND_URL", "", "public URL of the web console, which the gateway serves at /: password-reset links in mail point there, "+
		"and it is the default CORS origin; default: the gateway's own origin, http://localhost:<port of HTTP_ADDR> (http://<host>:<port> for a host that is not local). "+
		"-target=auth cannot know it and defaults to http://localhost:8080: in production set it, on the auth and gateway processes, to the URL users open")
	s.StringVar(&c.ServiceCredential, "SERVICE_CREDENTIAL", "", "shared secret (at least 32 characters) with which services obtain delegated tokens from the auth service (the agents for background work, documents to record deliverables); required by -target=documents and -target=agents, and in production by -target=auth; generated per process by -target=all")
	s.StringVar(&c.LogLevel, "LOG_LEVEL", "info", "debug, info, warn or error")
	s.StringVar(&c.OTLPEndpoint, "OTEL_EXPORTER_OTLP_ENDPOINT", "", "host:port of an OTLP/gRPC collector; empty disables span export")
	s.BoolVar(&c.OTLPInsecure, "OTEL_EXPORTER_OTLP_INSECURE", true, "send spans without TLS")
	s.StringVar(&c.PprofAddr, "DEBUG_PPROF_ADDR", "", "when set (e.g. 127.0.0.1:6060), serve Go's pprof profiles there; never expose it publicly")
	// Checks run in the order they are added: this one sets production before the others read it.
	s.Check(func() error {
		switch c.Env {
		case "development", "production":
			c.production = c.Env == "production"
			c.signingKeyRequired = c.production && c.runs("auth")
			c.Gateway.HSTS = c.production
			return nil
		}
		return config.Errorf("FUZZYLLAMA_ENV", "must be development or production, got %q", c.Env)
	})
	c.Auth.Register(s, &c.signingKeyRequired)
	c.Documents.Register(s)
	c.Agents.Register(s)
	c.Gateway.Register(s)

	s.Check(func() error {
		if c.production && c.DatabaseURL == "" && (c.runs("auth") || c.runs("projects") || c.runs("documents") || c.runs("agents")) {
			return config.Errorf("DATABASE_URL", "is required in production")
		}
		return config.CheckURL("DATABASE_URL", c.DatabaseURL, "postgres", "postgresql")
	})
	s.Check(func() error {
		if c.production && c.RedisURL == "" {
			return config.Errorf("REDIS_URL", "is required in production")
		}
		return config.CheckURL("REDIS_URL", c.RedisURL, "redis", "rediss")
	})
	s.Check(func() error {
		if c.FrontendURL == "" {
			c.frontendDefaulted = true
			if !c.runs("gateway") {
				c.FrontendURL = defaultGatewayOrigin
			} else if c.FrontendURL, _ = gatewayOrigin(c.HTTPAddr); c.FrontendURL == "" {
				return nil // known once the listener is bound (Start); a bad HTTP_ADDR is reported below
			}
		}
		if err := config.CheckURL("FRONTEND_URL", c.FrontendURL, "http", "https"); err != nil {
			return err
		}
		c.FrontendURL = strings.TrimSuffix(c.FrontendURL, "/")
		if len(c.Gateway.CORSOrigins) == 0 {
			c.Gateway.CORSOrigins = []string{c.FrontendURL}
		}
		return nil
	})
	s.Check(func() error {
		switch {
		case c.ServiceCredential != "" && len(c.ServiceCredential) < authn.MinServiceCredentialLen:
			return config.Errorf("SERVICE_CREDENTIAL", "must be at least %d characters (generate one with: head -c32 /dev/urandom | base64)", authn.MinServiceCredentialLen)
		case c.ServiceCredential == "" && c.Target != "all" && (c.runs("agents") || c.runs("documents") || c.production && c.runs("auth")):
			return config.Errorf("SERVICE_CREDENTIAL", "is required by -target=%s (the same value for auth, documents and agents)", c.Target)
		}
		return nil
	})
	s.Check(func() error {
		if _, ok := logging.ParseLevel(c.LogLevel); !ok {
			return config.Errorf("LOG_LEVEL", "must be debug, info, warn or error, got %q", c.LogLevel)
		}
		return nil
	})
	for _, a := range []struct {
		name string
		addr *string
	}{{"HTTP_ADDR", &c.HTTPAddr}, {"AUTH_GRPC_ADDR", &c.AuthGRPCAddr}, {"PROJECTS_GRPC_ADDR", &c.ProjectsGRPCAddr},
		{"DOCUMENTS_GRPC_ADDR", &c.DocumentsGRPCAddr}, {"AGENTS_GRPC_ADDR", &c.AgentsGRPCAddr}} {
		s.Check(func() error {
			if _, _, err := net.SplitHostPort(*a.addr); err != nil {
				return config.Errorf(a.name, "must be host:port or :port, got %q", *a.addr)
			}
			return nil
		})
	}
	return s
}

// defaultGatewayOrigin is the origin of a gateway on the default HTTP_ADDR: FRONTEND_URL's
// default in a process that does not run the gateway.
const defaultGatewayOrigin = "http://localhost:8080"

// gatewayOrigin is the origin at which a browser reaches a gateway listening on addr:
// http://localhost:<port> when the host is empty, unspecified (0.0.0.0, ::) or loopback, else
// http://<host>:<port>. ok is false when addr is not host:port or its port is not a number
// other than 0: then only the bound listener's address tells.
func gatewayOrigin(addr string) (origin string, ok bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return "", false
	}
	if ip, err := netip.ParseAddr(host); host == "" || strings.EqualFold(host, "localhost") || err == nil && (ip.IsUnspecified() || ip.IsLoopback()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port), true
}
