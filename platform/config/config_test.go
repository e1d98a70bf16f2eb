package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// testSet declares a typical set: typed values, a URL check and a required-in-production check.
func testSet() *Set {
	s := NewSet()
	var port int
	var ttl time.Duration
	var url, key string
	s.IntVar(&port, "PORT", 8080, "port")
	s.DurationVar(&ttl, "TTL", time.Minute, "ttl")
	s.StringVar(&url, "FRONTEND_URL", "", "frontend")
	s.StringVar(&key, "SIGNING_KEY", "", "key")
	s.Check(func() error { return CheckURL("FRONTEND_URL", url, "http", "https") })
	s.Check(func() error {
		if key == "" {
			return Errorf("SIGNING_KEY", "is required in production")
		}
		return nil
	})
	return s
}

func TestParseReportsEveryProblemNamingTheVariable(t *testing.T) {
	err := testSet().Parse(lookup(map[string]string{"PORT": "eighty", "TTL": "soon"}))
	for _, want := range []string{"PORT", "TTL"} {
		if err == nil || !strings.Contains(err.Error(), want+": invalid value") {
			t.Errorf("error %v does not name %s", err, want)
		}
	}

	err = testSet().Parse(lookup(map[string]string{"FRONTEND_URL": "not a url"}))
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Fatalf("want both problems at once, got %v", err)
	}
	if !strings.Contains(err.Error(), "FRONTEND_URL: must be an absolute URL") || !strings.Contains(err.Error(), "SIGNING_KEY: is required") {
		t.Errorf("unclear messages: %v", err)
	}
}

func TestCheckURLNeverEchoesPassword(t *testing.T) {
	err := CheckURL("DATABASE_URL", "postgres://u:s3cret@/db", "postgres")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("got %v", err)
	}
}

func TestUsageListsDefaults(t *testing.T) {
	s := NewSet()
	var a string
	var l []string
	s.StringVar(&a, "HTTP_ADDR", "localhost:8080", "where the gateway listens")
	s.ListVar(&l, "CORS_ALLOWED_ORIGINS", "http://localhost:5173", "origins")
	var b strings.Builder
	s.Usage(&b)
	for _, want := range []string{"HTTP_ADDR", "localhost:8080", "where the gateway listens", "CORS_ALLOWED_ORIGINS"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, b.String())
		}
	}
	if err := s.Parse(lookup(map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example, ,https://b.example"})); err != nil || len(l) != 2 {
		t.Fatalf("list parse: %v %v", l, err)
	}
}
