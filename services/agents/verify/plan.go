// Package verify decides how a source tree is built, linted and tested, and what the sandbox's
// results prove: it turns a tree and the proofs a gate requires into a sandbox.Job, and the
// job's results into proofs (pass or fail, a one-line summary, the command, the exit code, the
// duration and a bounded log). It runs nothing itself: the sandbox does.
//
// Which toolchain a directory needs is detected from its files — go.mod (Go), package.json
// (Node) — or declared in a manifest at the tree's root, fuzzyllama.json, which also declares
// the preview (see Manifest).
package verify

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// Proof types verification produces, as the workflow names them.
const (
	ProofBuild          = "build"
	ProofLint           = "lint"
	ProofUnitTests      = "unit_tests"
	ProofCoverage       = "coverage"
	ProofPreviewStartup = "preview_startup"
	ProofSecurityScan   = "security_scan"
)

// Produces reports whether verification can produce a proof of this type.
func Produces(proofType string) bool {
	switch proofType {
	case ProofBuild, ProofLint, ProofUnitTests, ProofCoverage, ProofSecurityScan:
		return true
	}
	return false
}

// Toolchains a component may need.
const (
	ToolchainGo   = "go"
	ToolchainNode = "node"
)

// ManifestPath is where the architect declares components and the preview.
const ManifestPath = "fuzzyllama.json"

// Manifest is fuzzyllama.json: optional; what it leaves out is detected.
type Manifest struct {
	// Components override detection when set: each directory and its toolchain, and optionally
	// its commands (argv) for build, lint and test.
	Components []ManifestComponent `json:"components,omitempty"`
	// Preview is how G5 starts the application to probe and screenshot it.
	Preview *ManifestPreview `json:"preview,omitempty"`
}

// ManifestComponent is one buildable directory.
type ManifestComponent struct {
	Dir       string   `json:"dir"`
	Toolchain string   `json:"toolchain"`
	Build     []string `json:"build,omitempty"`
	Lint      []string `json:"lint,omitempty"`
	Test      []string `json:"test,omitempty"`
}

// ManifestPreview starts the application: Command in Dir, answering HealthPath on Port; Page
// is screenshotted ("/" when empty).
type ManifestPreview struct {
	Dir        string   `json:"dir"`
	Command    []string `json:"command"`
	Port       int      `json:"port"`
	HealthPath string   `json:"healthPath"`
	Page       string   `json:"page,omitempty"`
}

// Component is a directory of the tree built with one toolchain.
type Component struct {
	Dir       string // "." for the root
	Toolchain string
	build     []string
	lint      []string
	test      []string
	// coverage is the file the test command leaves its coverage report in (relative to the tree
	// root), "" when it leaves none.
	coverage string
}

// check is one step of the job and the proofs it speaks for.
type check struct {
	step      string // sandbox step name
	proof     string
	component Component
}

// Plan is how a tree is verified: the job to give the sandbox and how to read its results.
type Plan struct {
	Job        sandbox.Job
	Components []Component
	// Skipped are directories verification could not build, each with why (a Python package:
	// no Python toolchain in the sandbox).
	Skipped []string
	// Proofs are the proof types the plan produces, in the workflow's order.
	Proofs            []string
	CoverageThreshold int
	checks            []check
}

