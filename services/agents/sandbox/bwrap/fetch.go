package bwrap

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/capture"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/deps"
)

// Fetches run outside the sandbox, with the network, but run no code of the project: package
// deps checks the manifests and says what is copied into a scratch directory and run there, as
// the sandbox uid, with an environment of its own.

// fetch downloads one Fetch's dependencies. A refused or failed download is a result; the error
// is for a runner that cannot work.
func (r *Runner) fetch(ctx context.Context, j *job, files []sandbox.File, f sandbox.Fetch, lim sandbox.Limits) (sandbox.FetchResult, error) {
	res := sandbox.FetchResult{Kind: f.Kind, Dir: f.Dir}
	log := capture.NewLog(lim.OutputBytes)
	start := time.Now()
	ok, err := r.fetchChecked(ctx, j, files, f, lim, log, &res)
	res.OK, res.Duration, res.Log = ok, time.Since(start), log.Bytes()
	return res, err
}

func (r *Runner) fetchChecked(ctx context.Context, j *job, files []sandbox.File, f sandbox.Fetch, lim sandbox.Limits, log io.Writer, res *sandbox.FetchResult) (bool, error) {
	dir, err := checkRelDir(f.Dir)
	if err != nil {
		fmt.Fprintf(log, "the directory to fetch for is refused: %v\n", err)
		return false, nil
	}
	read := func(p string) ([]byte, bool) { return readTreeFile(files, p) }
	plan, err := deps.NewPlan(f.Kind, dir, read, r.cfg.NPMRegistry)
	if err != nil {
		fmt.Fprintln(log, err)
		return false, nil
	}
	res.Command = sandbox.CommandLine(dir, plan.Commands...)
	switch f.Kind {
	case sandbox.FetchGo:
		return r.fetchGo(ctx, j, plan, lim, log)
	case sandbox.FetchGoVulnCheck:
		return r.fetchGoVulnCheck(ctx, j, plan, lim, log)
	}
	return r.fetchNPM(ctx, j, dir, plan, lim, log)
}

// fetchGoVulnCheck downloads the Go vulnerability database and builds govulncheck, once per
// runner (every project shares them: the versions are the runner's, nothing of a tree goes in),
// for the steps to see read-only.
func (r *Runner) fetchGoVulnCheck(ctx context.Context, j *job, plan deps.Plan, lim sandbox.Limits, log io.Writer) (bool, error) {
	if r.cfg.GoRoot == "" {
		fmt.Fprintln(log, "Go is not installed where the sandbox runs")
		return false, nil
	}
	tools := filepath.Join(r.cfg.CacheDir, "tools", "govulncheck-"+sandbox.GovulncheckVersion+"-vulndb-"+sandbox.GoVulnDBVersion)
	env := deps.Env{GoModCache: filepath.Join(tools, "gomod"), GoBin: filepath.Join(tools, "bin"), GoProxy: r.cfg.GoProxy}
	unlock := r.fetchLocks.lock(tools)
	defer unlock()
	if err := os.MkdirAll(filepath.Dir(tools), 0o711); err != nil {
		return false, err
	}
	// Runners of other processes sharing the directory wait rather than build it again.
	lock, err := os.OpenFile(tools+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false, err
	}
	defer lock.Close() // releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return false, err
	}
	done := filepath.Join(tools, "complete")
	if _, err := os.Stat(done); err == nil && toolsIntact(tools) {
		fmt.Fprintf(log, "govulncheck %s and the Go vulnerability database (%s@%s) were fetched before; reused\n",
			sandbox.GovulncheckVersion, sandbox.GoVulnDBModule, sandbox.GoVulnDBVersion)
		j.vulnTools = tools
		return true, nil
	}
	for _, d := range []string{tools, env.GoModCache, env.GoBin} {
		if err := r.makeSandboxDir(d); err != nil {
			return false, err
		}
	}
	scratch, err := r.scratchDir(j, "govulncheck")
	if err != nil {
		return false, err
	}
	if err := r.writeScratch(scratch, nil); err != nil {
		return false, err
	}
	env.Home = filepath.Join(scratch, ".home")
	ok, err := r.runPlan(ctx, plan, scratch, env.Vars(sandbox.FetchGoVulnCheck), filepath.Join(r.cfg.GoRoot, "bin"), lim.WallClock, log)
	if !ok || err != nil {
		return false, err
	}
	// Every project's scan trusts these files: once made, they are the runner's, so that no
	// later fetch running as the sandbox uid (npm unpacking a project's packages) could change
	// them.
	if r.privileged {
		if err := sealDir(tools); err != nil {
			return false, fmt.Errorf("sealing the vulnerability scanner: %w", err)
		}
	}
	if !toolsIntact(tools) {
		fmt.Fprintln(log, "the download left no govulncheck binary or no vulnerability database")
		return false, nil
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		return false, err
	}
	j.vulnTools = tools
	return true, nil
}

