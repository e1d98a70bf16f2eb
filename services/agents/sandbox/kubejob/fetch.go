package kubejob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/capture"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/deps"
)

// fetch downloads one fetch's dependencies as package deps says: the manifests alone in a
// scratch directory of the fetch volume, where no file of the tree (go.work, .npmrc) can steer
// the tools; then node_modules goes into the tree, and the Go modules are in the volume's cache.
func (d *driver) fetch(ctx context.Context, tree string, f sandbox.Fetch, limits sandbox.Limits) sandbox.FetchResult {
	res := sandbox.FetchResult{Kind: f.Kind, Dir: f.Dir}
	log := capture.NewLog(limits.OutputBytes)
	start := time.Now()
	ok, err := d.fetchChecked(ctx, tree, f, limits, log, &res)
	if err != nil {
		fmt.Fprintf(log, "[sandbox: %v]\n", err)
	}
	res.OK = ok && err == nil
	res.Duration = time.Since(start)
	res.Log = log.Bytes()
	return res
}

// fetchChecked says whether the fetch succeeded; a refusal or a failed command is in the log,
// the error is the driver's own trouble.
func (d *driver) fetchChecked(ctx context.Context, tree string, f sandbox.Fetch, limits sandbox.Limits, log io.Writer, res *sandbox.FetchResult) (bool, error) {
	root, err := os.OpenRoot(tree)
	if err != nil {
		return false, err
	}
	defer root.Close()
	plan, err := deps.NewPlan(f.Kind, f.Dir, treeFile(root), d.npmRegistry)
	if err != nil {
		fmt.Fprintln(log, err)
		return false, nil
	}
	if f.Kind == sandbox.FetchGoVulnCheck {
		return imageHasGoVulnCheck(log), nil
	}
	res.Command = sandbox.CommandLine(f.Dir, plan.Commands...)
	// On the volume, so that node_modules is moved into the tree, not copied.
	scratch, err := os.MkdirTemp(d.layout.Deps, "fetch-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(scratch)
	for name, data := range plan.Files {
		if err := os.WriteFile(filepath.Join(scratch, name), data, 0o644); err != nil {
			return false, err
		}
	}
	home := filepath.Join(scratch, ".home")
	if err := os.Mkdir(home, 0o700); err != nil {
		return false, err
	}
	env := deps.Env{Home: home, GoModCache: filepath.Join(d.layout.Deps, "gomod"), GoProxy: deps.DefaultGoProxy,
		NPMCache: filepath.Join(d.layout.Tmp, "npm"), NPMRegistry: d.npmRegistry}
	// The steps pod uses the volume's module cache when there is one, even an empty one.
	if err := os.MkdirAll(env.GoModCache, 0o755); err != nil {
		return false, err
	}
	vars := append(env.Vars(f.Kind), "PATH="+podPath, "TMPDIR="+d.layout.Tmp)
	ok, err := plan.Run(scratch, log, func(argv []string) (bool, error) {
		exitCode, stopped, _, out := d.runCommand(ctx, scratch, argv, vars, limits)
		log.Write(out)
		if stopped != "" {
			fmt.Fprintf(log, "[sandbox: %s]\n", stopped)
		}
		return exitCode == 0 && stopped == "", nil
	})
	if err != nil || !ok || f.Kind != sandbox.FetchNPM {
		return ok, err
	}
	installed := filepath.Join(scratch, "node_modules")
	if _, err := os.Lstat(installed); errors.Is(err, fs.ErrNotExist) {
		return true, nil // no dependencies
	}
	into := path.Join(path.Clean("./"+f.Dir), "node_modules")
	if err := root.RemoveAll(into); err != nil {
		return false, err
	}
	return true, os.Rename(installed, filepath.Join(tree, filepath.FromSlash(into)))
}

// treeFile reads the tree's regular files, not following a symbolic link.
func treeFile(root *os.Root) deps.ReadFile {
	return func(p string) ([]byte, bool) {
		info, err := root.Lstat(p)
		if err != nil || !info.Mode().IsRegular() {
			return nil, false
		}
		data, err := root.ReadFile(p)
		return data, err == nil
	}
}

// imageHasGoVulnCheck reports whether the runner image ships govulncheck and the Go
// vulnerability database where the steps look for them (image/Dockerfile puts them there at
// the versions package sandbox pins): the pods download neither.
func imageHasGoVulnCheck(log io.Writer) bool {
	for _, p := range []string{path.Join(sandbox.ToolsBinDir, "govulncheck"), sandbox.GoVulnDBDir} {
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(log, "the runner image has no %s: build it from services/agents/sandbox/kubejob/image/Dockerfile\n", p)
			return false
		}
	}
	fmt.Fprintf(log, "govulncheck %s and the Go vulnerability database (%s@%s) of the runner image\n",
		sandbox.GovulncheckVersion, sandbox.GoVulnDBModule, sandbox.GoVulnDBVersion)
	return true
}
