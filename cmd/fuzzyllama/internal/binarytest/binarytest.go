// Package binarytest builds the real fuzzyllama binary once per test run, for the tests that
// start it as a user or an operator would (cmd/fuzzyllama/e2e, cmd/fuzzyllama/faults).
package binarytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once sync.Once
	dir  string
	path string
	err  error
)

// Path returns the binary, building it on first use — without the race detector: the processes
// are the system under test, not the test.
func Path(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if dir, err = os.MkdirTemp("", "fuzzyllama-bin-"); err != nil {
			return
		}
		path = filepath.Join(dir, "fuzzyllama")
		if out, buildErr := exec.Command("go", "build", "-o", path, "github.com/fuzzyllama/fuzzyllama/cmd/fuzzyllama").CombinedOutput(); buildErr != nil {
			err = fmt.Errorf("go build: %v\n%s", buildErr, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Cleanup removes the binary built by Path, if any; TestMain calls it after the tests.
func Cleanup() {
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
}
