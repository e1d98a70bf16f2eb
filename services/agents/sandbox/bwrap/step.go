package bwrap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/bwrap/internal/stepinit"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/capture"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/deps"
)

// Paths inside the sandbox.
const (
	sandboxTree    = "/work"
	sandboxGoMod   = "/cache/gomod"
	sandboxGoBuild = "/cache/gobuild"
	sandboxHome    = "/home/sandbox"
	insideID       = "65534" // the uid and gid the steps see themselves as, whatever the host's
)

// runStep runs one step in a sandbox of its own and says what it did.
func (r *Runner) runStep(ctx context.Context, j *job, step sandbox.Step, lim sandbox.Limits) (sandbox.StepResult, error) {
	res := sandbox.StepResult{Name: step.Name, Command: displayCommand(step), ExitCode: -1}
	refuse := func(format string, a ...any) (sandbox.StepResult, error) {
		res.Log = []byte(fmt.Sprintf(format, a...) + "\n")
		return res, nil
	}
	dir, err := checkRelDir(step.Dir)
	if err != nil {
		return refuse("the step's directory is refused: %v", err)
	}
	if err := checkDirExists(j.root, dir); err != nil {
		return refuse("the step cannot run: %v", err)
	}
	if len(step.Command) == 0 {
		return refuse("the step has no command")
	}
	if err := checkEnv(step.Env); err != nil {
		return refuse("the step's environment is refused: %v", err)
	}
	var preview *previewRun
	var mounts []string
	command := step.Command
	if step.Preview != nil {
		if preview, err = r.newPreview(j, step, lim); errors.Is(err, errStepRefused) {
			return refuse("%v", err)
		} else if err != nil {
			return res, err
		}
		mounts, command = preview.bwrapArgs(), preview.command(step.Command)
	}
	args := append(r.bwrapArgs(j, dir, step.Env, mounts...), "--")
	args = append(args, command...)
	out, err := r.sandboxed(ctx, args, lim)
	if err != nil {
		return res, err
	}
	res.ExitCode, res.Stopped, res.Duration, res.Log = out.exitCode, out.stopped, out.duration, out.log
	if r.afterStep != nil {
		r.afterStep(j.tree)
	}
	if reason := r.checkTreeSize(j); reason != "" {
		res.Stopped = joinReasons(res.Stopped, reason)
		j.overgrown = reason + " in step " + strconv.Quote(step.Name)
	}
	if res.Stopped != "" {
		res.ExitCode = -1
	}
	res.Results, res.Log = capture.ReadResults(j.root, step.Results, lim.OutputBytes, res.Log)
	if preview != nil {
		res.Screenshot = preview.screenshot()
	}
	return res, nil
}

// bwrapArgs are the sandbox's mounts (with mounts of the caller's) and environment for a step in
// dir, without the command.
func (r *Runner) bwrapArgs(j *job, dir string, env []string, mounts ...string) []string {
	args := []string{
		"--unshare-all", "--unshare-user", "--disable-userns", "--assert-userns-disabled",
		"--die-with-parent", "--new-session", "--uid", insideID, "--gid", insideID,
		"--hostname", "sandbox",
		"--ro-bind", "/usr", "/usr",
	}
	args = append(args, r.hostMounts...)
	tmpBytes := strconv.FormatInt(j.lim.TreeBytes, 10)
	args = append(args,
		"--proc", "/proc", "--dev", "/dev",
		"--size", tmpBytes, "--tmpfs", "/dev/shm",
		"--size", tmpBytes, "--tmpfs", "/tmp",
		"--size", tmpBytes, "--tmpfs", "/home",
		"--dir", sandboxHome,
		"--ro-bind", filepath.Join(j.etc, "passwd"), "/etc/passwd",
		"--ro-bind", filepath.Join(j.etc, "group"), "/etc/group",
		"--ro-bind", filepath.Join(j.etc, "hosts"), "/etc/hosts",
	)
	// Fonts and time zones for browsers and tests; nothing else of the host's /etc.
	for _, etc := range []string{"/etc/fonts", "/etc/localtime", "/etc/chromium.d", "/etc/chromium"} {
		if _, err := os.Stat(etc); err == nil {
			args = append(args, "--ro-bind", etc, etc)
		}
	}
	for _, tool := range r.toolDirs() {
		args = append(args, "--ro-bind", tool, tool)
	}
	args = append(args,
		"--bind", j.tree, sandboxTree,
		"--ro-bind", j.gomod, sandboxGoMod,
		"--bind", j.gobuild, sandboxGoBuild,
	)
	if j.vulnTools != "" {
		args = append(args,
			"--ro-bind", filepath.Join(j.vulnTools, "bin", "govulncheck"), path.Join(sandbox.ToolsBinDir, "govulncheck"),
			"--ro-bind", deps.GoVulnDBPath(filepath.Join(j.vulnTools, "gomod")), sandbox.GoVulnDBDir)
	}
	for _, treeDir := range slices.Sorted(maps.Keys(j.nodeMods)) {
		mount := path.Join(sandboxTree, treeDir, "node_modules")
		args = append(args, "--ro-bind", j.nodeMods[treeDir], mount)
		// Build tools keep caches inside node_modules; theirs are the step's own.
		for _, cache := range nodeModulesCaches {
			args = append(args, "--size", tmpBytes, "--tmpfs", path.Join(mount, cache))
		}
	}
	args = append(args, mounts...)
	// The sandbox's own root (a tmpfs bwrap makes, holding the mount points) is read-only too:
	// only the tree, the build cache and the tmpfs mounts above take writes.
	args = append(args, "--remount-ro", "/", "--chdir", path.Join(sandboxTree, dir), "--clearenv")
	for _, kv := range append(r.sandboxEnv(), env...) {
		k, v, _ := strings.Cut(kv, "=")
		args = append(args, "--setenv", k, v)
	}
	return args
}

