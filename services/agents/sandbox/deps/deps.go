// Package deps is how both sandbox runners fetch a tree's dependencies: which go.mod,
// package.json and lock files they accept, the files a fetch copies, alone, into an empty
// scratch directory (so that no go.work, .npmrc or other file of the tree can steer the tools),
// the commands run there, none of which runs code of the project, and their environment.
package deps

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// Where dependencies come from unless a runner is configured otherwise. The Go proxy has no
// "direct": a download never runs a version control tool on a repository the project names.
const (
	DefaultGoProxy     = "https://proxy.golang.org"
	DefaultNPMRegistry = "https://registry.npmjs.org/"
)

// The fetch commands. npm runs no package's scripts; go only reads go.mod and downloads.
var (
	goDownload = []string{"go", "mod", "download"}
	npmLock    = []string{"npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"}
	npmInstall = []string{"npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"}
)

// ReadFile returns the content of a file of the tree by its "/"-separated path from the tree's
// root, and whether there is such a file.
type ReadFile func(path string) ([]byte, bool)

// Plan is one checked fetch: the files to write into an empty scratch directory, and the
// commands to run there.
type Plan struct {
	// Files maps names in the scratch directory ("go.mod", "package-lock.json") to contents.
	Files map[string][]byte
	// Commands run in order in the scratch directory; argv[0] is "go" or "npm". A
	// FetchResult shows them with sandbox.CommandLine.
	Commands [][]string
	// makesLock: the first command makes the lock file the second installs, which is checked
	// in between like a lock file of the tree.
	makesLock bool
	registry  string
}

// NewPlan reads the files a fetch of kind in dir (relative to the tree's root, "" or "." for
// it) needs, with read, and checks them. registry is the one npm packages may come from. The
// error is a refusal, a sentence for the fetch's log naming what is wrong.
func NewPlan(kind sandbox.FetchKind, dir string, read ReadFile, registry string) (Plan, error) {
	where := path.Clean("./" + dir)
	need := func(name string) ([]byte, error) {
		data, ok := read(path.Join(where, name))
		if !ok {
			return nil, fmt.Errorf("there is no %s in %s", name, where)
		}
		return data, nil
	}
	switch kind {
	case sandbox.FetchGo:
		goMod, err := need("go.mod")
		if err != nil {
			return Plan{}, err
		}
		if err := CheckGoMod(path.Join(where, "go.mod"), goMod); err != nil {
			return Plan{}, err
		}
		p := Plan{Files: map[string][]byte{"go.mod": goMod}, Commands: [][]string{goDownload}}
		if goSum, ok := read(path.Join(where, "go.sum")); ok {
			p.Files["go.sum"] = goSum
		}
		return p, nil
	case sandbox.FetchNPM:
		pkg, err := need("package.json")
		if err != nil {
			return Plan{}, err
		}
		if err := CheckPackageJSON(path.Join(where, "package.json"), pkg); err != nil {
			return Plan{}, err
		}
		p := Plan{Files: map[string][]byte{"package.json": pkg}, Commands: [][]string{npmInstall}, registry: registry}
		lockPath := path.Join(where, "package-lock.json")
		if lock, ok := read(lockPath); ok {
			if err := CheckPackageLock(lockPath, lock, registry); err != nil {
				return Plan{}, err
			}
			p.Files["package-lock.json"] = lock
		} else {
			p.Commands, p.makesLock = [][]string{npmLock, npmInstall}, true
		}
		return p, nil
	case sandbox.FetchGoVulnCheck:
		return Plan{Commands: goVulnCheckDownload}, nil
	}
	return Plan{}, fmt.Errorf("the sandbox does not know how to fetch %q dependencies", kind)
}

// goVulnCheckDownload takes the Go vulnerability database and builds govulncheck, both at the
// versions package sandbox pins (never one a tree names), in an empty scratch directory.
var goVulnCheckDownload = [][]string{
	{"go", "mod", "download", sandbox.GoVulnDBModule + "@" + sandbox.GoVulnDBVersion},
	{"go", "install", sandbox.GovulncheckModule + "/cmd/govulncheck@" + sandbox.GovulncheckVersion},
}

// GoVulnDBPath is where the database's OSV files are in a module cache the FetchGoVulnCheck
// plan downloaded into.
func GoVulnDBPath(goModCache string) string {
	return filepath.Join(goModCache, filepath.FromSlash(sandbox.GoVulnDBModule)+"@"+sandbox.GoVulnDBVersion, "data", "osv")
}

// Run runs the plan's commands in scratch, where its Files were written, each with run, which
// says whether it succeeded; the error is for a runner that cannot work. Each command line goes
// to log before it runs; a lock file npm made is checked before npm installs from it.
func (p Plan) Run(scratch string, log io.Writer, run func(argv []string) (bool, error)) (bool, error) {
	for i, argv := range p.Commands {
		fmt.Fprintf(log, "$ %s\n", strings.Join(argv, " "))
		if ok, err := run(argv); !ok || err != nil {
			return false, err
		}
		if i == 0 && p.makesLock {
			made, err := os.ReadFile(filepath.Join(scratch, "package-lock.json"))
			if err != nil {
				fmt.Fprintln(log, "npm made no package-lock.json")
				return false, nil
			}
			// What the registry resolved must come from the registry too.
			if err := CheckPackageLock("the package-lock.json npm made", made, p.registry); err != nil {
				fmt.Fprintln(log, err)
				return false, nil
			}
		}
	}
	return true, nil
}

// Env is where a fetch's tools keep things.
type Env struct {
	// Home is an empty directory of the fetch's own: HOME, the Go build cache, and the place of
	// the npm config files, which are never there.
	Home        string
	GoModCache  string // the module cache the steps will use
	GoProxy     string
	NPMCache    string
	NPMRegistry string
	GoBin       string // where FetchGoVulnCheck installs govulncheck
}

// Vars is the fetch's environment for kind, but for PATH: the tools' settings, none read from
// a config file.
func (e Env) Vars(kind sandbox.FetchKind) []string {
	vars := []string{"HOME=" + e.Home, "LANG=C.UTF-8", "CI=true"}
	switch kind {
	case sandbox.FetchGo, sandbox.FetchGoVulnCheck:
		vars = append(vars,
			"GOMODCACHE="+e.GoModCache, "GOPROXY="+e.GoProxy,
			"GOCACHE="+filepath.Join(e.Home, ".cache", "go-build"), "GOPATH="+filepath.Join(e.Home, "go"),
			// The default checksum database checks what the proxy gives; a go.work, a go.env
			// or a toolchain line of the tree changes nothing.
			"GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off", "GOENV=off", "GOTELEMETRY=off",
			"CGO_ENABLED=0")
		if kind == sandbox.FetchGoVulnCheck {
			vars = append(vars, "GOBIN="+e.GoBin)
		}
	case sandbox.FetchNPM:
		vars = append(vars,
			"npm_config_cache="+e.NPMCache, "npm_config_registry="+e.NPMRegistry,
			"npm_config_userconfig="+filepath.Join(e.Home, "npmrc"),
			"npm_config_globalconfig="+filepath.Join(e.Home, "global-npmrc"),
			"npm_config_ignore_scripts=true",
			// No git dependency may be cloned, not even one a registry package names.
			"npm_config_git=/bin/false",
			"npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	}
	return vars
}
