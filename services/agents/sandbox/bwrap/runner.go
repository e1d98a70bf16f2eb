// Package bwrap is the local sandbox.Runner: each step runs under bubblewrap on this machine,
// in its own user, PID, network, IPC and UTS namespaces, as an unprivileged uid, with the tree
// writable and the toolchains read-only, inside cgroup and rlimit bounds. docs/SANDBOX.md says
// how, and what is and is not contained.
//
// Programs using it call Init first thing in main (the runner re-executes its own binary as a
// helper between fork and bwrap).
package bwrap

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/deps"
)

// Config configures a Runner. Every field has a default.
type Config struct {
	// CacheDir holds each project's caches (downloaded modules, node_modules, the Go build
	// cache) in a directory of its own, named by a hash of the project's id. Default: the
	// system's temporary directory + "/fuzzyllama-sandbox-<uid>/cache".
	CacheDir string
	// WorkDir holds the jobs' trees while they run. Default: as CacheDir, ".../work".
	WorkDir string
	// Bwrap is the bubblewrap binary. Default: "bwrap" on PATH.
	Bwrap string
	// GoRoot is the Go toolchain the steps use, read-only. Default: the GOROOT of "go" on PATH;
	// none (Go steps and fetches fail) when there is no go.
	GoRoot string
	// NodeDir is the directory holding node and npm. Default: that of "node" on PATH; none
	// when there is no node.
	NodeDir string
	// Chromium takes preview screenshots. Default: /usr/bin/chromium when it exists; none
	// otherwise (previews are probed but not screenshotted).
	Chromium string
	// SandboxUID and SandboxGID are the host ids a root runner runs sandboxes and fetches as.
	// Default 65534 (nobody). A runner that is not root runs them as itself.
	SandboxUID, SandboxGID int
	// GoProxy is GOPROXY for module downloads. Default "https://proxy.golang.org": no "direct",
	// so a download never runs a version control tool on a repository the project names.
	GoProxy string
	// NPMRegistry is the one registry npm dependencies may come from. Default
	// "https://registry.npmjs.org/".
	NPMRegistry string
	// GoBuildCacheBytes bounds a project's Go build cache: past it, the cache is emptied after
	// the job. Default 2 GiB.
	GoBuildCacheBytes int64
	Logger            *slog.Logger
}

// Runner runs jobs under bubblewrap. It is safe for concurrent use.
type Runner struct {
	cfg Config
	log *slog.Logger
	// privileged: the runner is root, so it switches to SandboxUID for sandboxes and fetches,
	// chowns trees to it, and bounds trees with a tmpfs of their own.
	privileged bool
	tmpfsTree  bool
	cgroups    *cgroupSetup // nil: rlimits only
	exe        string       // this binary, mounted into preview sandboxes
	hostMounts []string     // bwrap arguments showing the host's /bin, /lib… links or dirs
	fetchLocks keyedMutex
	probeState
	// afterStep, when set (by tests), is called with the tree's host path after each step.
	afterStep func(tree string)
}

var _ sandbox.Runner = (*Runner)(nil)