// toolDirs are the toolchains' (and Chromium's) directories outside /usr, which the sandbox
// sees read-only.
func (r *Runner) toolDirs() []string {
	var dirs []string
	chromiumDir := ""
	if r.cfg.Chromium != "" {
		chromiumDir = filepath.Dir(r.cfg.Chromium)
	}
	for _, d := range []string{r.cfg.GoRoot, nodePrefix(r.cfg.NodeDir), chromiumDir} {
		if d != "" && d != "/usr" && !strings.HasPrefix(d, "/usr/") {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// nodePrefix is node's installation dir (…/bin/node has its npm in …/lib).
func nodePrefix(nodeDir string) string {
	if filepath.Base(nodeDir) == "bin" {
		return filepath.Dir(nodeDir)
	}
	return nodeDir
}

// sandboxEnv is every step's environment before Step.Env: no variable of the runner's own.
func (r *Runner) sandboxEnv() []string {
	pathDirs := []string{}
	if r.cfg.GoRoot != "" {
		pathDirs = append(pathDirs, filepath.Join(r.cfg.GoRoot, "bin"))
	}
	if r.cfg.NodeDir != "" {
		pathDirs = append(pathDirs, r.cfg.NodeDir)
	}
	pathDirs = append(pathDirs, sandbox.ToolsBinDir, "/usr/local/bin", "/usr/bin", "/bin")
	return []string{
		"PATH=" + strings.Join(pathDirs, ":"),
		"HOME=" + sandboxHome, "USER=sandbox", "LANG=C.UTF-8", "TMPDIR=/tmp", "CI=true",
		"GOCACHE=" + sandboxGoBuild, "GOMODCACHE=" + sandboxGoMod, "GOPATH=" + sandboxHome + "/go",
		// The module cache was verified against the checksum database when it was fetched.
		"GOPROXY=off", "GOSUMDB=off", "GOFLAGS=-mod=mod -buildvcs=false", "GOTOOLCHAIN=local",
		"GOWORK=off", "CGO_ENABLED=0", "GOTELEMETRY=off",
		"npm_config_offline=true", "npm_config_update_notifier=false", "npm_config_fund=false",
		"npm_config_audit=false",
	}
}

// nodeModulesCaches are the caches tools keep in node_modules (vite, babel…), mounted as tmpfs
// over the read-only node_modules.
var nodeModulesCaches = []string{".vite", ".cache"}

var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkEnv refuses variables that are not KEY=value.
func checkEnv(env []string) error {
	for _, kv := range env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !envKey.MatchString(k) {
			return fmt.Errorf("%q is not KEY=value", kv)
		}
	}
	return nil
}

// displayCommand is the step as a person would type it.
func displayCommand(step sandbox.Step) string {
	dir, err := checkRelDir(step.Dir)
	if err != nil {
		dir = "." // refused, and said so in the log
	}
	return sandbox.CommandLine(dir, step.Command)
}

// checkTreeSize says when the tree outgrew its limit. On a tmpfs of its own the tree cannot, but
// a full tmpfs is worth naming; without one, the tree is measured.
func (r *Runner) checkTreeSize(j *job) string {
	limit := fmt.Sprintf("tree size limit of %s reached", sandbox.FormatBytes(j.lim.TreeBytes))
	if j.mounted {
		var st unix.Statfs_t
		if unix.Statfs(j.tree, &st) == nil && st.Bavail*uint64(st.Bsize) < 64<<10 {
			return limit
		}
		return ""
	}
	if size, err := treeSize(j.root); err != nil || size > j.lim.TreeBytes {
		return limit
	}
	return ""
}

// sandboxOutcome is how a sandboxed command ended.
type sandboxOutcome struct {
	exitCode int
	stopped  string
	duration time.Duration
	log      []byte
}

// sandboxed runs bwrap with args through the init helper, within lim, and waits for it.
func (r *Runner) sandboxed(ctx context.Context, args []string, lim sandbox.Limits) (sandboxOutcome, error) {
	var cg *stepCgroup
	if r.cgroups != nil {
		var err error
		if cg, err = r.cgroups.newStep(lim.MemoryBytes, lim.Processes); err != nil {
			return sandboxOutcome{}, err
		}
		defer cg.remove()
	}
	spec := stepinit.Spec{Rlimits: stepRlimits(lim, cg != nil, r.cfg.SandboxUID), Drop: r.privileged,
		UID: r.cfg.SandboxUID, GID: r.cfg.SandboxGID, Bwrap: r.cfg.Bwrap, Args: args}
	if cg != nil {
		spec.CgroupProcs = cg.procsFiles()
	}
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return sandboxOutcome{}, err
	}

	var (
		mu      sync.Mutex
		reasons []string
		proc    *os.Process
	)
	stop := func(reason string) {
		mu.Lock()
		defer mu.Unlock()
		if reason != "" && !slices.Contains(reasons, reason) {
			reasons = append(reasons, reason)
		}
		if proc != nil {
			syscall.Kill(-proc.Pid, syscall.SIGKILL) // bwrap; --die-with-parent takes the rest
		}
		if cg != nil {
			go cg.killAll()
		}
	}
	log := capture.NewStepLog(lim.OutputBytes, stop)

	statusR, statusW, err := os.Pipe()
	if err != nil {
		return sandboxOutcome{}, err
	}
	defer statusR.Close()
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{stepinit.Name, string(specJSON)},
		Env:         []string{},
		Stdout:      log,
		Stderr:      log,
		ExtraFiles:  []*os.File{statusW},
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
		WaitDelay:   5 * time.Second,
	}
	start := time.Now()
	mu.Lock()
	err = cmd.Start()
	proc = cmd.Process
	mu.Unlock()
	statusW.Close()
	if err != nil {
		return sandboxOutcome{}, fmt.Errorf("starting the sandbox helper: %w", err)
	}
	helperErr, _ := io.ReadAll(statusR)
	if len(helperErr) > 0 {
		cmd.Wait()
		return sandboxOutcome{}, fmt.Errorf("the sandbox could not start: %s", helperErr)
	}

	wallClock := fmt.Sprintf("wall-clock limit of %s reached", lim.WallClock)
	timer := time.AfterFunc(lim.WallClock, func() { stop(wallClock) })
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			stop("")
		case <-done:
		}
	}()
	waitErr := cmd.Wait()
	close(done)
	timer.Stop()
	if cg != nil {
		cg.killAll() // nothing should be left once bwrap is gone; be sure
	}
	if ctx.Err() != nil {
		return sandboxOutcome{}, ctx.Err()
	}
	if waitErr != nil && cmd.ProcessState == nil {
		return sandboxOutcome{}, waitErr
	}

	out := sandboxOutcome{exitCode: cmd.ProcessState.ExitCode(), duration: time.Since(start), log: log.Bytes()}
	mu.Lock()
	stoppedByRunner := reasons
	mu.Unlock()
	if out.exitCode != 0 || len(stoppedByRunner) > 0 {
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		out.stopped = joinReasons(r.limitsHit(cg, lim, out.exitCode, cpu, out.log)...)
		out.stopped = joinReasons(append([]string{out.stopped}, stoppedByRunner...)...)
	}
	return out, nil
}