// toolsIntact reports whether the scanner's directory holds what steps bind: the binary as a
// regular file and the database as a directory, neither a symbolic link (bwrap would follow it).
func toolsIntact(tools string) bool {
	bin, err := os.Lstat(filepath.Join(tools, "bin", "govulncheck"))
	if err != nil || !bin.Mode().IsRegular() {
		return false
	}
	db, err := os.Lstat(deps.GoVulnDBPath(filepath.Join(tools, "gomod")))
	return err == nil && db.IsDir()
}

// sealDir makes everything under dir this process's and writable by it alone.
func sealDir(dir string) error {
	uid, gid := os.Geteuid(), os.Getegid()
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, uid, gid); err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.Chmod(p, info.Mode().Perm()&^0o022)
	})
}

// fetchGo downloads the go.mod's modules into the project's module cache.
func (r *Runner) fetchGo(ctx context.Context, j *job, plan deps.Plan, lim sandbox.Limits, log io.Writer) (bool, error) {
	if r.cfg.GoRoot == "" {
		fmt.Fprintln(log, "Go is not installed where the sandbox runs")
		return false, nil
	}
	scratch, err := r.scratchDir(j, "go")
	if err != nil {
		return false, err
	}
	if err := r.writeScratch(scratch, plan.Files); err != nil {
		return false, err
	}
	env := deps.Env{Home: filepath.Join(scratch, ".home"), GoModCache: j.gomod, GoProxy: r.cfg.GoProxy}
	return r.runPlan(ctx, plan, scratch, env.Vars(sandbox.FetchGo), filepath.Join(r.cfg.GoRoot, "bin"), lim.WallClock, log)
}

// fetchNPM installs the package.json in dir into node_modules in the project's cache, keyed by
// package.json and the lock file, so that an unchanged one is not installed again.
func (r *Runner) fetchNPM(ctx context.Context, j *job, dir string, plan deps.Plan, lim sandbox.Limits, log io.Writer) (bool, error) {
	if r.cfg.NodeDir == "" {
		fmt.Fprintln(log, "Node.js is not installed where the sandbox runs")
		return false, nil
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "%s\x00%s\x00%s", plan.Files["package.json"], plan.Files["package-lock.json"], r.cfg.NPMRegistry)
	npmDir := filepath.Join(j.cache, "npm")
	installed := filepath.Join(npmDir, hex.EncodeToString(sum.Sum(nil))[:32])
	unlock := r.fetchLocks.lock(installed)
	defer unlock()
	if _, err := os.Stat(filepath.Join(installed, "node_modules")); err == nil {
		now := time.Now()
		os.Chtimes(installed, now, now) // the pruning keeps the most recently used
		fmt.Fprintln(log, "node_modules for this package.json and lock file were installed before; reused")
		j.nodeMods[dir] = filepath.Join(installed, "node_modules")
		return true, nil
	}

	if err := os.MkdirAll(npmDir, 0o711); err != nil {
		return false, err
	}
	scratch, err := r.scratchDir(j, "npm")
	if err != nil {
		return false, err
	}
	if err := r.writeScratch(scratch, plan.Files); err != nil {
		return false, err
	}
	// npm's download cache is shared by every project: it is content-addressed and checked
	// against each package's integrity on the way in and out, only npm (never a step) writes
	// it, and a second project with the same dependencies then downloads nothing.
	npmCache := filepath.Join(r.cfg.CacheDir, "npm-download-cache")
	if err := r.makeSandboxDir(npmCache); err != nil {
		return false, err
	}
	home := filepath.Join(scratch, ".home")
	env := deps.Env{Home: home, NPMCache: npmCache, NPMRegistry: r.cfg.NPMRegistry}
	if ok, err := r.runPlan(ctx, plan, scratch, env.Vars(sandbox.FetchNPM), r.cfg.NodeDir, lim.WallClock, log); !ok || err != nil {
		return false, err
	}
	// Mount points for the caches tools keep in node_modules (the sandbox mounts a tmpfs there).
	for _, c := range nodeModulesCaches {
		if err := os.MkdirAll(filepath.Join(scratch, "node_modules", c), 0o755); err != nil {
			return false, err
		}
	}
	removeAll(home)
	if err := os.Rename(scratch, installed); err != nil {
		return false, err
	}
	pruneInstalls(npmDir, 3)
	j.nodeMods[dir] = filepath.Join(installed, "node_modules")
	return true, nil
}