// New checks that sandboxes can be made here (it runs one) and returns a Runner, or says why
// not.
func New(cfg Config) (*Runner, error) {
	if !initCalled.Load() {
		return nil, errors.New("bwrap.Init was not called: call it first thing in main (and in TestMain of tests using the runner)")
	}
	r := &Runner{privileged: os.Geteuid() == 0}
	if err := r.configure(cfg); err != nil {
		return nil, err
	}
	if err := r.selfTest(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Runner) configure(cfg Config) error {
	r.log = cfg.Logger
	if r.log == nil {
		r.log = slog.Default()
	}
	base := filepath.Join(os.TempDir(), fmt.Sprintf("fuzzyllama-sandbox-%d", os.Geteuid()))
	cfg.CacheDir = orDefault(cfg.CacheDir, filepath.Join(base, "cache"))
	cfg.WorkDir = orDefault(cfg.WorkDir, filepath.Join(base, "work"))
	cfg.GoProxy = orDefault(cfg.GoProxy, deps.DefaultGoProxy)
	cfg.NPMRegistry = orDefault(cfg.NPMRegistry, deps.DefaultNPMRegistry)
	if !strings.HasSuffix(cfg.NPMRegistry, "/") {
		cfg.NPMRegistry += "/"
	}
	if cfg.GoBuildCacheBytes <= 0 {
		cfg.GoBuildCacheBytes = 2 << 30
	}
	if cfg.SandboxUID <= 0 {
		cfg.SandboxUID = 65534
	}
	if cfg.SandboxGID <= 0 {
		cfg.SandboxGID = 65534
	}
	if !r.privileged {
		cfg.SandboxUID, cfg.SandboxGID = os.Geteuid(), os.Getegid()
	}
	var err error
	if cfg.Bwrap, err = exec.LookPath(orDefault(cfg.Bwrap, "bwrap")); err != nil {
		return fmt.Errorf("bubblewrap is not installed (%v): install it, e.g. apt-get install bubblewrap", err)
	}
	if cfg.GoRoot == "" {
		cfg.GoRoot = hostGoRoot()
	}
	if cfg.NodeDir == "" {
		if node, err := exec.LookPath("node"); err == nil {
			if real, err := filepath.EvalSymlinks(node); err == nil {
				cfg.NodeDir = filepath.Dir(real)
			}
		}
	}
	if cfg.Chromium == "" {
		if _, err := os.Stat("/usr/bin/chromium"); err == nil {
			cfg.Chromium = "/usr/bin/chromium"
		}
	}
	for _, dir := range []string{cfg.GoRoot, cfg.NodeDir, cfg.Chromium} {
		if dir != "" && !filepath.IsAbs(dir) {
			return fmt.Errorf("the sandbox's toolchain path %q is not absolute", dir)
		}
	}
	if r.exe, err = os.Executable(); err != nil {
		return fmt.Errorf("finding this program's binary: %w", err)
	}
	r.cfg = cfg
	for _, dir := range []string{cfg.WorkDir, cfg.CacheDir} {
		if err := r.makePrivateDir(dir); err != nil {
			return err
		}
	}
	r.hostMounts = hostSystemLinks()
	r.removeStaleJobs()
	if cg, err := findCgroups(); err != nil {
		r.log.Warn("sandbox: no cgroups for steps; memory is bounded per process (RLIMIT_DATA) and processes per user (RLIMIT_NPROC)", "reason", err)
	} else if probe, err := cg.newStep(64<<20, 16); err != nil {
		r.log.Warn("sandbox: cannot make cgroups for steps; memory is bounded per process (RLIMIT_DATA) and processes per user (RLIMIT_NPROC)", "reason", err)
	} else {
		probe.remove()
		cg.removeStale()
		r.cgroups = cg
	}
	if r.privileged {
		r.tmpfsTree = r.probeTmpfs()
	}
	return nil
}

// makePrivateDir makes dir, owned by this process and writable by it alone, under directories
// no other user can swap it out of (each is root's or ours, and not writable by others unless
// sticky, as /tmp). A root runner's dirs must also let the sandbox uid reach what is
// bind-mounted from them (0711).
func (r *Runner) makePrivateDir(dir string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("the sandbox directory %q is not absolute", dir)
	}
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return fmt.Errorf("making the sandbox directory: %w", err)
	}
	if r.privileged {
		if err := os.Chmod(dir, 0o711); err != nil {
			return err
		}
	}
	for d := dir; ; d = filepath.Dir(d) {
		info, err := os.Lstat(d)
		if err != nil {
			return err
		}
		st, _ := info.Sys().(*syscall.Stat_t)
		mode := info.Mode()
		switch {
		case !info.IsDir() || st == nil:
			return fmt.Errorf("the sandbox directory %s: %s is not a directory", dir, d)
		case d == dir && (int(st.Uid) != os.Geteuid() || mode.Perm()&0o022 != 0):
			return fmt.Errorf("the sandbox directory %s must be owned by uid %d and writable by it alone", dir, os.Geteuid())
		case st.Uid != 0 && int(st.Uid) != os.Geteuid(),
			mode.Perm()&0o002 != 0 && mode&os.ModeSticky == 0:
			return fmt.Errorf("the sandbox directory %s is under %s, which another user could replace it in (owner uid %d, mode %v)", dir, d, st.Uid, mode)
		case r.privileged && mode.Perm()&0o001 == 0:
			return fmt.Errorf("the sandbox directory %s is under %s, which uid %d cannot enter (mode %v): choose another or chmod o+x it", dir, d, r.cfg.SandboxUID, mode.Perm())
		}
		if d == "/" {
			return nil
		}
	}
}

