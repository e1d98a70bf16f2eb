// Package sandbox runs untrusted code: the source trees the agents write, built, linted and
// tested with no network, inside limits, with nothing of the host to read but the toolchains.
//
// A Runner takes a Job (a tree, the dependencies to fetch for it, the steps to run) and returns
// what each step did. Two runners implement it: bwrap (the local default, bubblewrap on the same
// machine) and kubejob (a Kubernetes Job per verification). What to run, and what the results
// mean, is the caller's (the agents service's verification); the runner only runs it safely.
//
// Dependencies are fetched before any step, by the runner itself, with commands that run no
// code of the project (Fetch); the steps then find them read-only and offline.
package sandbox

import (
	"context"
	"errors"
	"time"
)

// File is one file of a tree. Path is relative and "/"-separated; the runner refuses (as a
// failed Job, not by writing elsewhere) any path that is absolute, has a ".." segment or goes
// through a symbolic link.
type File struct {
	Path    string
	Content []byte
}

// FetchKind is a kind of dependency download a runner knows how to do safely.
type FetchKind string

const (
	// FetchGo downloads a Go module's dependencies (go mod download) into the project's
	// module cache; steps see it as GOMODCACHE, read-only, with GOPROXY=off.
	FetchGo FetchKind = "go"
	// FetchNPM installs a package.json's dependencies without running their scripts (npm ci
	// --ignore-scripts; a lock file is made first when there is none); steps see node_modules
	// read-only. Only registry dependencies are allowed (no file:, link:, git or URL specs).
	FetchNPM FetchKind = "npm"
	// FetchGoVulnCheck provides the Go vulnerability scanner to the steps: govulncheck on
	// PATH and the Go vulnerability database at GoVulnDBDir (for "-db file://" + GoVulnDBDir).
	// Neither comes from the tree: the local runner downloads both once, at the versions below,
	// from the Go module proxy (checked against the checksum database) and builds govulncheck;
	// the Kubernetes runner's image ships them. Fetch.Dir is not used.
	FetchGoVulnCheck FetchKind = "govulncheck"
)

// The Go vulnerability scanner and database the runners provide (FetchGoVulnCheck). The
// database is golang.org/x/vulndb's OSV files as of the pseudo-version's date: a scan means the
// same on every machine until these are raised, by hand, with the runner image's.
const (
	GovulncheckModule  = "golang.org/x/vuln"
	GovulncheckVersion = "v1.9.0"
	GoVulnDBModule     = "golang.org/x/vulndb"
	GoVulnDBVersion    = "v0.0.0-20261105234957-e22db6528018"
	// GoVulnDBDir is where steps find the database's OSV files (the module's data/osv).
	GoVulnDBDir = "/opt/fuzzyllama/vulndb"
	// ToolsBinDir is on the steps' PATH and holds govulncheck when it was fetched.
	ToolsBinDir = "/opt/fuzzyllama/bin"
)

// Fetch is a download of the dependencies of the project in Dir (relative to the tree root).
type Fetch struct {
	Kind FetchKind
	Dir  string
}

// Step is one command run in the sandbox, in Dir (relative to the tree root), with the tree
// writable and everything else read-only or absent.
type Step struct {
	// Name identifies the step in its result ("build", "lint", "unit_tests", …).
	Name string
	Dir  string
	// Command is the argv; Command[0] is looked up on the sandbox's PATH (the toolchains).
	Command []string
	// Env adds variables ("KEY=value") to the sandbox's fixed environment. Never secrets:
	// nothing of the host's environment reaches a step.
	Env []string
	// Results are files (relative to the tree root) the caller wants back after the step, such
	// as a coverage report; read without following symbolic links, each at most
	// Limits.OutputBytes. A missing one is simply absent from StepResult.Results.
	Results []string
	// Preview, when set, makes this a preview step: Command starts a server that should keep
	// running; the step passes when it answers Preview.HealthPath on Preview.Port, and a
	// screenshot of Preview.PagePath is taken in the sandbox. The server is stopped after.
	Preview *Preview
}

