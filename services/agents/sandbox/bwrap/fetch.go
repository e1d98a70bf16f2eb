package bwrap

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/mod/modfile"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// Fetches run outside the sandbox, with the network, but run no code of the project: only the
// go and npm commands read the project's go.mod or package.json, copied alone into a scratch
// directory (so no go.work, .npmrc or other file of the tree can steer them), as the sandbox uid
// and with an environment of their own.

// fetch downloads one Fetch's dependencies. A refused or failed download is a result; the error
// is for a runner that cannot work.
func (r *Runner) fetch(ctx context.Context, j *job, files []sandbox.File, f sandbox.Fetch, lim sandbox.Limits) (sandbox.FetchResult, error) {
	res := sandbox.FetchResult{Kind: f.Kind, Dir: f.Dir}
	log := newOutputLog(lim.OutputBytes, 0, nil)
	start := time.Now()
	dir, dirErr := checkRelDir(f.Dir)
	var err error
	switch {
	case dirErr != nil:
		fmt.Fprintf(log, "the directory to fetch for is refused: %v\n", dirErr)
	case f.Kind == sandbox.FetchGo:
		res.Command = "go mod download"
		res.OK, err = r.fetchGo(ctx, j, files, dir, lim, log)
	case f.Kind == sandbox.FetchNPM:
		res.Command = "npm ci --ignore-scripts"
		res.OK, err = r.fetchNPM(ctx, j, files, dir, lim, log)
	default:
		fmt.Fprintf(log, "the local runner does not know how to fetch %q dependencies\n", f.Kind)
	}
	if dirErr == nil && dir != "." {
		res.Command = "cd " + dir + " && " + res.Command
	}
	res.Duration, res.Log = time.Since(start), log.Bytes()
	return res, err
}

// fetchGo runs go mod download for the go.mod in dir, into the project's module cache.
func (r *Runner) fetchGo(ctx context.Context, j *job, files []sandbox.File, dir string, lim sandbox.Limits, log io.Writer) (bool, error) {
	if r.cfg.GoRoot == "" {
		fmt.Fprintln(log, "Go is not installed where the sandbox runs")
		return false, nil
	}
	goMod, ok := readTreeFile(files, joinRel(dir, "go.mod"))
	if !ok {
		fmt.Fprintf(log, "there is no go.mod in %s\n", dir)
		return false, nil
	}
	if err := checkGoMod(joinRel(dir, "go.mod"), goMod); err != nil {
		fmt.Fprintln(log, err)
		return false, nil
	}
	scratch, err := r.scratchDir(j, "go")
	if err != nil {
		return false, err
	}
	inputs := map[string][]byte{"go.mod": goMod}
	if goSum, ok := readTreeFile(files, joinRel(dir, "go.sum")); ok {
		inputs["go.sum"] = goSum
	}
	if err := r.writeScratch(scratch, inputs); err != nil {
		return false, err
	}
	env := append(r.fetchEnv(filepath.Join(scratch, ".home"), filepath.Join(r.cfg.GoRoot, "bin")),
		"GOMODCACHE="+j.gomod, "GOCACHE="+filepath.Join(scratch, ".gocache"),
		"GOPATH="+filepath.Join(scratch, ".gopath"), "GOPROXY="+r.cfg.GoProxy,
		"GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off", "GOENV=off", "GOTELEMETRY=off",
		"CGO_ENABLED=0")
	return r.runFetchCommand(ctx, scratch, env, lim.WallClock, log, filepath.Join(r.cfg.GoRoot, "bin", "go"), "mod", "download")
}

// checkGoMod refuses a go.mod the download cannot be trusted with: replacements by local paths
// (the download would read outside the tree, and the sandbox would not see them anyway).
func checkGoMod(name string, data []byte) error {
	mf, err := modfile.Parse(name, data, nil)
	if err != nil {
		return fmt.Errorf("%s cannot be read: %v", name, err)
	}
	for _, rep := range mf.Replace {
		if rep.New.Version == "" {
			return fmt.Errorf("%s replaces %s with the local path %s; only module versions may replace modules (copy the code into the module instead)",
				name, rep.Old.Path, rep.New.Path)
		}
	}
	return nil
}

