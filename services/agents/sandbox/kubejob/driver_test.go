package kubejob

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/deps"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/deps/depstest"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/preview"
)

// TestMain lets the test binary be the driver's rlimit wrapper, as the runner image's binary is.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == rlimitMode {
		os.Exit(Main(os.Args))
	}
	os.Exit(m.Run())
}

// TestHelperServer is a preview step's server when the test binary is run with
// FL_HELPER_PORT; otherwise it does nothing.
func TestHelperServer(t *testing.T) {
	port := os.Getenv("FL_HELPER_PORT")
	if port == "" {
		return
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	fmt.Println("listening on", port)
	_ = http.ListenAndServe("127.0.0.1:"+port, nil)
	os.Exit(1)
}

// newDriver lays out a pod's directories in a temporary one, with the spec and tree in the bundle.
func newDriver(t *testing.T, s spec, files []sandbox.File) (*driver, *bytes.Buffer) {
	t.Helper()
	root := t.TempDir()
	l := layout{}
	for _, d := range []struct {
		field *string
		name  string
	}{{&l.Bundle, "bundle"}, {&l.Work, "work"}, {&l.Deps, "deps"}, {&l.Home, "home"}, {&l.Tmp, "tmp"}} {
		*d.field = filepath.Join(root, d.name)
		if err := os.Mkdir(*d.field, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := packTree(files)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{specKey: raw, treeKey: tree} {
		if err := os.WriteFile(filepath.Join(l.Bundle, name), b, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := &bytes.Buffer{}
	return &driver{layout: l, out: out, self: self, npmRegistry: deps.DefaultNPMRegistry}, out
}

// drive runs the driver in mode and parses what it wrote.
func drive(t *testing.T, mode string, s spec, files []sandbox.File) transcript {
	t.Helper()
	d, out := newDriver(t, s, files)
	if err := d.run(context.Background(), mode); err != nil {
		t.Fatalf("driver: %v\n%s", err, out)
	}
	tr, err := parseLog(out.Bytes())
	if err != nil || !tr.Done {
		t.Fatalf("the driver's log does not parse (done %v): %v\n%s", tr.Done, err, out)
	}
	return tr
}

func shStep(name, script string) sandbox.Step {
	return sandbox.Step{Name: name, Command: []string{"sh", "-c", script}}
}

func TestDriverRunsStepsInOneTree(t *testing.T) {
	t.Setenv("FL_DRIVER_SECRET", "must-not-leak")
	steps := []sandbox.Step{
		shStep("write", "echo out; echo err >&2; cat hello.txt > copy.txt; exit 3"),
		{Name: "read", Dir: "sub", Command: []string{"sh", "-c", "cat ../copy.txt; cat data.txt; echo coverage > cover.out; ln -s /etc/passwd ../link.out"},
			Results: []string{"sub/cover.out", "link.out", "missing.out"}},
		shStep("env", `echo "GOPROXY=$GOPROXY HOME=$HOME EXTRA=$EXTRA SECRET=$FL_DRIVER_SECRET"`),
		{Name: "no-dir", Dir: "absent", Command: []string{"true"}},
		{Name: "no-command", Command: []string{"no-such-command-fl"}},
	}
	steps[2].Env = []string{"EXTRA=yes"}
	files := []sandbox.File{{Path: "hello.txt", Content: []byte("hello\n")}, {Path: "sub/data.txt", Content: []byte("data\n")}}
	tr := drive(t, PhaseSteps, spec{Steps: steps, Limits: sandbox.DefaultLimits}, files)
	if len(tr.Steps) != len(steps) {
		t.Fatalf("%d results, want %d", len(tr.Steps), len(steps))
	}
	write, read, env, noDir, noCmd := tr.Steps[0], tr.Steps[1], tr.Steps[2], tr.Steps[3], tr.Steps[4]
	if write.ExitCode != 3 || write.Stopped != "" || write.Passed() || !strings.Contains(string(write.Log), "out\n") || !strings.Contains(string(write.Log), "err\n") {
		t.Errorf("write: exit %d stopped %q log %q, want exit 3 with both streams", write.ExitCode, write.Stopped, write.Log)
	}
	if write.Command != `sh -c 'echo out; echo err >&2; cat hello.txt > copy.txt; exit 3'` {
		t.Errorf("command %q", write.Command)
	}
	if !read.Passed() || string(read.Log) != "hello\ndata\n[the result link.out is left out: not a regular file, or reached through a symbolic link]\n" {
		t.Errorf("read: exit %d log %q, want the first step's file, the tree's and a note on the link", read.ExitCode, read.Log)
	}
	if read.Command != "cd sub && sh -c 'cat ../copy.txt; cat data.txt; echo coverage > cover.out; ln -s /etc/passwd ../link.out'" {
		t.Errorf("command %q", read.Command)
	}
	if len(read.Results) != 1 || string(read.Results["sub/cover.out"]) != "coverage\n" {
		t.Errorf("results %q, want sub/cover.out only (the link and the missing file absent)", read.Results)
	}
	if got := strings.TrimSpace(string(env.Log)); !strings.HasPrefix(got, "GOPROXY=off HOME=") || !strings.HasSuffix(got, "EXTRA=yes SECRET=") {
		t.Errorf("environment %q: want the fixed one, the step's own, nothing of the driver's", got)
	}
	for _, r := range []sandbox.StepResult{noDir, noCmd} {
		if r.ExitCode == 0 || r.Passed() {
			t.Errorf("%s: exit %d, want a failure (log %q)", r.Name, r.ExitCode, r.Log)
		}
	}
	if !strings.Contains(string(noDir.Log), "the directory absent is not in the tree") {
		t.Errorf("no-dir log %q", noDir.Log)
	}
	if noCmd.ExitCode != 127 || !strings.Contains(string(noCmd.Log), "no-such-command-fl") {
		t.Errorf("no-command: exit %d log %q, want 127 naming the command", noCmd.ExitCode, noCmd.Log)
	}
}

func TestDriverLimits(t *testing.T) {
	// The wall clock leaves the other steps room on a loaded machine; only "sleep" reaches it.
	limits := sandbox.Limits{WallClock: 3 * time.Second, CPUTime: time.Second, OutputBytes: 1000, FileBytes: 4096}.WithDefaults()
	steps := []sandbox.Step{
		shStep("sleep", "sleep 30"),
		shStep("output", "i=0; while [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done"),
		{Name: "file", Command: []string{"dd", "if=/dev/zero", "of=big", "bs=1000", "count=100"}},
	}
	tr := drive(t, PhaseSteps, spec{Steps: steps, Limits: limits}, nil)
	sleep, output, file := tr.Steps[0], tr.Steps[1], tr.Steps[2]
	if sleep.ExitCode != -1 || sleep.Stopped != "wall-clock limit of 3s reached" {
		t.Errorf("sleep: exit %d stopped %q", sleep.ExitCode, sleep.Stopped)
	}
	if len(output.Log) > 1000 || !strings.Contains(string(output.Log), "\n[output cut: 21.5 KiB in all; the first ") || !output.Passed() {
		t.Errorf("output: %d bytes, exit %d, ending %q", len(output.Log), output.ExitCode, output.Log[max(0, len(output.Log)-120):])
	}
	if file.ExitCode != -1 || file.Stopped != "file size limit of 4 KiB reached" {
		t.Errorf("file: exit %d stopped %q log %q, want stopped by the file size limit", file.ExitCode, file.Stopped, file.Log)
	}

	cpu := sandbox.Limits{WallClock: time.Minute, CPUTime: time.Second}.WithDefaults()
	tr = drive(t, PhaseSteps, spec{Steps: []sandbox.Step{shStep("spin", "while :; do :; done")}, Limits: cpu}, nil)
	if s := tr.Steps[0]; s.ExitCode != -1 || s.Stopped != "CPU time limit of 1s reached" {
		t.Errorf("spin: exit %d stopped %q", s.ExitCode, s.Stopped)
	}
}

func TestDriverPreview(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	limits := sandbox.Limits{WallClock: 30 * time.Second}.WithDefaults()
	steps := []sandbox.Step{
		{Name: "serve", Command: []string{self, "-test.run=^TestHelperServer$"}, Env: []string{"FL_HELPER_PORT=" + strconv.Itoa(port)},
			Preview: &sandbox.Preview{Port: port, HealthPath: "/healthz"}},
		{Name: "crash", Command: []string{"sh", "-c", "echo starting; exit 4"}, Preview: &sandbox.Preview{Port: port, HealthPath: "/healthz"}},
	}
	// With Chromium where the test runs (as in the runner image), the page is screenshotted.
	_, noChromium := exec.LookPath("chromium")
	if noChromium == nil {
		steps[0].Preview.PagePath = "/healthz"
	}
	tr := drive(t, PhaseSteps, spec{Steps: steps, Limits: limits}, nil)
	serve, crash := tr.Steps[0], tr.Steps[1]
	if noChromium == nil && !bytes.HasPrefix(serve.Screenshot, []byte("\x89PNG")) {
		t.Errorf("serve: no screenshot (%d bytes); log %q", len(serve.Screenshot), serve.Log)
	}
	if !serve.Passed() || !strings.Contains(string(serve.Log), "the server answered GET /healthz") {
		t.Errorf("serve: exit %d stopped %q log %q, want passed", serve.ExitCode, serve.Stopped, serve.Log)
	}
	if crash.ExitCode != 4 || !strings.Contains(string(crash.Log), "the server exited before answering GET /healthz") {
		t.Errorf("crash: exit %d log %q, want 4 and why", crash.ExitCode, crash.Log)
	}
	// The first server was stopped with its step: nothing answers any more.
	if status, err := preview.Status(context.Background(), preview.URL(port, "/healthz"), 2*time.Second); err == nil {
		t.Errorf("the preview's server still runs after its step (it answered %d)", status)
	}
}

func TestDriverFetch(t *testing.T) {
	files := []sandbox.File{
		{Path: "go.mod", Content: []byte("module example.com/m\n\ngo 1.21\n")},
		// The fetch runs without the tree's go.work, which would fail it here.
		{Path: "go.work", Content: []byte("go 1.21\n\nuse ./missing\n")},
		{Path: "main.go", Content: []byte("package main\n\nfunc main() {}\n")},
		{Path: "web/package.json", Content: []byte(`{"dependencies": {"left-pad": "^1.3.0", "local": "file:../lib"}}`)},
	}
	fetches := []sandbox.Fetch{{Kind: sandbox.FetchGo, Dir: "."}, {Kind: sandbox.FetchNPM, Dir: "web"}, {Kind: sandbox.FetchGoVulnCheck}}
	d, out := newDriver(t, spec{Fetches: fetches, Limits: sandbox.DefaultLimits}, files)
	if err := d.run(context.Background(), PhaseFetch); err != nil {
		t.Fatal(err)
	}
	tr, err := parseLog(out.Bytes())
	if err != nil || !tr.Done || len(tr.Fetches) != 3 {
		t.Fatalf("transcript %+v, %v", tr, err)
	}
	goFetch, npmFetch, scannerFetch := tr.Fetches[0], tr.Fetches[1], tr.Fetches[2]
	// The pods download no scanner: this machine is not the runner image, which ships it.
	if scannerFetch.OK || !strings.Contains(string(scannerFetch.Log), "the runner image has no "+sandbox.ToolsBinDir+"/govulncheck") {
		t.Errorf("govulncheck fetch outside the runner image: ok %v log %q", scannerFetch.OK, scannerFetch.Log)
	}
	// A module without requirements: nothing to download, so no network needed here.
	if !goFetch.OK || goFetch.Command != "go mod download" {
		t.Errorf("go fetch: ok %v command %q log %q", goFetch.OK, goFetch.Command, goFetch.Log)
	}
	if npmFetch.OK || !strings.Contains(string(npmFetch.Log), `"local" is "file:../lib"`) {
		t.Errorf("npm fetch: ok %v log %q, want refused for its file: dependency", npmFetch.OK, npmFetch.Log)
	}
	if _, err := os.Stat(filepath.Join(d.layout.Deps, "tree", "main.go")); err != nil {
		t.Errorf("the fetch did not leave the tree on the volume: %v", err)
	}

	// The steps pod starts from the tree as the fetch left it, and has its module cache.
	d2, out2 := newDriver(t, spec{Steps: []sandbox.Step{shStep("ls", `ls; echo "$GOMODCACHE"`)}, Limits: sandbox.DefaultLimits}, nil)
	d2.layout.Deps = d.layout.Deps
	if err := d2.run(context.Background(), PhaseSteps); err != nil {
		t.Fatal(err)
	}
	tr, err = parseLog(out2.Bytes())
	if err != nil || len(tr.Steps) != 1 {
		t.Fatalf("transcript %+v, %v", tr, err)
	}
	if log := string(tr.Steps[0].Log); !strings.Contains(log, "main.go\n") || !strings.Contains(log, filepath.Join(d.layout.Deps, "gomod")) {
		t.Errorf("steps after a fetch see %q", log)
	}
}

// The npm fetch reads no .npmrc of the tree and installs nothing a lock file names outside the
// registry: only the registry hears from it. What it installs is in the tree the steps get.
func TestDriverFetchStaysOnTheRegistry(t *testing.T) {
	var atRegistry, elsewhere atomic.Int64
	registry := depstest.NPMRegistry(t, &atRegistry)
	other := depstest.Elsewhere(t, &elsewhere)
	pkg := `{"name":"x","version":"1.0.0","dependencies":{"left-pad":"1.3.0"}}`
	lock := fmt.Sprintf(`{"lockfileVersion":3,"packages":{"":{"dependencies":{"left-pad":"1.3.0"}},"node_modules/left-pad":{"version":%q}}}`, other.URL+"/left-pad.tgz")
	files := []sandbox.File{
		{Path: "web/package.json", Content: []byte(pkg)},
		{Path: "web/.npmrc", Content: []byte("registry=" + other.URL + "/\n")},
		{Path: "locked/package.json", Content: []byte(pkg)},
		{Path: "locked/package-lock.json", Content: []byte(lock)},
	}
	fetches := []sandbox.Fetch{{Kind: sandbox.FetchNPM, Dir: "web"}, {Kind: sandbox.FetchNPM, Dir: "locked"}}
	d, out := newDriver(t, spec{Fetches: fetches, Limits: sandbox.DefaultLimits}, files)
	d.npmRegistry = registry.URL + "/"
	if err := d.run(context.Background(), PhaseFetch); err != nil {
		t.Fatal(err)
	}
	tr, err := parseLog(out.Bytes())
	if err != nil || len(tr.Fetches) != 2 {
		t.Fatalf("transcript %+v, %v", tr, err)
	}
	web, locked := tr.Fetches[0], tr.Fetches[1]
	if !web.OK || atRegistry.Load() == 0 {
		t.Errorf("web: ok %v log %q, %d requests at the registry; want installed from it", web.OK, web.Log, atRegistry.Load())
	}
	if _, err := os.Stat(filepath.Join(d.layout.Deps, "tree", "web", "node_modules", "left-pad", "package.json")); err != nil {
		t.Errorf("the installed package is not in the tree: %v", err)
	}
	if want := `"node_modules/left-pad" has version "` + other.URL; locked.OK || !strings.Contains(string(locked.Log), want) {
		t.Errorf("locked: ok %v log %q, want refused saying %s", locked.OK, locked.Log, want)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the fetches sent %d requests to the server of the tree's .npmrc or lock file", n)
	}
}

// A step that prints far more than the log keeps is stopped, not drained to its end.
func TestDriverStopsAFlood(t *testing.T) {
	limits := sandbox.Limits{OutputBytes: 1000, WallClock: time.Minute}.WithDefaults()
	tr := drive(t, PhaseSteps, spec{Steps: []sandbox.Step{shStep("flood", "yes 0123456789; echo END")}, Limits: limits}, nil)
	s := tr.Steps[0]
	if s.ExitCode != -1 || s.Stopped != "output limit reached: more than 62.5 KiB of output" || len(s.Log) > 1000 || strings.Contains(string(s.Log), "END") {
		t.Errorf("flood: exit %d stopped %q, %d bytes of log", s.ExitCode, s.Stopped, len(s.Log))
	}
}