// limitsHit names the limits a failed step ran into, as far as they can be told: cgroup counters
// are exact; the signals of RLIMIT_CPU and RLIMIT_FSIZE are seen in bwrap's exit code (128+signal)
// only when the killed process was the command itself, so the step's CPU time and the log are
// looked at too.
func (r *Runner) limitsHit(cg *stepCgroup, lim sandbox.Limits, exitCode int, cpu time.Duration, log []byte) []string {
	var hit []string
	lower := bytes.ToLower(log)
	// Without a memory cgroup, RLIMIT_DATA makes allocations fail; the programs say so.
	if cg != nil && cg.memoryExceeded() || cg == nil && containsAny(lower, "out of memory", "allocation failed", "cannot allocate memory") {
		hit = append(hit, fmt.Sprintf("memory limit of %s reached", sandbox.FormatBytes(lim.MemoryBytes)))
	}
	if cg != nil && cg.processesExceeded() {
		hit = append(hit, fmt.Sprintf("process limit of %d reached", lim.Processes))
	}
	if exitCode == 128+int(syscall.SIGXFSZ) || containsAny(lower, "file too large") {
		hit = append(hit, fmt.Sprintf("file size limit of %s reached", sandbox.FormatBytes(lim.FileBytes)))
	}
	// A process past RLIMIT_CPU gets SIGXCPU, then SIGKILL (Go ignores SIGXCPU): the step used at
	// least that much CPU and something says a process was killed.
	killed := exitCode > 128 || containsAny(lower, "killed", "cpu time limit exceeded")
	if exitCode == 128+int(syscall.SIGXCPU) || cpu >= lim.CPUTime && killed {
		hit = append(hit, fmt.Sprintf("CPU time limit of %s per process reached", lim.CPUTime))
	}
	return hit
}

