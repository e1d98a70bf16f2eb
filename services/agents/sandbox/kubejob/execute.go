package kubejob

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/capture"
)

// rlimitMode is the driver re-run as the step's first process: it sets the step's rlimits on
// itself and execs the step's command ("fuzzyllama-sandbox rlimit CPU FSIZE -- argv…"), since
// Go's os/exec cannot set a child's rlimits.
const rlimitMode = "rlimit"

func execLimited(args []string) int {
	if len(args) < 4 || args[2] != "--" {
		fmt.Fprintln(os.Stderr, "usage: rlimit CPU-SECONDS FILE-BYTES -- COMMAND…")
		return 2
	}
	cpu, err1 := strconv.ParseUint(args[0], 10, 64)
	fsize, err2 := strconv.ParseUint(args[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	argv := args[3:]
	for _, l := range []struct {
		resource int
		limit    syscall.Rlimit
	}{
		// SIGXCPU at the soft limit, SIGKILL a little after.
		{syscall.RLIMIT_CPU, syscall.Rlimit{Cur: cpu, Max: cpu + 5}},
		{syscall.RLIMIT_FSIZE, syscall.Rlimit{Cur: fsize, Max: fsize}},
		{syscall.RLIMIT_CORE, syscall.Rlimit{}},
	} {
		if err := syscall.Setrlimit(l.resource, &l.limit); err != nil {
			fmt.Fprintf(os.Stderr, "sandbox: setrlimit: %v\n", err)
			return 126
		}
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
		return 127
	}
	err = syscall.Exec(path, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "sandbox: %s: %v\n", argv[0], err)
	return 126
}

// process is one command of a fetch or step, running under the limits.
type process struct {
	cmd     *exec.Cmd
	output  *capture.Log
	flooded chan string // the reason, once the command printed far more than the log keeps
	started time.Time
	done    chan struct{} // closed when the command has exited
	err     error         // cmd.Wait's, once done
	oomKill int64         // the pod's OOM kills before the start
}

// start starts argv in dir with env, in a process group of its own, its stdout and stderr
// together in a log that keeps limits.OutputBytes.
func (d *driver) start(dir string, argv, env []string, limits sandbox.Limits) (*process, error) {
	args := append([]string{rlimitMode,
		// Whole seconds, rounded up: a limit of 0 would kill at once.
		strconv.FormatInt(int64((limits.CPUTime+time.Second-1)/time.Second), 10),
		strconv.FormatInt(limits.FileBytes, 10), "--"}, argv...)
	cmd := exec.Command(d.self, args...)
	cmd.Dir = dir
	cmd.Env = env
	flooded := make(chan string, 1)
	out := capture.NewStepLog(limits.OutputBytes, func(reason string) { flooded <- reason })
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// A child that keeps the output open must not hold the step once its command exited.
	cmd.WaitDelay = time.Second
	p := &process{cmd: cmd, output: out, flooded: flooded, done: make(chan struct{}), oomKill: oomKills()}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("the directory %s is not in the tree", strings.TrimPrefix(dir, d.layout.Work+"/"))
	}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop kills the process's group, waits for it, and, when the driver is the pod's init, every
// other process left (one that made a group or session of its own).
func (d *driver) stop(p *process) {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	if !d.pid1 {
		return
	}
	_ = syscall.Kill(-1, syscall.SIGKILL)
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if pid <= 0 || err != nil {
			return // ECHILD: none left
		}
	}
}

// outcome is how a process ended, in StepResult terms.
func (p *process) outcome(limits sandbox.Limits) (exitCode int, stopped string) {
	if oomKills() > p.oomKill {
		return -1, "memory limit of " + sandbox.FormatBytes(limits.MemoryBytes) + " reached"
	}
	var exit *exec.ExitError
	if !errors.As(p.err, &exit) {
		if p.err != nil {
			return -1, ""
		}
		return 0, ""
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return exit.ExitCode(), ""
	}
	switch ws.Signal() {
	case syscall.SIGXCPU:
		return -1, fmt.Sprintf("CPU time limit of %s reached", limits.CPUTime)
	case syscall.SIGXFSZ:
		return -1, "file size limit of " + sandbox.FormatBytes(limits.FileBytes) + " reached"
	case syscall.SIGKILL:
		// The CPU hard limit, or the kernel's OOM killer where the pod's memory events are not
		// readable; the log says which signal.
		p.output.Note(fmt.Sprintf("[sandbox: the command was killed by %v]\n", ws.Signal()))
	}
	return -1, ""
}

// runCommand runs argv to its end or its wall-clock limit.
func (d *driver) runCommand(ctx context.Context, dir string, argv, env []string, limits sandbox.Limits) (exitCode int, stopped string, elapsed time.Duration, log []byte) {
	p, err := d.start(dir, argv, env, limits)
	if err != nil {
		return -1, "", 0, []byte(fmt.Sprintf("[sandbox: %s could not start: %v]\n", argv[0], err))
	}
	timer := time.NewTimer(limits.WallClock)
	defer timer.Stop()
	select {
	case <-p.done:
		exitCode, stopped = p.outcome(limits)
	case reason := <-p.flooded:
		exitCode, stopped = -1, reason
	case <-timer.C:
		exitCode, stopped = -1, fmt.Sprintf("wall-clock limit of %s reached", limits.WallClock)
	case <-ctx.Done():
		exitCode, stopped = -1, "the sandbox was stopped"
	}
	elapsed = time.Since(p.started)
	d.stop(p)
	return exitCode, stopped, elapsed, p.output.Bytes()
}

func (d *driver) step(ctx context.Context, s sandbox.Step, env []string, limits sandbox.Limits) sandbox.StepResult {
	res := sandbox.StepResult{Name: s.Name, Command: sandbox.CommandLine(s.Dir, s.Command)}
	dir := filepath.Join(d.layout.Work, filepath.FromSlash(s.Dir))
	env = append(env, s.Env...)
	if s.Preview != nil {
		d.preview(ctx, &res, dir, s, env, limits)
	} else {
		res.ExitCode, res.Stopped, res.Duration, res.Log = d.runCommand(ctx, dir, s.Command, env, limits)
	}
	root, err := os.OpenRoot(d.layout.Work)
	if err != nil {
		res.Log = fmt.Appendf(res.Log, "[sandbox: the results cannot be read: %v]\n", err)
		return res
	}
	defer root.Close()
	res.Results, res.Log = capture.ReadResults(root, s.Results, limits.OutputBytes, res.Log)
	return res
}

// oomKills is the pod's count of OOM kills (cgroup v2's memory.events; 0 where unreadable).
func oomKills() int64 {
	raw, err := os.ReadFile("/sys/fs/cgroup/memory.events")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "oom_kill "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