// hostGoRoot is GOROOT of the go command on PATH, or "".
func hostGoRoot() string {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return ""
	}
	out, err := exec.Command(gobin, "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// hostSystemLinks shows the host's /bin, /lib, /lib64 and /sbin in the sandbox as they are on
// the host: merged-/usr links, or read-only copies of the directories.
func hostSystemLinks() []string {
	var args []string
	for _, dir := range []string{"/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"} {
		info, err := os.Lstat(dir)
		switch {
		case err != nil:
		case info.Mode()&fs.ModeSymlink != 0:
			if target, err := os.Readlink(dir); err == nil {
				args = append(args, "--symlink", target, dir)
			}
		case info.IsDir():
			args = append(args, "--ro-bind", dir, dir)
		}
	}
	return args
}

// probeTmpfs reports whether this runner may mount a tmpfs for each tree (it must be root in
// the host's mount namespace; in a container without CAP_SYS_ADMIN it is not).
func (r *Runner) probeTmpfs() bool {
	dir, err := os.MkdirTemp(r.cfg.WorkDir, "probe-")
	if err != nil {
		return false
	}
	defer os.Remove(dir)
	if err := mountTmpfs(dir, 1<<20, r.cfg.SandboxUID, r.cfg.SandboxGID); err != nil {
		r.log.Warn("sandbox: cannot mount a tmpfs per tree; a tree's size is checked after each step instead", "reason", err)
		return false
	}
	syscall.Unmount(dir, syscall.MNT_DETACH)
	return true
}

// mountTmpfs mounts a tmpfs of size bytes at dir, owned by uid:gid, where set-user-id bits and
// device files mean nothing.
func mountTmpfs(dir string, size int64, uid, gid int) error {
	opts := fmt.Sprintf("size=%d,nr_inodes=%d,mode=0755,uid=%d,gid=%d", size, max(size/512, 4096), uid, gid)
	return syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, opts)
}

// removeStaleJobs removes the job dirs (and preview binaries) of runners that died (their pid
// is in the name).
func (r *Runner) removeStaleJobs() {
	entries, _ := os.ReadDir(r.cfg.WorkDir)
	for _, e := range entries {
		pid, ok := ownerPID(e.Name())
		if !ok || !(strings.HasPrefix(e.Name(), "job-") || strings.HasPrefix(e.Name(), "bin-")) || alive(pid) {
			continue
		}
		dir := filepath.Join(r.cfg.WorkDir, e.Name())
		syscall.Unmount(filepath.Join(dir, "tree"), syscall.MNT_DETACH)
		removeAll(dir)
	}
}