// NewPlan plans the verification of files for the proofs a gate requires (those it cannot
// produce are left out of Plan.Proofs). It returns an error naming the problem when the tree
// gives nothing to run: no component, or a manifest it cannot read.
func NewPlan(projectID string, files []sandbox.File, proofs []string, coverageThreshold int) (Plan, error) {
	p := Plan{CoverageThreshold: coverageThreshold}
	m, err := manifestOf(files)
	if err != nil {
		return p, err
	}
	p.Components, p.Skipped = components(files, m)
	for _, proof := range proofs {
		switch {
		case proof == ProofSecurityScan && !p.has(ToolchainGo):
			// The scanner reads Go; a tree without Go leaves the proof to the owner.
		case Produces(proof), proof == ProofPreviewStartup && m.Preview != nil:
			p.Proofs = append(p.Proofs, proof)
		}
	}
	switch {
	case len(p.Proofs) == 0 && slices.Contains(proofs, ProofSecurityScan):
		return p, &NothingToVerifyError{"nothing to scan: the sandbox's vulnerability scanner (govulncheck) reads Go, and no component of the tree is Go. Record the security scan yourself"}
	case len(p.Proofs) == 0:
		return p, &NothingToVerifyError{"the gate requires no proof verification produces"}
	}
	if len(p.Components) == 0 {
		why := "no directory of the tree has a go.mod or a package.json, and no " + ManifestPath + " declares one"
		if len(p.Skipped) > 0 {
			why += " (" + strings.Join(p.Skipped, "; ") + ")"
		}
		return p, &NothingToVerifyError{fmt.Sprintf("nothing to build: %s. Record the gate's proofs yourself, or add a component the sandbox builds", why)}
	}
	p.Job = sandbox.Job{ProjectID: projectID, Files: files}
	wants := func(proof string) bool { return slices.Contains(p.Proofs, proof) }
	for _, c := range p.Components {
		if wants(ProofBuild) && c.build != nil {
			p.add(check{proof: ProofBuild, component: c}, c.build, nil)
		}
		if wants(ProofLint) && c.lint != nil {
			p.add(check{proof: ProofLint, component: c}, c.lint, nil)
		}
		if (wants(ProofUnitTests) || wants(ProofCoverage)) && c.test != nil {
			var results []string
			if c.coverage != "" {
				results = []string{c.coverage}
			}
			p.add(check{proof: ProofUnitTests, component: c}, c.test, results)
		}
		if wants(ProofSecurityScan) && c.Toolchain == ToolchainGo {
			p.add(check{proof: ProofSecurityScan, component: c}, securityScanCommand, nil)
		}
	}
	if wants(ProofPreviewStartup) {
		pr := m.Preview
		p.Job.Steps = append(p.Job.Steps, sandbox.Step{Name: "preview", Dir: pr.Dir, Command: pr.Command,
			Preview: &sandbox.Preview{Port: pr.Port, HealthPath: pr.HealthPath, PagePath: pr.Page}})
		p.checks = append(p.checks, check{step: "preview", proof: ProofPreviewStartup, component: Component{Dir: pr.Dir}})
	}
	p.Job.Fetch = p.fetches()
	return p, nil
}

// fetches are the downloads the plan's steps need: the dependencies of each component a step
// runs in (of every component when the application is previewed, as it may use any), and the
// scanner when the tree is scanned.
func (p *Plan) fetches() []sandbox.Fetch {
	var out []sandbox.Fetch
	for _, c := range p.Components {
		used := slices.ContainsFunc(p.checks, func(ch check) bool {
			return ch.proof == ProofPreviewStartup || ch.component.Dir == c.Dir && ch.component.Toolchain == c.Toolchain
		})
		switch {
		case !used:
		case c.Toolchain == ToolchainGo:
			out = append(out, sandbox.Fetch{Kind: sandbox.FetchGo, Dir: c.Dir})
		case c.Toolchain == ToolchainNode:
			out = append(out, sandbox.Fetch{Kind: sandbox.FetchNPM, Dir: c.Dir})
		}
	}
	if slices.Contains(p.Proofs, ProofSecurityScan) {
		out = append(out, sandbox.Fetch{Kind: sandbox.FetchGoVulnCheck})
	}
	return out
}

// has reports whether a component of the plan uses toolchain.
func (p *Plan) has(toolchain string) bool {
	return slices.ContainsFunc(p.Components, func(c Component) bool { return c.Toolchain == toolchain })
}

// NothingToVerifyError is NewPlan's answer for a tree that gives verification nothing to run
// for the proofs asked (no component it builds, no Go to scan): those proofs are the owner's
// to record, and the tree is not wrong for it.
type NothingToVerifyError struct{ Reason string }

func (e *NothingToVerifyError) Error() string { return e.Reason }

