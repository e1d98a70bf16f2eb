package app

import (
	"slices"
	"strings"
	"testing"
)

func parse(env map[string]string) (Config, error) {
	c := Config{Target: "all"}
	err := NewConfigSet(&c).Parse(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return c, err
}

func TestDefaultsNeedNoConfiguration(t *testing.T) {
	c, err := parse(nil)
	if err != nil {
		t.Fatalf("the embedded default must start with no configuration: %v", err)
	}
	if c.HTTPAddr != "localhost:8080" || c.DatabaseURL != "" || c.RedisURL != "" || c.Production() {
		t.Errorf("defaults: %+v", c)
	}
	if c.FrontendURL != "http://localhost:8080" {
		t.Errorf("FRONTEND_URL defaults to the gateway's own origin: %q", c.FrontendURL)
	}
	if len(c.Gateway.CORSOrigins) != 1 || c.Gateway.CORSOrigins[0] != c.FrontendURL {
		t.Errorf("CORS origins default to FRONTEND_URL: %v", c.Gateway.CORSOrigins)
	}
}

// Unset, FRONTEND_URL is the origin at which a browser reaches the gateway (which serves the
// console): localhost for a local or unspecified host. A process without the gateway cannot know
// it and takes the default gateway's; a port chosen at binding leaves it to Start.
func TestFrontendURLDefaultsToTheGatewaysOrigin(t *testing.T) {
	for _, c := range []struct {
		target, httpAddr, frontendURL, want string
	}{
		{"all", "localhost:8080", "", "http://localhost:8080"},
		{"all", ":9000", "", "http://localhost:9000"},
		{"gateway", "0.0.0.0:80", "", "http://localhost:80"},
		{"gateway", "[::]:8080", "", "http://localhost:8080"},
		{"all", "127.0.0.1:8081", "", "http://localhost:8081"},
		{"all", "[::1]:8080", "", "http://localhost:8080"},
		{"gateway", "10.0.0.5:8080", "", "http://10.0.0.5:8080"},
		{"gateway", "app.internal:8080", "", "http://app.internal:8080"},
		{"gateway", "[2001:db8::1]:8080", "", "http://[2001:db8::1]:8080"},
		{"all", "127.0.0.1:0", "", ""}, // known once bound: Start fills it in
		{"all", "localhost:http", "", ""},
		{"auth", ":8081", "", "http://localhost:8080"}, // the auth process's HTTP_ADDR is not the gateway's
		{"all", ":9000", "https://fuzzyllama.example.com/", "https://fuzzyllama.example.com"},
		{"auth", ":8081", "https://fuzzyllama.example.com", "https://fuzzyllama.example.com"},
	} {
		env := map[string]string{"HTTP_ADDR": c.httpAddr, "SERVICE_CREDENTIAL": strings.Repeat("s", 40)}
		if c.frontendURL != "" {
			env["FRONTEND_URL"] = c.frontendURL
		}
		cfg := Config{Target: c.target}
		if err := NewConfigSet(&cfg).Parse(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if cfg.FrontendURL != c.want || cfg.frontendDefaulted != (c.frontendURL == "") {
			t.Errorf("-target=%s HTTP_ADDR=%s FRONTEND_URL=%q: %q (defaulted %v), want %q", c.target, c.httpAddr, c.frontendURL,
				cfg.FrontendURL, cfg.frontendDefaulted, c.want)
		}
		wantCORS := []string{c.want}
		if c.want == "" {
			wantCORS = nil
		}
		if !slices.Equal(cfg.Gateway.CORSOrigins, wantCORS) {
			t.Errorf("HTTP_ADDR=%s: CORS origins %v, want %v", c.httpAddr, cfg.Gateway.CORSOrigins, wantCORS)
		}
	}
	// An explicit CORS list is kept.
	var cfg Config
	cfg.Target = "all"
	env := map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example.com,https://b.example.com"}
	if err := NewConfigSet(&cfg).Parse(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil ||
		!slices.Equal(cfg.Gateway.CORSOrigins, []string{"https://a.example.com", "https://b.example.com"}) {
		t.Errorf("CORS origins %v (%v)", cfg.Gateway.CORSOrigins, err)
	}
	// A malformed HTTP_ADDR is reported as such, not as a FRONTEND_URL problem.
	_, err := parse(map[string]string{"HTTP_ADDR": "8080"})
	if err == nil || !strings.Contains(err.Error(), "HTTP_ADDR") || strings.Contains(err.Error(), "FRONTEND_URL") {
		t.Errorf("HTTP_ADDR=8080: %v", err)
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	_, err := parse(map[string]string{
		"FUZZYLLAMA_ENV": "production",
		"FRONTEND_URL":   "not a url",
		"REDIS_URL":      "redis://r:6379",
		"LOG_LEVEL":      "loud",
	})
	if err == nil {
		t.Fatal("production without database or signing key accepted")
	}
	for _, want := range []string{"DATABASE_URL: is required in production", "AUTH_SIGNING_KEY: is required in production",
		"FRONTEND_URL: must be an absolute URL", "LOG_LEVEL: must be"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}

	_, err = parse(map[string]string{"DATABASE_URL": "mysql://u:hunter2@db/x", "HTTP_ADDR": "8080",
		"AUTH_SIGNING_KEY": "c2hvcnQ=", "TRUSTED_PROXIES": "10.0.0.0/8,nonsense", "AUTH_ACCESS_TOKEN_TTL": "soon"})
	if err == nil || !strings.Contains(err.Error(), "AUTH_ACCESS_TOKEN_TTL") {
		t.Fatalf("malformed duration not reported: %v", err)
	}
	_, err = parse(map[string]string{"DATABASE_URL": "mysql://u:hunter2@db/x", "HTTP_ADDR": "8080",
		"AUTH_SIGNING_KEY": "c2hvcnQ=", "TRUSTED_PROXIES": "10.0.0.0/8,nonsense"})
	for _, want := range []string{"DATABASE_URL: scheme must be one of postgres", "HTTP_ADDR:", "AUTH_SIGNING_KEY: must decode to 32 bytes", "TRUSTED_PROXIES:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a password was echoed: %v", err)
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	var c Config
	var b strings.Builder
	NewConfigSet(&c).Usage(&b)
	for _, v := range []string{"DATABASE_URL", "REDIS_URL", "HTTP_ADDR", "AUTH_SIGNING_KEY", "FRONTEND_URL",
		"RATE_LIMIT_PER_IP_PER_MINUTE", "TRUSTED_PROXIES", "CORS_ALLOWED_ORIGINS", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if !strings.Contains(b.String(), v) {
			t.Errorf("-help lacks %s", v)
		}
	}
}

func TestRequirementsDependOnTheTarget(t *testing.T) {
	c := Config{Target: "gateway"}
	err := NewConfigSet(&c).Parse(func(k string) (string, bool) {
		v, ok := map[string]string{"FUZZYLLAMA_ENV": "production", "REDIS_URL": "redis://r:6379"}[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("a production gateway needs no database or signing key: %v", err)
	}
	c = Config{Target: "nope"}
	if err := NewConfigSet(&c).Parse(func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), "-target") {
		t.Fatalf("unknown target accepted: %v", err)
	}
}
