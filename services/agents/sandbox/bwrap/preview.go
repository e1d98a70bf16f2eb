package bwrap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/internal/filecopy"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/preview"
)

// A preview step runs, inside one sandbox, this binary as a probe (previewName) that starts the
// step's server, polls it on the sandbox's own loopback until it answers, has headless Chromium
// screenshot the page, and stops the server. Being in the same network namespace is what lets it
// reach a server that nothing outside the sandbox can.

// Paths of a preview inside the sandbox.
const (
	sandboxProbe = "/.fuzzyllama/" + previewName
	sandboxOut   = "/.fuzzyllama-out" // the probe's output dir, the one place it writes
)

// previewSpec is what the runner tells the probe (its first argument, JSON).
type previewSpec struct {
	Port       int           `json:"port"`
	HealthPath string        `json:"health_path"`
	PagePath   string        `json:"page_path,omitempty"`
	Chromium   string        `json:"chromium,omitempty"`
	HealthWait time.Duration `json:"health_wait"`
	ShotWait   time.Duration `json:"shot_wait"`
}

// previewRun is a preview step's side of the runner: the probe binary and the output dir.
type previewRun struct {
	spec previewSpec
	out  string // the host dir mounted at sandboxOut
	exe  string
}

// newPreview checks the step's Preview and makes the output dir.
func (r *Runner) newPreview(j *job, step sandbox.Step, lim sandbox.Limits) (*previewRun, error) {
	p := step.Preview
	if err := preview.Check(p); err != nil {
		return nil, fmt.Errorf("%w: %v", errStepRefused, err)
	}
	exe, err := r.probeBinary()
	if err != nil {
		return nil, err
	}
	out, err := os.MkdirTemp(j.dir, "preview-")
	if err != nil {
		return nil, err
	}
	if err := r.makeSandboxDir(out); err != nil {
		return nil, err
	}
	// The probe stops in time to report, before the runner's wall clock stops everything.
	spec := previewSpec{Port: p.Port, HealthPath: p.HealthPath, PagePath: p.PagePath}
	budget := lim.WallClock - min(max(lim.WallClock/10, time.Second), 5*time.Second)
	if p.PagePath != "" && r.cfg.Chromium != "" {
		spec.Chromium = r.cfg.Chromium
		spec.ShotWait = min(budget/3, time.Minute)
	}
	spec.HealthWait = budget - spec.ShotWait
	return &previewRun{spec: spec, out: out, exe: exe}, nil
}

// errStepRefused marks a step the runner will not run as given; it becomes a failed result.
var errStepRefused = errors.New("the step is refused")

// probeBinary is this binary, where the sandbox uid can read it: where it is when every dir
// above it lets others through, else linked (or copied) once into the work dir (go test's
// binaries are in 0700 dirs).
func (r *Runner) probeBinary() (string, error) {
	r.probeOnce.Do(func() {
		if othersCanRead(r.exe) {
			r.probeExe = r.exe
			return
		}
		// One per Runner: several in one process may share the work dir.
		dir := filepath.Join(r.cfg.WorkDir, fmt.Sprintf("bin-%d-%d", os.Getpid(), probeSeq.Add(1)))
		if r.probeErr = os.MkdirAll(dir, 0o711); r.probeErr != nil {
			return
		}
		r.probeExe = filepath.Join(dir, previewName)
		if os.Link(r.exe, r.probeExe) == nil {
			if r.probeErr = os.Chmod(r.probeExe, 0o755); r.probeErr == nil {
				return
			}
		}
		os.Remove(r.probeExe) // a link whose mode could not be set
		r.probeErr = filecopy.File(r.exe, r.probeExe, 0o755)
	})
	return r.probeExe, r.probeErr
}

// othersCanRead reports whether any user may read and run the file at p.
func othersCanRead(p string) bool {
	info, err := os.Stat(p)
	if err != nil || info.Mode().Perm()&0o005 != 0o005 {
		return false
	}
	for d := filepath.Dir(p); ; d = filepath.Dir(d) {
		if info, err := os.Stat(d); err != nil || info.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == "/" {
			return true
		}
	}
}

