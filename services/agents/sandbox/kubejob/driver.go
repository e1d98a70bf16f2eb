package kubejob

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/deps"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/internal/filecopy"
)

// driverCommand is the driver's name on the runner image's PATH.
const driverCommand = "fuzzyllama-sandbox"

// layout is where the driver finds and puts things in the pod.
type layout struct {
	Bundle string // the bundle Secret: spec.json and tree.tar.gz, read-only
	Work   string // the tree the steps run in
	// Deps is the fetch volume: tree/ is the tree as the fetch left it (go.sum, node_modules),
	// gomod/ the Go module cache. Read-only in the steps pod.
	Deps string
	Home string
	Tmp  string
}

var podLayout = layout{Bundle: "/sandbox/bundle", Work: "/work", Deps: "/sandbox/deps", Home: "/home/sandbox", Tmp: "/tmp"}

// Main is the driver, run in the sandbox pods by cmd/fuzzyllama-sandbox:
//
//	fuzzyllama-sandbox fetch   download the spec's dependencies onto the fetch volume
//	fuzzyllama-sandbox steps   run the spec's steps
//
// It writes the protocol's lines on stdout and returns the process's exit code: 0 when it ran
// everything it was given, whatever the steps did.
func Main(args []string) int {
	if len(args) >= 2 && args[1] == rlimitMode {
		return execLimited(args[2:])
	}
	if len(args) != 2 || args[1] != PhaseFetch && args[1] != PhaseSteps {
		fmt.Fprintf(os.Stderr, "usage: %s fetch|steps\n", driverCommand)
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	d := &driver{layout: podLayout, out: os.Stdout, self: self, pid1: os.Getpid() == 1, npmRegistry: deps.DefaultNPMRegistry}
	// The steps run as the driver's uid: keep them out of its memory and open files
	// (/proc/1/fd/1 is the pod's log), and let them not stop it with a signal.
	if err := setNotDumpable(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE)
	if err := d.run(context.Background(), args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		return 1
	}
	return 0
}

func setNotDumpable() error {
	const prSetDumpable = 4
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetDumpable, 0, 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE): %w", errno)
	}
	return nil
}

type driver struct {
	layout layout
	out    io.Writer
	// self is the driver's executable, re-run to set a step's rlimits before it execs.
	self string
	// pid1: the driver is the pod's init, so every other process is a step's, and is killed
	// after each step (one that left its process group too).
	pid1 bool
	// npmRegistry is the one registry npm packages may come from.
	npmRegistry string
}

func (d *driver) run(ctx context.Context, mode string) error {
	raw, err := os.ReadFile(filepath.Join(d.layout.Bundle, specKey))
	if err != nil {
		return err
	}
	var s spec
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("the spec: %w", err)
	}
	s.Limits = s.Limits.WithDefaults()
	if mode == PhaseFetch {
		err = d.fetchAll(ctx, s)
	} else {
		err = d.stepAll(ctx, s)
	}
	if err != nil {
		return err
	}
	_, err = d.out.Write(encodeLine(line{Done: true}))
	return err
}

// unpack writes the bundle's tree into dir.
func (d *driver) unpack(dir string, limits sandbox.Limits) error {
	f, err := os.Open(filepath.Join(d.layout.Bundle, treeKey))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return unpackTree(f, dir, limits.TreeBytes)
}

func (d *driver) fetchAll(ctx context.Context, s spec) error {
	tree := filepath.Join(d.layout.Deps, "tree")
	if err := d.unpack(tree, s.Limits); err != nil {
		return err
	}
	for _, f := range s.Fetches {
		res := d.fetch(ctx, tree, f, s.Limits)
		if _, err := d.out.Write(encodeLine(line{Fetch: &res})); err != nil {
			return err
		}
	}
	return nil
}

func (d *driver) stepAll(ctx context.Context, s spec) error {
	// After a fetch, the steps start from the tree as it left it; the copy is theirs to write.
	fetched := filepath.Join(d.layout.Deps, "tree")
	if _, err := os.Stat(fetched); err == nil {
		if err := filecopy.Tree(fetched, d.layout.Work); err != nil {
			return fmt.Errorf("copying the fetched tree: %w", err)
		}
	} else if err := d.unpack(d.layout.Work, s.Limits); err != nil {
		return err
	}
	env := d.stepEnv()
	for i, step := range s.Steps {
		if _, err := d.out.Write(encodeLine(line{Started: &i})); err != nil {
			return err
		}
		res := d.step(ctx, step, env, s.Limits)
		if _, err := d.out.Write(encodeLine(line{Step: &res})); err != nil {
			return err
		}
	}
	return nil
}

// stepEnv is the steps' fixed environment: toolchains offline, caches in the pod's own home.
func (d *driver) stepEnv() []string {
	modCache := filepath.Join(d.layout.Deps, "gomod")
	if _, err := os.Stat(modCache); err != nil {
		modCache = filepath.Join(d.layout.Home, "go", "pkg", "mod")
	}
	return append(d.baseEnv(),
		"GOMODCACHE="+modCache,
		"GOPROXY=off",
		// The module cache was checked against the checksum database when it was fetched.
		"GOSUMDB=off",
		// As in the local runner: a go.work of the tree does not change what is built.
		"GOWORK=off",
		"npm_config_offline=true",
	)
}

// podPath is the toolchains' PATH in the runner image.
const podPath = "/usr/local/go/bin:" + sandbox.ToolsBinDir + ":/usr/local/bin:/usr/bin:/bin"

func (d *driver) baseEnv() []string {
	return []string{
		"PATH=" + podPath,
		"HOME=" + d.layout.Home,
		"TMPDIR=" + d.layout.Tmp,
		"LANG=C.UTF-8",
		"CI=true",
		"GOCACHE=" + filepath.Join(d.layout.Home, ".cache", "go-build"),
		"GOTOOLCHAIN=local",
		"GOFLAGS=-mod=mod -buildvcs=false",
		"CGO_ENABLED=0",
		"GOTELEMETRY=off",
		"npm_config_cache=" + filepath.Join(d.layout.Tmp, "npm"),
		"npm_config_update_notifier=false",
	}
}