// runPlan runs the plan's commands in scratch with env, the tool's directory first on PATH,
// and the runner's proxy settings (downloads may need them; no project code runs to read them).
func (r *Runner) runPlan(ctx context.Context, plan deps.Plan, scratch string, env []string, toolBin string, wall time.Duration, log io.Writer) (bool, error) {
	env = append(env, "PATH="+toolBin+":/usr/local/bin:/usr/bin:/bin")
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return plan.Run(scratch, log, func(argv []string) (bool, error) {
		return r.runFetchCommand(ctx, scratch, env, wall, log, append([]string{filepath.Join(toolBin, argv[0])}, argv[1:]...)...)
	})
}

// pruneInstalls keeps the keep most recently used node_modules installs of a project.
func pruneInstalls(npmDir string, keep int) {
	entries, err := os.ReadDir(npmDir)
	if err != nil {
		return
	}
	type install struct {
		path string
		used time.Time
	}
	var installs []install
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && e.IsDir() && len(e.Name()) == 32 {
			installs = append(installs, install{filepath.Join(npmDir, e.Name()), info.ModTime()})
		}
	}
	slices.SortFunc(installs, func(a, b install) int { return b.used.Compare(a.used) })
	for i := keep; i < len(installs); i++ {
		removeAll(installs[i].path)
	}
}

// scratchDir makes a directory of the job for one fetch, owned by the sandbox uid.
func (r *Runner) scratchDir(j *job, kind string) (string, error) {
	suffix := make([]byte, 4)
	rand.Read(suffix)
	parent := j.dir
	if kind == "npm" { // renamed into the cache when complete, so made on its file system
		parent = filepath.Join(j.cache, "npm")
	}
	dir := filepath.Join(parent, "fetch-"+kind+"-"+hex.EncodeToString(suffix))
	if err := os.MkdirAll(filepath.Dir(dir), 0o711); err != nil {
		return "", err
	}
	return dir, r.makeSandboxDir(dir)
}

// writeScratch writes the fetch's input files, and its home, owned by the sandbox uid.
func (r *Runner) writeScratch(dir string, files map[string][]byte) error {
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		if r.privileged {
			if err := os.Lchown(p, r.cfg.SandboxUID, r.cfg.SandboxGID); err != nil {
				return err
			}
		}
	}
	return r.makeSandboxDir(filepath.Join(dir, ".home"))
}

// runFetchCommand runs argv in dir as the sandbox uid with env, stopping it after wall. ok is
// whether it succeeded; the error is for a command that could not start.
func (r *Runner) runFetchCommand(ctx context.Context, dir string, env []string, wall time.Duration, log io.Writer, argv ...string) (bool, error) {
	cmd := &exec.Cmd{Path: argv[0], Args: argv, Dir: dir, Env: env, Stdout: log, Stderr: log,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}, WaitDelay: 5 * time.Second}
	if r.privileged {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(r.cfg.SandboxUID), Gid: uint32(r.cfg.SandboxGID), Groups: []uint32{}}
	}
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("starting %s: %w", filepath.Base(argv[0]), err)
	}
	var timedOut bool
	var mu sync.Mutex
	kill := func(why bool) {
		mu.Lock()
		timedOut = timedOut || why
		mu.Unlock()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	timer := time.AfterFunc(wall, func() { kill(true) })
	stop := context.AfterFunc(ctx, func() { kill(false) })
	err := cmd.Wait()
	timer.Stop()
	stop()
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	switch {
	case timedOut:
		fmt.Fprintf(log, "stopped: wall-clock limit of %s reached\n", wall)
		return false, nil
	case err != nil:
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return false, err
		}
		fmt.Fprintf(log, "exit code %d\n", exit.ExitCode())
		return false, nil
	}
	return true, nil
}

// keyedMutex serialises work on one key (one node_modules install) across concurrent jobs.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	users int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