// stepRlimits are the helper's limits, inherited by bwrap and the step. Memory and processes
// are the cgroup's to bound when there is one: RLIMIT_NPROC counts every process of the uid,
// other sandboxes' too, and RLIMIT_DATA fails allocations instead of a clear OOM kill.
// RLIMIT_AS is never used: toolchains reserve far more address space than they use.
func stepRlimits(lim sandbox.Limits, cgroup bool, uid int) []stepinit.Rlimit {
	cpu := uint64((lim.CPUTime + time.Second - 1) / time.Second)
	limit := func(resource int, cur, max uint64) stepinit.Rlimit {
		return stepinit.Rlimit{Resource: resource, Cur: cur, Max: max}
	}
	limits := []stepinit.Rlimit{
		// SIGXCPU at the soft limit (most programs die of it), SIGKILL a little later.
		limit(unix.RLIMIT_CPU, cpu, cpu+2),
		limit(unix.RLIMIT_FSIZE, uint64(lim.FileBytes), uint64(lim.FileBytes)),
		limit(unix.RLIMIT_NOFILE, 8192, 8192),
		limit(unix.RLIMIT_CORE, 0, 0),
	}
	if !cgroup {
		// RLIMIT_NPROC counts every task of the uid, so the step gets Processes more than the
		// uid has now.
		nproc := uint64(tasksOfUID(uid) + lim.Processes)
		limits = append(limits,
			limit(unix.RLIMIT_NPROC, nproc, nproc),
			limit(unix.RLIMIT_DATA, uint64(lim.MemoryBytes), uint64(lim.MemoryBytes)))
	}
	return limits
}

// tasksOfUID counts the processes and threads whose real uid is uid.
func tasksOfUID(uid int) int {
	statuses, _ := filepath.Glob("/proc/[0-9]*/status")
	want := strconv.Itoa(uid)
	n := 0
	for _, st := range statuses {
		data, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		var real string
		threads := 0
		for _, line := range strings.Split(string(data), "\n") {
			k, v, _ := strings.Cut(line, ":")
			switch f := strings.Fields(v); {
			case k == "Uid" && len(f) > 0:
				real = f[0]
			case k == "Threads" && len(f) > 0:
				threads, _ = strconv.Atoi(f[0])
			}
		}
		if real == want {
			n += max(threads, 1)
		}
	}
	return n
}

func containsAny(log []byte, words ...string) bool {
	for _, w := range words {
		if bytes.Contains(log, []byte(w)) {
			return true
		}
	}
	return false
}

func joinReasons(reasons ...string) string {
	var kept []string
	for _, r := range reasons {
		if r != "" && !slices.Contains(kept, r) {
			kept = append(kept, r)
		}
	}
	return strings.Join(kept, "; ")
}
