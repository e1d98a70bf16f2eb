package bwrap

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/verify"
)

// goProject is the project of the Go tests: they share its build cache, so only the first
// compiles the standard library.
const goProject = "go-project"

// A stdlib-only Go module builds, vets and tests in the sandbox, and the coverage report comes
// back as a result.
func TestGoModule(t *testing.T) {
	files := []sandbox.File{
		file("backend/go.mod", "module example.com/tiny\n\ngo 1.22\n"),
		file("backend/add.go", "package tiny\n\n// Add adds.\nfunc Add(a, b int) int { return a + b }\n"),
		file("backend/add_test.go", "package tiny\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal(\"2+3\")\n\t}\n}\n"),
	}
	res := runJob(t, sandbox.Job{ProjectID: goProject, Files: files,
		Fetch: []sandbox.Fetch{{Kind: sandbox.FetchGo, Dir: "backend"}},
		Steps: []sandbox.Step{
			{Name: "build", Dir: "backend", Command: []string{"go", "build", "./..."}},
			{Name: "lint", Dir: "backend", Command: []string{"go", "vet", "./..."}},
			{Name: "unit_tests", Dir: "backend", Command: []string{"go", "test", "-coverprofile=cover.out", "./..."},
				Results: []string{"backend/cover.out", "backend/missing.out"}},
		}})
	if len(res.Fetches) != 1 || !res.Fetches[0].OK {
		t.Fatalf("fetch: %+v", res.Fetches)
	}
	for _, s := range res.Steps {
		mustPass(t, s)
	}
	if got := res.Steps[0].Command; got != "cd backend && go build ./..." {
		t.Errorf("Command = %q", got)
	}
	cover := string(res.Steps[2].Results["backend/cover.out"])
	if !strings.HasPrefix(cover, "mode: set") || !strings.Contains(cover, "add.go") {
		t.Errorf("coverage report = %q", cover)
	}
	if _, ok := res.Steps[2].Results["backend/missing.out"]; ok {
		t.Error("a result the step did not write is in Results")
	}
}

// A failing build is a failed step with the compiler's message, not a stopped one.
func TestGoBuildFails(t *testing.T) {
	s := runJob(t, sandbox.Job{ProjectID: goProject, Files: []sandbox.File{
		file("go.mod", "module example.com/broken\n\ngo 1.22\n"),
		file("main.go", "package main\n\nfunc main() { undefinedThing() }\n"),
	}, Steps: []sandbox.Step{{Name: "build", Command: []string{"go", "build", "./..."}}}}).Steps[0]
	mustFail(t, s, "")
	if s.Stopped != "" || s.ExitCode != 1 || !strings.Contains(string(s.Log), "undefined: undefinedThing") {
		t.Fatalf("exit %d stopped %q log %s", s.ExitCode, s.Stopped, s.Log)
	}
}

// node runs, and npm test of a package without dependencies passes after an npm fetch; the
// second fetch of the same package.json reuses the install.
func TestNode(t *testing.T) {
	files := []sandbox.File{
		file("web/package.json", `{"name":"tiny","version":"1.0.0","private":true,"scripts":{"test":"node test.js"}}`),
		file("web/test.js", "const assert = require('assert');\nassert.strictEqual(1 + 1, 2);\nconsole.log('node test ok');\n"),
	}
	job := sandbox.Job{ProjectID: "node-project", Files: files,
		Fetch: []sandbox.Fetch{{Kind: sandbox.FetchNPM, Dir: "web"}},
		Steps: []sandbox.Step{
			{Name: "node", Command: []string{"node", "-e", "console.log(6 * 7)"}},
			{Name: "unit_tests", Dir: "web", Command: []string{"npm", "test"}},
			{Name: "node_modules", Dir: "web", Command: []string{"sh", "-c", "test -d node_modules && ! touch node_modules/x 2>/dev/null"}},
		}}
	res := runJob(t, job)
	if len(res.Fetches) != 1 || !res.Fetches[0].OK {
		t.Fatalf("fetch: %+v", res.Fetches)
	}
	for _, s := range res.Steps {
		mustPass(t, s)
	}
	if !strings.Contains(string(res.Steps[0].Log), "42") || !strings.Contains(string(res.Steps[1].Log), "node test ok") {
		t.Fatalf("logs: %q %q", res.Steps[0].Log, res.Steps[1].Log)
	}
	again := runJob(t, job)
	if !again.Fetches[0].OK || !strings.Contains(string(again.Fetches[0].Log), "reused") {
		t.Fatalf("second fetch: %+v", again.Fetches[0])
	}
}

// The security scan, end to end on this runner: the scanner and its database are fetched once
// for all projects, read-only in the sandbox, and a module the code calls a vulnerable function
// of fails the proof, named with its vulnerability (golang.org/x/text before v0.3.7:
// GO-2021-0113 in language.Parse). Needs the Go module proxy, as every Go fetch.
func TestGovulncheckFindsACalledVulnerability(t *testing.T) {
	files := []sandbox.File{
		file("backend/go.mod", "module example.com/scanned\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.5\n"),
		file("backend/main.go", "package main\n\nimport (\n\t\"fmt\"\n\n\t\"golang.org/x/text/language\"\n)\n\n"+
			"func main() {\n\ttag, err := language.Parse(\"en-GB\")\n\tfmt.Println(tag, err)\n}\n"),
	}
	plan, err := verify.NewPlan("scanned-project", files, []string{verify.ProofSecurityScan}, 0)
	if err != nil {
		t.Fatal(err)
	}
	res := runJob(t, plan.Job)
	for _, f := range res.Fetches {
		if !f.OK {
			t.Fatalf("fetch %s: %s", f.Kind, f.Log)
		}
	}
	proof := plan.Evaluate(res)[0]
	if proof.Pass || !strings.Contains(proof.Summary, "GO-2021-0113 in golang.org/x/text@v0.3.5") ||
		!strings.Contains(proof.Failure, "Upgrade the module in go.mod") {
		t.Fatalf("proof: %+v\nlog:\n%s", proof, proof.Log)
	}

	// What every project's scan trusts is the runner's, not the sandbox uid's.
	bins, _ := filepath.Glob(filepath.Join(testBase, "cache", "tools", "*", "bin", "govulncheck"))
	if len(bins) != 1 {
		t.Fatalf("govulncheck binaries: %v", bins)
	}
	if info, err := os.Stat(bins[0]); err != nil || info.Sys().(*syscall.Stat_t).Uid != uint32(os.Geteuid()) || info.Mode().Perm()&0o022 != 0 {
		t.Errorf("the scanner binary: %v, %v", info, err)
	}

	// Another project reuses the scanner, and a module without the call passes.
	files[1] = file("backend/main.go", "package main\n\nimport \"golang.org/x/text/width\"\n\nfunc main() { _ = width.Narrow }\n")
	plan, err = verify.NewPlan("another-project", files, []string{verify.ProofSecurityScan}, 0)
	if err != nil {
		t.Fatal(err)
	}
	res = runJob(t, plan.Job)
	if scanner := res.Fetches[len(res.Fetches)-1]; !scanner.OK || !strings.Contains(string(scanner.Log), "fetched before; reused") {
		t.Errorf("second scanner fetch: %+v", scanner)
	}
	if proof := plan.Evaluate(res)[0]; !proof.Pass {
		t.Fatalf("proof without the call: %+v\nlog:\n%s", proof, proof.Log)
	}
}
