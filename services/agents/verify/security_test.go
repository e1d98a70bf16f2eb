package verify

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

func TestPlanScansGoComponents(t *testing.T) {
	p, err := NewPlan("p", skeleton, []string{"security_scan"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Job.Steps) != 1 || Display(p.Job.Steps[0].Dir, p.Job.Steps[0].Command) !=
		"cd backend && govulncheck -db file:///opt/fuzzyllama/vulndb -format openvex ./..." {
		t.Fatalf("steps = %+v", p.Job.Steps)
	}
	var kinds []sandbox.FetchKind
	for _, f := range p.Job.Fetch {
		kinds = append(kinds, f.Kind)
	}
	if len(kinds) != 2 || kinds[0] != sandbox.FetchGo || kinds[1] != sandbox.FetchGoVulnCheck {
		t.Fatalf("fetches = %v, want the Go component's and the scanner (nothing runs in the frontend)", kinds)
	}
	// No Go, nothing the scanner reads: the owner records the scan.
	_, err = NewPlan("p", skeleton[2:3], []string{"security_scan"}, 0)
	var nothing *NothingToVerifyError
	if !errors.As(err, &nothing) || !strings.Contains(err.Error(), "Record the security scan yourself") {
		t.Fatalf("a tree without Go: err = %v", err)
	}
}

// scanned is the security scan's result with the backend's report.
func scanned(t *testing.T, report string, exitCode int) Proof {
	t.Helper()
	p, err := NewPlan("p", skeleton, []string{"security_scan"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	proofs := p.Evaluate(sandbox.Result{Steps: []sandbox.StepResult{{Name: p.Job.Steps[0].Name,
		Command: Display("backend", securityScanCommand), ExitCode: exitCode, Log: []byte(report)}}})
	if len(proofs) != 1 || proofs[0].Type != ProofSecurityScan {
		t.Fatalf("proofs = %+v", proofs)
	}
	return proofs[0]
}

// govulncheck v1.9.0's real report on the offline backend skeleton with go1.26.8: eight
// called vulnerabilities, all in the standard library.
func TestStandardLibraryFindingsAreShownNotFailed(t *testing.T) {
	report, err := os.ReadFile("testdata/govulncheck-stdlib-only.vex.json")
	if err != nil {
		t.Fatal(err)
	}
	pr := scanned(t, "go: warning: some noise before the report\n"+string(report), 0)
	if !pr.Pass || pr.ExitCode != 0 {
		t.Fatalf("proof = %+v", pr)
	}
	for _, want := range []string{"security_scan passed in backend", "toolchain has 8 called vulnerabilities", "GO-2026-6809",
		"not scanned: frontend", sandbox.GoVulnDBVersion} {
		if !strings.Contains(pr.Summary, want) {
			t.Errorf("summary %q lacks %q", pr.Summary, want)
		}
	}
	if log := string(pr.Log); !strings.Contains(log, "backend: called, in the sandbox's Go toolchain: GO-2026-6809 in stdlib@v1.26.8") ||
		!strings.Contains(log, "6 known vulnerabilities of the build's modules are not called") || !strings.Contains(log, "$ cd backend && govulncheck") {
		t.Errorf("log:\n%s", log)
	}
}

func TestCalledModuleVulnerabilityFails(t *testing.T) {
	const report = `{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "statements": [
    {"vulnerability": {"name": "GO-2021-0113", "description": "Out-of-bounds read in golang.org/x/text/language"},
     "products": [{"@id": "Unknown Product", "subcomponents": [{"@id": "pkg:golang/golang.org%2Fx%2Ftext@v0.3.5"}]}],
     "status": "affected"},
    {"vulnerability": {"name": "GO-2022-1059", "description": "Denial of service via crafted Accept-Language header"},
     "products": [{"@id": "Unknown Product", "subcomponents": [{"@id": "pkg:golang/golang.org/x/text@v0.3.5"}]}],
     "status": "not_affected"}
  ]
}`
	pr := scanned(t, report, 0)
	if pr.Pass || pr.ExitCode != 3 || len(pr.FailedDirs) != 1 || pr.FailedDirs[0] != "backend" {
		t.Fatalf("proof = %+v", pr)
	}
	if !strings.Contains(pr.Summary, "backend (calls vulnerable code: GO-2021-0113 in golang.org/x/text@v0.3.5)") {
		t.Errorf("summary %q", pr.Summary)
	}
	if !strings.Contains(pr.Failure, "Upgrade the module in go.mod") || strings.Contains(pr.Failure, "@context") {
		t.Errorf("a repair is shown %q, want the finding and what to do, not the report", pr.Failure)
	}
}

func TestScanThatCannotRunOrBeReadFails(t *testing.T) {
	pr := scanned(t, "backend/main.go:3:1: syntax error: non-declaration statement outside function body\n", 1)
	if pr.Pass || pr.ExitCode != 1 || !strings.Contains(pr.Failure, "main.go:3:1") {
		t.Fatalf("a tree that does not compile: %+v", pr)
	}
	pr = scanned(t, "{\n  \"statements\": [{\"vulnerability\"", 0)
	if pr.Pass || !strings.Contains(pr.Summary, "report cannot be read") {
		t.Fatalf("a report cut short: %+v", pr)
	}
}

// A called vulnerability the report places in no module fails, rather than being taken for the
// toolchain's.
func TestUnplacedFindingFails(t *testing.T) {
	pr := scanned(t, `{
  "statements": [{"vulnerability": {"name": "GO-2099-0001", "description": "somewhere"}, "products": [{"@id": "x"}], "status": "affected"}]
}`, 0)
	if pr.Pass || !strings.Contains(pr.Summary, "GO-2099-0001") {
		t.Fatalf("proof = %+v", pr)
	}
}

// The scanner the runner could not provide is the runner's problem, not the tree's.
func TestRunnerProblem(t *testing.T) {
	res := sandbox.Result{Fetches: []sandbox.FetchResult{{Kind: sandbox.FetchGo, Dir: "backend", OK: true},
		{Kind: sandbox.FetchGoVulnCheck, Log: []byte("$ go install golang.org/x/vuln/cmd/govulncheck@v1.9.0\ndial tcp: lookup proxy.golang.org: no such host\nexit code 1\n")}}}
	if got := RunnerProblem(res); !strings.Contains(got, "vulnerability scanner") || !strings.Contains(got, "no such host") {
		t.Fatalf("RunnerProblem = %q", got)
	}
	res.Fetches[1].OK = true
	if got := RunnerProblem(res); got != "" {
		t.Fatalf("RunnerProblem with the scanner fetched = %q", got)
	}
}
