package bwrap

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

func TestMain(m *testing.M) {
	Init()
	base, err := os.MkdirTemp("", "bwrap-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(base, 0o711) // the sandbox uid must reach the trees and caches under it
	testBase = base
	code := m.Run()
	removeAll(base)
	os.Exit(code)
}

var (
	testBase   string
	runnerOnce sync.Once
	runner     *Runner
	runnerErr  error
)

// testRunner is the package's Runner, made once. Without bwrap the tests are skipped on a
// developer's machine and fail in CI (CI is set), where the sandbox is part of what is tested.
func testRunner(t testing.TB) *Runner {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("bubblewrap is not installed (apt-get install bubblewrap); the sandbox tests need it and run in CI")
		}
		t.Fatal("bubblewrap is not installed, and CI is set: the sandbox tests must run (apt-get install bubblewrap)")
	}
	runnerOnce.Do(func() {
		runner, runnerErr = New(Config{CacheDir: testBase + "/cache", WorkDir: testBase + "/work"})
	})
	if runnerErr != nil {
		t.Fatal(runnerErr)
	}
	return runner
}

// runJob runs a job and fails the test when Run itself fails.
func runJob(t *testing.T, job sandbox.Job) sandbox.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if job.ProjectID == "" {
		job.ProjectID = t.Name()
	}
	res, err := testRunner(t).Run(ctx, job)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, f := range res.Fetches {
		t.Logf("fetch %s: ok=%v in %s\n%s", f.Command, f.OK, f.Duration.Round(time.Millisecond), f.Log)
	}
	for _, s := range res.Steps {
		t.Logf("step %s: %s → exit %d stopped %q in %s\n%s", s.Name, s.Command, s.ExitCode, s.Stopped, s.Duration.Round(time.Millisecond), truncate(s.Log, 2000))
	}
	if len(res.Steps) != len(job.Steps) {
		t.Fatalf("%d step results for %d steps", len(res.Steps), len(job.Steps))
	}
	return res
}

// runShell runs one shell script as a step with the given limits.
func runShell(t *testing.T, lim sandbox.Limits, script string, files ...sandbox.File) sandbox.StepResult {
	t.Helper()
	res := runJob(t, sandbox.Job{Files: files, Limits: lim,
		Steps: []sandbox.Step{{Name: "script", Command: []string{"sh", "-c", script}}}})
	return res.Steps[0]
}

// mustFail checks that a step failed, and that Stopped names the limit (when want is not "").
func mustFail(t *testing.T, s sandbox.StepResult, want string) {
	t.Helper()
	if s.Passed() {
		t.Fatalf("the step passed; it must fail\n%s", s.Log)
	}
	if want != "" && !strings.Contains(s.Stopped, want) {
		t.Fatalf("Stopped = %q, want it to name %q", s.Stopped, want)
	}
	if want != "" && s.ExitCode != -1 {
		t.Errorf("ExitCode = %d for a step the sandbox stopped, want -1", s.ExitCode)
	}
}

func mustPass(t *testing.T, s sandbox.StepResult) {
	t.Helper()
	if !s.Passed() {
		t.Fatalf("step %s failed: exit %d, stopped %q\n%s", s.Name, s.ExitCode, s.Stopped, s.Log)
	}
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

func file(path, content string) sandbox.File {
	return sandbox.File{Path: path, Content: []byte(content)}
}