// RunnerProblem says why the runner could not provide its own tools for res (the vulnerability
// scanner could not be downloaded or is missing from the runner image), "" if it could: the
// tree is not at fault, and no repair of it would help.
func RunnerProblem(res sandbox.Result) string {
	for _, f := range res.Fetches {
		if f.Kind == sandbox.FetchGoVulnCheck && !f.OK {
			return "the sandbox could not provide the vulnerability scanner: " + oneLine(lastLines(string(plainText(f.Log)), 4), 600)
		}
	}
	return ""
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

func (p *Plan) add(c check, command, results []string) {
	c.step = fmt.Sprintf("%s:%s", c.proof, c.component.Dir)
	p.Job.Steps = append(p.Job.Steps, sandbox.Step{Name: c.step, Dir: c.component.Dir, Command: command, Results: results})
	p.checks = append(p.checks, c)
}

// manifestOf reads fuzzyllama.json, if the tree has one.
func manifestOf(files []sandbox.File) (Manifest, error) {
	var m Manifest
	for _, f := range files {
		if f.Path != ManifestPath {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(string(f.Content)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return m, fmt.Errorf("%s cannot be read: %v", ManifestPath, err)
		}
		for i, c := range m.Components {
			if c.Toolchain != ToolchainGo && c.Toolchain != ToolchainNode {
				return m, fmt.Errorf("%s: components[%d].toolchain %q is not one the sandbox has (go, node)", ManifestPath, i, c.Toolchain)
			}
			if !validDir(c.Dir) {
				return m, fmt.Errorf("%s: components[%d].dir %q is not a directory of the tree", ManifestPath, i, c.Dir)
			}
		}
		if pr := m.Preview; pr != nil {
			switch {
			case len(pr.Command) == 0:
				return m, fmt.Errorf("%s: preview.command is empty", ManifestPath)
			case pr.Port < 1024 || pr.Port > 65535:
				return m, fmt.Errorf("%s: preview.port %d is not a port from 1024 to 65535", ManifestPath, pr.Port)
			case !strings.HasPrefix(pr.HealthPath, "/"):
				return m, fmt.Errorf("%s: preview.healthPath %q must start with /", ManifestPath, pr.HealthPath)
			case !validDir(pr.Dir):
				return m, fmt.Errorf("%s: preview.dir %q is not a directory of the tree", ManifestPath, pr.Dir)
			}
			if pr.Page == "" {
				pr.Page = "/"
			}
		}
	}
	return m, nil
}

// validDir reports whether dir names a directory inside the tree ("." is its root).
func validDir(dir string) bool {
	return dir == "." || dir != "" && !strings.HasPrefix(dir, "/") && path.Clean(dir) == dir && !strings.HasPrefix(dir, "..")
}

// components finds what to build: the manifest's components, or every directory with a go.mod
// or a package.json (outside node_modules), and the directories it cannot build.
func components(files []sandbox.File, m Manifest) ([]Component, []string) {
	byPath := make(map[string]sandbox.File, len(files))
	for _, f := range files {
		byPath[f.Path] = f
	}
	var out []Component
	var skipped []string
	if len(m.Components) > 0 {
		for _, mc := range m.Components {
			c := detected(mc.Dir, mc.Toolchain, byPath)
			if mc.Build != nil {
				c.build = mc.Build
			}
			if mc.Lint != nil {
				c.lint = mc.Lint
			}
			if mc.Test != nil {
				c.test, c.coverage = mc.Test, ""
			}
			out = append(out, c)
		}
		return out, nil
	}
	for _, f := range files {
		dir, name := path.Split(f.Path)
		dir = strings.TrimSuffix(dir, "/")
		if dir == "" {
			dir = "."
		}
		if slices.Contains(strings.Split(dir, "/"), "node_modules") {
			continue
		}
		switch name {
		case "go.mod":
			out = append(out, detected(dir, ToolchainGo, byPath))
		case "package.json":
			out = append(out, detected(dir, ToolchainNode, byPath))
		case "pyproject.toml", "requirements.txt":
			skipped = append(skipped, fmt.Sprintf("%s: Python is not a toolchain the sandbox runs yet; not built or tested", dir))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out, skipped
}

// coverageFile is where the Go test command leaves its coverage profile, in the component.
const coverageFile = ".fuzzyllama-coverage.out"

// nodeCoverageSummary is where Vitest's json-summary reporter writes, in the component.
const nodeCoverageSummary = "coverage/coverage-summary.json"

// detected is the component in dir with the toolchain's usual commands.
func detected(dir, toolchain string, byPath map[string]sandbox.File) Component {
	c := Component{Dir: dir, Toolchain: toolchain}
	switch toolchain {
	case ToolchainGo:
		c.build = []string{"go", "build", "./..."}
		c.lint = []string{"go", "vet", "./..."}
		c.test = []string{"go", "test", "-coverprofile=" + coverageFile, "./..."}
		c.coverage = join(dir, coverageFile)
	case ToolchainNode:
		scripts := packageScripts(byPath[join(dir, "package.json")].Content)
		if scripts["build"] {
			c.build = []string{"npm", "run", "build"}
		}
		if scripts["lint"] {
			c.lint = []string{"npm", "run", "lint"}
		}
		switch {
		case scripts["coverage"]:
			c.test, c.coverage = []string{"npm", "run", "coverage"}, join(dir, nodeCoverageSummary)
		case scripts["test"]:
			c.test = []string{"npm", "test"}
		}
	}
	return c
}

// packageScripts lists the scripts a package.json declares.
func packageScripts(content []byte) map[string]bool {
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
	}
	_ = json.Unmarshal(content, &pkg) // a broken package.json fails the build, which says why
	out := make(map[string]bool, len(pkg.Scripts))
	for name := range pkg.Scripts {
		out[name] = true
	}
	return out
}

// join is a path of the tree: dir/name, or name at the root.
func join(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// Display is a command as a person would type it in the tree's root.
func Display(dir string, command []string) string {
	var quoted []string
	for _, a := range command {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$`\\|&;<>()*?[]{}~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		quoted = append(quoted, a)
	}
	if dir == "." {
		return strings.Join(quoted, " ")
	}
	return "cd " + dir + " && " + strings.Join(quoted, " ")
}