// fetchNPM installs the package.json in dir into node_modules in the project's cache, keyed by
// package.json and the lock file, so that an unchanged one is not installed again.
func (r *Runner) fetchNPM(ctx context.Context, j *job, files []sandbox.File, dir string, lim sandbox.Limits, log io.Writer) (bool, error) {
	if r.cfg.NodeDir == "" {
		fmt.Fprintln(log, "Node.js is not installed where the sandbox runs")
		return false, nil
	}
	pkgPath, lockPath := joinRel(dir, "package.json"), joinRel(dir, "package-lock.json")
	pkg, ok := readTreeFile(files, pkgPath)
	if !ok {
		fmt.Fprintf(log, "there is no package.json in %s\n", dir)
		return false, nil
	}
	if err := checkPackageJSON(pkgPath, pkg); err != nil {
		fmt.Fprintln(log, err)
		return false, nil
	}
	lock, hasLock := readTreeFile(files, lockPath)
	if hasLock {
		if err := checkPackageLock(lockPath, lock, r.cfg.NPMRegistry); err != nil {
			fmt.Fprintln(log, err)
			return false, nil
		}
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "%s\x00%s\x00%s", pkg, lock, r.cfg.NPMRegistry)
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
	inputs := map[string][]byte{"package.json": pkg}
	if hasLock {
		inputs["package-lock.json"] = lock
	}
	if err := r.writeScratch(scratch, inputs); err != nil {
		return false, err
	}
	npmCache := filepath.Join(j.cache, "npm-cache")
	if err := r.makeSandboxDir(npmCache); err != nil {
		return false, err
	}
	home := filepath.Join(scratch, ".home")
	env := append(r.fetchEnv(home, r.cfg.NodeDir),
		"npm_config_cache="+npmCache, "npm_config_userconfig="+filepath.Join(home, "npmrc"),
		"npm_config_registry="+r.cfg.NPMRegistry, "npm_config_ignore_scripts=true",
		// No git dependency may be cloned, not even one a registry package names.
		"npm_config_git=/bin/false",
		"npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	npm := filepath.Join(r.cfg.NodeDir, "npm")
	if !hasLock {
		ok, err := r.runFetchCommand(ctx, scratch, env, lim.WallClock, log, npm, "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund")
		if !ok || err != nil {
			return false, err
		}
		// What the registry resolved must come from the registry too.
		made, err := os.ReadFile(filepath.Join(scratch, "package-lock.json"))
		if err != nil {
			fmt.Fprintln(log, "npm made no package-lock.json")
			return false, nil
		}
		if err := checkPackageLock("the package-lock.json npm made", made, r.cfg.NPMRegistry); err != nil {
			fmt.Fprintln(log, err)
			return false, nil
		}
	}
	if ok, err := r.runFetchCommand(ctx, scratch, env, lim.WallClock, log, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"); !ok || err != nil {
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

// fetchEnv is a fetch's environment: its own PATH and HOME, and the runner's proxy settings
// (downloads may need them; no project code runs to read them).
func (r *Runner) fetchEnv(home, toolBin string) []string {
	env := []string{"PATH=" + toolBin + ":/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "LANG=C.UTF-8", "CI=true"}
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// runFetchCommand runs argv in dir as the sandbox uid with env, stopping it after wall. ok is
// whether it succeeded; the error is for a command that could not start.
func (r *Runner) runFetchCommand(ctx context.Context, dir string, env []string, wall time.Duration, log io.Writer, argv ...string) (bool, error) {
	fmt.Fprintf(log, "$ %s\n", shellJoin(append([]string{filepath.Base(argv[0])}, argv[1:]...)))
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