// selfTest runs a sandbox and, when they are configured, the toolchains in it.
func (r *Runner) selfTest() error {
	steps := []sandbox.Step{{Name: "sandbox", Command: []string{"true"}}}
	if r.cfg.GoRoot != "" {
		steps = append(steps, sandbox.Step{Name: "go", Command: []string{"go", "version"}})
	}
	if r.cfg.NodeDir != "" {
		steps = append(steps, sandbox.Step{Name: "node", Command: []string{"node", "--version"}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := r.Run(ctx, sandbox.Job{ProjectID: "fuzzyllama-self-test", Steps: steps,
		Limits: sandbox.Limits{WallClock: 30 * time.Second, OutputBytes: 4 << 10}})
	if err != nil {
		return fmt.Errorf("bubblewrap cannot start a sandbox here: %w", err)
	}
	for _, s := range res.Steps {
		if !s.Passed() {
			hint := ""
			if s.Name == "sandbox" {
				hint = " (where unprivileged user namespaces are restricted, e.g. Ubuntu's kernel.apparmor_restrict_unprivileged_userns=1, bwrap needs an AppArmor profile)"
			}
			return fmt.Errorf("bubblewrap cannot run %q in a sandbox here%s: exit code %d %s: %s",
				s.Command, hint, s.ExitCode, s.Stopped, strings.TrimSpace(string(s.Log)))
		}
	}
	return nil
}

// Name is "local".
func (r *Runner) Name() string { return "local" }

// Run fetches the job's dependencies and runs its steps, each in a sandbox of its own over one
// copy of the tree.
func (r *Runner) Run(ctx context.Context, job sandbox.Job) (sandbox.Result, error) {
	if job.ProjectID == "" {
		return sandbox.Result{}, errors.New("the job has no ProjectID, which keys its caches")
	}
	lim := job.Limits.WithDefaults()
	if err := checkTree(job.Files, lim.TreeBytes); err != nil {
		return sandbox.Result{}, err
	}
	j, err := r.newJob(job.ProjectID, lim)
	if err != nil {
		return sandbox.Result{}, err
	}
	defer j.close()
	if err := writeTree(j.root, job.Files, r.cfg.SandboxUID, r.cfg.SandboxGID, r.privileged); err != nil {
		return sandbox.Result{}, fmt.Errorf("writing the tree: %w", err)
	}
	var res sandbox.Result
	for _, f := range job.Fetch {
		fr, err := r.fetch(ctx, j, job.Files, f, lim)
		if err != nil {
			return res, err
		}
		res.Fetches = append(res.Fetches, fr)
		if !fr.OK {
			return res, nil
		}
	}
	for i, step := range job.Steps {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if j.overgrown != "" {
			res.Steps = append(res.Steps, sandbox.StepResult{Name: step.Name, Command: displayCommand(step),
				ExitCode: -1, Stopped: "not run: " + j.overgrown})
			continue
		}
		sr, err := r.runStep(ctx, j, step, lim)
		if err != nil {
			return res, fmt.Errorf("step %d (%s): %w", i+1, step.Name, err)
		}
		res.Steps = append(res.Steps, sr)
	}
	r.boundGoBuildCache(j)
	return res, nil
}

// job is one Run's files on the host.
type job struct {
	dir      string   // WorkDir/job-PID-RANDOM, the runner's
	tree     string   // dir/tree, the sandbox's /work
	root     *os.Root // tree
	etc      string   // dir/etc: passwd, group, hosts for the sandbox
	cache    string   // CacheDir/<project hash>
	gomod    string   // cache/gomod: GOMODCACHE, written by fetches only
	gobuild  string   // cache/gobuild: GOCACHE, the steps' own
	mounted  bool
	lim      sandbox.Limits
	nodeMods map[string]string // tree dir ("." for the root) → node_modules on the host
	// vulnTools is the directory of govulncheck (bin/) and the Go vulnerability database
	// (gomod/) when the job fetched them, or "".
	vulnTools string
	// overgrown says why the remaining steps cannot run (the tree outgrew its limit), or "".
	overgrown string
}

func (r *Runner) newJob(projectID string, lim sandbox.Limits) (*job, error) {
	suffix := make([]byte, 6)
	rand.Read(suffix)
	dir := filepath.Join(r.cfg.WorkDir, fmt.Sprintf("job-%d-%s", os.Getpid(), hex.EncodeToString(suffix)))
	if err := os.Mkdir(dir, 0o711); err != nil {
		return nil, fmt.Errorf("making the job's directory: %w", err)
	}
	sum := sha256.Sum256([]byte(projectID))
	j := &job{dir: dir, tree: filepath.Join(dir, "tree"), etc: filepath.Join(dir, "etc"), lim: lim,
		cache: filepath.Join(r.cfg.CacheDir, hex.EncodeToString(sum[:12])), nodeMods: map[string]string{}}
	j.gomod, j.gobuild = filepath.Join(j.cache, "gomod"), filepath.Join(j.cache, "gobuild")
	fail := func(err error) (*job, error) { j.close(); return nil, err }
	if err := os.Mkdir(j.tree, 0o755); err != nil {
		return fail(err)
	}
	if r.tmpfsTree {
		if err := mountTmpfs(j.tree, lim.TreeBytes, r.cfg.SandboxUID, r.cfg.SandboxGID); err != nil {
			return fail(fmt.Errorf("mounting the tree's tmpfs: %w", err))
		}
		j.mounted = true
	}
	root, err := os.OpenRoot(j.tree)
	if err != nil {
		return fail(err)
	}
	j.root = root
	if err := writeSandboxEtc(j.etc); err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(j.cache, 0o711); err != nil {
		return fail(err)
	}
	for _, d := range []string{j.gomod, j.gobuild} {
		if err := r.makeSandboxDir(d); err != nil {
			return fail(err)
		}
	}
	return j, nil
}

// makeSandboxDir makes dir (if missing) owned by the sandbox uid.
func (r *Runner) makeSandboxDir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if r.privileged {
		return os.Lchown(dir, r.cfg.SandboxUID, r.cfg.SandboxGID)
	}
	return nil
}

func (j *job) close() {
	if j.root != nil {
		j.root.Close()
	}
	if j.mounted {
		syscall.Unmount(j.tree, syscall.MNT_DETACH)
	}
	removeAll(j.dir)
}

// writeSandboxEtc writes the few files of /etc the sandbox sees: its users and localhost.
func writeSandboxEtc(dir string) error {
	files := map[string]string{
		"passwd": "root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:65534:65534:sandbox:/home/sandbox:/bin/sh\n",
		"group":  "root:x:0:\nsandbox:x:65534:\n",
		"hosts":  "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n",
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// boundGoBuildCache empties the project's Go build cache when it has grown past its bound (a
// step could fill it, as the cache is its to write).
func (r *Runner) boundGoBuildCache(j *job) {
	root, err := os.OpenRoot(j.gobuild)
	if err != nil {
		return
	}
	size, err := treeSize(root)
	root.Close()
	if err == nil && size <= r.cfg.GoBuildCacheBytes {
		return
	}
	r.log.Info("sandbox: emptying a project's Go build cache", "bytes", size, "bound", r.cfg.GoBuildCacheBytes)
	removeAll(j.gobuild)
}

// removeAll removes dir even where a step left directories it cannot be removed from (mode 0).
func removeAll(dir string) {
	if os.RemoveAll(dir) == nil {
		return
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	os.RemoveAll(dir)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
