package app

import (
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
	if len(c.Gateway.CORSOrigins) != 1 || c.Gateway.CORSOrigins[0] != c.FrontendURL {
		t.Errorf("CORS origins default to FRONTEND_URL: %v", c.Gateway.CORSOrigins)
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
