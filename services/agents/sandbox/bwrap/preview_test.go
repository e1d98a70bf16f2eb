package bwrap

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// nodeServer is a server answering every path with a page, on port 8080 of the sandbox.
var nodeServer = []string{"node", "-e", `require("http").createServer((req, res) => {
  res.setHeader("Content-Type", "text/html");
  res.end("<!doctype html><title>t</title><h1 style='color:#7c3aed'>Hello from the sandbox</h1>");
}).listen(8080, "127.0.0.1", () => console.log("listening"))`}

// A preview step starts the server, finds it healthy on the sandbox's loopback and, with
// Chromium installed, screenshots the page; the server is stopped after.
func TestPreview(t *testing.T) {
	r := testRunner(t)
	s := runJob(t, sandbox.Job{Limits: sandbox.Limits{WallClock: 60 * time.Second}, Steps: []sandbox.Step{{
		Name: "preview", Command: nodeServer,
		Preview: &sandbox.Preview{Port: 8080, HealthPath: "/healthz", PagePath: "/"},
	}}}).Steps[0]
	mustPass(t, s)
	if !bytes.Contains(s.Log, []byte("listening")) || !bytes.Contains(s.Log, []byte("preview: GET /healthz answered 200")) {
		t.Fatalf("log:\n%s", s.Log)
	}
	if r.cfg.Chromium == "" {
		if s.Screenshot != nil || !bytes.Contains(s.Log, []byte("Chromium is not installed")) {
			t.Fatalf("without Chromium: screenshot %d bytes, log:\n%s", len(s.Screenshot), s.Log)
		}
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is not installed at /usr/bin/chromium, and CI is set: the screenshot must be tested (apt-get install chromium)")
		}
		t.Skip("Chromium is not installed: the screenshot is not tested")
	}
	if !bytes.HasPrefix(s.Screenshot, []byte("\x89PNG")) || len(s.Screenshot) < 1000 {
		t.Fatalf("no screenshot (%d bytes); log:\n%s", len(s.Screenshot), s.Log)
	}
}

// A server that never answers fails the step within the wall clock, saying so; one that exits
// fails it at once.
func TestPreviewUnhealthy(t *testing.T) {
	s := runJob(t, sandbox.Job{Limits: sandbox.Limits{WallClock: 3 * time.Second}, Steps: []sandbox.Step{{
		Name: "preview", Command: []string{"sleep", "60"}, Preview: &sandbox.Preview{Port: 8080, HealthPath: "/"},
	}}}).Steps[0]
	mustFail(t, s, "")
	if s.Stopped != "" || !strings.Contains(string(s.Log), "did not answer http://127.0.0.1:8080/") {
		t.Fatalf("stopped %q, log:\n%s", s.Stopped, s.Log)
	}
	s = runJob(t, sandbox.Job{Steps: []sandbox.Step{{
		Name: "preview", Command: []string{"sh", "-c", "echo crashing; exit 3"}, Preview: &sandbox.Preview{Port: 8080, HealthPath: "/"},
	}}}).Steps[0]
	mustFail(t, s, "")
	if s.Duration > 20*time.Second || !strings.Contains(string(s.Log), "the server exited (exit status 3)") {
		t.Fatalf("in %s, log:\n%s", s.Duration, s.Log)
	}
	s = runJob(t, sandbox.Job{Steps: []sandbox.Step{{
		Name: "preview", Command: []string{"true"}, Preview: &sandbox.Preview{Port: 0, HealthPath: "/"},
	}}}).Steps[0]
	if s.Passed() || !strings.Contains(string(s.Log), "port 0 is not a TCP port") {
		t.Fatalf("a bad port: %+v", s)
	}
}