// bwrapArgs mount the probe and its output dir.
func (p *previewRun) bwrapArgs() []string {
	return []string{"--ro-bind", p.exe, sandboxProbe, "--bind", p.out, sandboxOut}
}

// command is the probe's command line, which runs server.
func (p *previewRun) command(server []string) []string {
	spec, _ := json.Marshal(p.spec)
	return append([]string{sandboxProbe, string(spec), "--"}, server...)
}

// screenshot is the PNG the probe left, if any.
func (p *previewRun) screenshot() []byte {
	data, _ := preview.ReadScreenshot(p.out)
	return data
}

// runPreview is the probe, inside the sandbox: args are its spec, "--" and the server's argv.
// It exits 0 once the server answered (screenshot or not), 1 when it did not.
func runPreview(args []string) int {
	say := func(format string, a ...any) { fmt.Printf("preview: "+format+"\n", a...) }
	if len(args) < 3 || args[1] != "--" {
		say("expects its spec, -- and the server's command")
		return 2
	}
	var spec previewSpec
	if err := json.Unmarshal([]byte(args[0]), &spec); err != nil {
		say("reading its spec: %v", err)
		return 2
	}
	server := exec.Command(args[2], args[3:]...)
	server.Stdout, server.Stderr = os.Stdout, os.Stderr
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := server.Start(); err != nil {
		say("the server did not start: %v", err)
		return 1
	}
	exited := &serverExit{done: make(chan struct{})}
	go func() { exited.err = server.Wait(); close(exited.done) }()
	defer stopServer(server, exited.done)

	start := time.Now()
	health := preview.URL(spec.Port, spec.HealthPath)
	status, err := preview.WaitHealthy(context.Background(), health, spec.HealthWait, exited.done)
	if errors.Is(err, preview.ErrServerExited) {
		say("the server exited (%s) before answering %s", describeExit(exited.err), health)
		return 1
	} else if err != nil {
		say("%v", err)
		return 1
	}
	say("GET %s answered %d after %s", spec.HealthPath, status, time.Since(start).Round(time.Millisecond))
	switch {
	case spec.PagePath == "":
	case spec.Chromium == "":
		say("no screenshot: Chromium is not installed where the sandbox runs")
	default:
		if err := screenshot(spec.Chromium, preview.URL(spec.Port, spec.PagePath), spec.ShotWait); err != nil {
			say("no screenshot of %s: %v", spec.PagePath, err)
		} else {
			say("screenshot of %s taken", spec.PagePath)
		}
	}
	return 0
}

// serverExit is the server's end: done is closed when it exited, with err.
type serverExit struct {
	done chan struct{}
	err  error
}

func describeExit(err error) string {
	if err == nil {
		return "exit code 0"
	}
	return err.Error()
}

// screenshot has headless Chromium write the page to the output dir.
func screenshot(chromium, url string, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	shot := filepath.Join(sandboxOut, preview.ScreenshotName)
	cmd := exec.CommandContext(ctx, chromium, preview.ChromiumArgs(url, sandboxOut, "/tmp/chromium")...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, statErr := os.Stat(shot); statErr == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("Chromium took more than %s", wait.Round(time.Second))
	}
	tail := out.Bytes()[max(0, out.Len()-2000):]
	return fmt.Errorf("Chromium failed (%v): %s", err, bytes.TrimSpace(tail))
}

// stopServer ends the server's process group: SIGTERM, then SIGKILL.
func stopServer(server *exec.Cmd, exited <-chan struct{}) {
	syscall.Kill(-server.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(2 * time.Second):
	}
	syscall.Kill(-server.Process.Pid, syscall.SIGKILL)
}

// probeSeq numbers the probe binaries' dirs in this process.
var probeSeq atomic.Int64

// probeState is the Runner's lazily made copy of its binary for previews.
type probeState struct {
	probeOnce sync.Once
	probeExe  string
	probeErr  error
}
