package preview

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

func TestCheck(t *testing.T) {
	if err := Check(&sandbox.Preview{Port: 8080, HealthPath: "/healthz", PagePath: "/"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    sandbox.Preview
		want string
	}{
		{sandbox.Preview{Port: 0, HealthPath: "/"}, "port 0 is not a TCP port"},
		{sandbox.Preview{Port: 65536, HealthPath: "/"}, "port 65536 is not a TCP port"},
		{sandbox.Preview{Port: 80, HealthPath: "healthz"}, `health path "healthz" does not start with /`},
		{sandbox.Preview{Port: 80, HealthPath: "/", PagePath: "@evil.example/"}, `page path "@evil.example/" does not start with /`},
	} {
		if err := Check(&c.p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want it to say %s", c.p, err, c.want)
		}
	}
}

// A server is healthy at its first 2xx or 3xx (a redirect is not followed), not before.
func TestWaitHealthy(t *testing.T) {
	var tries atomic.Int64
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tries.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, "http://unreachable.invalid/", http.StatusFound)
	}))
	defer server.Close()
	status, err := WaitHealthy(context.Background(), server.URL+"/healthz", 20*time.Second, nil)
	if err != nil || status != http.StatusFound || tries.Load() != 3 {
		t.Errorf("status %d err %v after %d tries; want 302 at the third", status, err, tries.Load())
	}
}

func TestWaitHealthyGivesUp(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer server.Close()
	_, err := WaitHealthy(context.Background(), server.URL+"/", time.Second, nil)
	if err == nil || !strings.Contains(err.Error(), "did not answer "+server.URL+"/ with a 2xx or 3xx within 1s (last: it answered 500)") {
		t.Errorf("err = %v", err)
	}

	exited := make(chan struct{})
	close(exited)
	if _, err := WaitHealthy(context.Background(), server.URL+"/", time.Minute, exited); !errors.Is(err, ErrServerExited) {
		t.Errorf("a server that exited: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := WaitHealthy(ctx, server.URL+"/", time.Minute, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled wait: err = %v", err)
	}
}

func TestReadScreenshot(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nrest of the image")
	for _, c := range []struct {
		name  string
		setup func(dir string) error
		want  string // "" for the PNG
	}{
		{"png", func(dir string) error { return os.WriteFile(filepath.Join(dir, ScreenshotName), png, 0o644) }, ""},
		{"not a png", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, ScreenshotName), []byte("<html>"), 0o644)
		}, "not a PNG"},
		{"none", func(string) error { return nil }, "left no screenshot"},
		{"link", func(dir string) error {
			other := filepath.Join(t.TempDir(), "other.png")
			if err := os.WriteFile(other, png, 0o644); err != nil {
				return err
			}
			return os.Symlink(other, filepath.Join(dir, ScreenshotName))
		}, "left no screenshot"},
	} {
		dir := t.TempDir()
		if err := c.setup(dir); err != nil {
			t.Fatal(err)
		}
		data, err := ReadScreenshot(dir)
		if c.want == "" && (err != nil || string(data) != string(png)) || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %d bytes, err %v; want %q", c.name, len(data), err, c.want)
		}
	}
}