// Preview is what a preview step probes.
type Preview struct {
	Port       int
	HealthPath string // e.g. "/healthz"; answered with a 2xx or 3xx
	// PagePath, when set, is screenshotted with headless Chromium once the server is healthy.
	PagePath string
}

// Limits bound each step. Zero values take the runner's defaults (DefaultLimits).
type Limits struct {
	WallClock   time.Duration // per step, from its start to the kill of its process group
	CPUTime     time.Duration // per process (RLIMIT_CPU)
	MemoryBytes int64         // the step's processes together (a memory cgroup where available)
	Processes   int           // processes and threads of the step together
	FileBytes   int64         // the largest file a step may write (RLIMIT_FSIZE)
	OutputBytes int64         // the log kept of a step's output; the rest is drained and counted
	TreeBytes   int64         // the tree's size, as it is and as steps grow it
}

// DefaultLimits suit building and testing the agents' skeletons on a small machine.
var DefaultLimits = Limits{
	WallClock:   5 * time.Minute,
	CPUTime:     5 * time.Minute,
	MemoryBytes: 2 << 30,
	Processes:   512,
	FileBytes:   256 << 20,
	OutputBytes: 256 << 10,
	TreeBytes:   1 << 30,
}

// WithDefaults returns l with every zero field set to DefaultLimits'.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits
	return Limits{WallClock: positiveOr(l.WallClock, d.WallClock), CPUTime: positiveOr(l.CPUTime, d.CPUTime),
		MemoryBytes: positiveOr(l.MemoryBytes, d.MemoryBytes), Processes: positiveOr(l.Processes, d.Processes),
		FileBytes: positiveOr(l.FileBytes, d.FileBytes), OutputBytes: positiveOr(l.OutputBytes, d.OutputBytes),
		TreeBytes: positiveOr(l.TreeBytes, d.TreeBytes)}
}

// positiveOr is v when it is positive, otherwise the default d.
func positiveOr[T int | int64 | time.Duration](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

// Job is one run of a tree: fetch its dependencies, then run its steps in order, in one copy
// of the tree (a step sees what the ones before it wrote).
type Job struct {
	// ProjectID keys the caches (dependencies, build cache): one project never sees another's.
	ProjectID string
	Files     []File
	Fetch     []Fetch
	Steps     []Step
	Limits    Limits
}

// StepResult is what one step did.
type StepResult struct {
	Name string
	// Command is the step as a person would type it ("cd backend && go build ./...").
	Command string
	// ExitCode is the command's; -1 when the sandbox stopped it (Stopped says why) or it could
	// not start.
	ExitCode int
	// Stopped is why the sandbox ended the step, "" if it ended by itself: "wall-clock limit of
	// 5m0s reached", "memory limit of 2.0 GiB reached", "output limit …", ….
	Stopped  string
	Duration time.Duration
	// Log is the step's stdout and stderr as they came, at most Limits.OutputBytes, ending with a
	// note saying how much was left out when cut.
	Log []byte
	// Results holds the Step.Results files the step left, by path.
	Results map[string][]byte
	// Screenshot is the preview's PNG, when one was taken.
	Screenshot []byte
}

// Passed reports whether the step ended by itself with exit code 0.
func (r StepResult) Passed() bool { return r.ExitCode == 0 && r.Stopped == "" }

// FetchResult is what a dependency download did.
type FetchResult struct {
	Kind     FetchKind
	Dir      string
	Command  string
	OK       bool
	Duration time.Duration
	Log      []byte // bounded like a step's
}

// Result is what a Job did.
type Result struct {
	Fetches []FetchResult
	// Steps has one result per Job.Steps, in order. When a fetch failed, the steps did not run
	// and Steps is empty.
	Steps []StepResult
}

// Runner runs jobs. Run returns an error only when it could not run the job at all (the
// runner is misconfigured or unavailable, ctx ended, or the tree is refused: ErrBadTree); a
// step that fails or is stopped by a limit is a result, not an error.
type Runner interface {
	// Name is "local" or "kubernetes", as proofs record it.
	Name() string
	Run(ctx context.Context, job Job) (Result, error)
}

// ErrBadTree wraps the reason a tree was refused (a path outside it, too many or too large
// files).
var ErrBadTree = errors.New("the source tree is refused")
