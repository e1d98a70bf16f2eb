package verify

import (
	"strings"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

func tree(files ...string) []sandbox.File {
	var out []sandbox.File
	for i := 0; i < len(files); i += 2 {
		out = append(out, sandbox.File{Path: files[i], Content: []byte(files[i+1])})
	}
	return out
}

var skeleton = tree(
	"backend/go.mod", "module example.com/x\n\ngo 1.22\n",
	"backend/main.go", "package main\nfunc main() {}\n",
	"frontend/package.json", `{"scripts":{"build":"vite build","lint":"tsc --noEmit","test":"vitest run","coverage":"vitest run --coverage"}}`,
	"pipeline/pyproject.toml", "[project]\nname='p'\n",
)

func TestPlanDetectsComponentsAndSteps(t *testing.T) {
	p, err := NewPlan("p1", skeleton, []string{"build", "lint", "deployment"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Proofs, ","); got != "build,lint" {
		t.Fatalf("proofs = %s, want build,lint (deployment is not produced)", got)
	}
	var steps []string
	for _, s := range p.Job.Steps {
		steps = append(steps, Display(s.Dir, s.Command))
	}
	want := "cd backend && go build ./...|cd backend && go vet ./...|cd frontend && npm run build|cd frontend && npm run lint"
	if got := strings.Join(steps, "|"); got != want {
		t.Fatalf("steps:\n%s\nwant\n%s", got, want)
	}
	if len(p.Job.Fetch) != 2 || p.Job.Fetch[0].Kind != sandbox.FetchGo || p.Job.Fetch[1].Kind != sandbox.FetchNPM {
		t.Fatalf("fetch = %+v", p.Job.Fetch)
	}
	if len(p.Skipped) != 1 || !strings.Contains(p.Skipped[0], "pipeline") {
		t.Fatalf("skipped = %v, want the Python pipeline named", p.Skipped)
	}
}

func TestPlanRefusesWhatCannotRun(t *testing.T) {
	if _, err := NewPlan("p", tree("README.md", "hi"), []string{"build"}, 0); err == nil || !strings.Contains(err.Error(), "nothing to build") {
		t.Fatalf("a tree without components: err = %v", err)
	}
	if _, err := NewPlan("p", skeleton, []string{"deployment"}, 0); err == nil {
		t.Fatal("a gate without producible proofs was planned")
	}
	bad := append(tree(ManifestPath, `{"components":[{"dir":"../x","toolchain":"go"}]}`), skeleton...)
	if _, err := NewPlan("p", bad, []string{"build"}, 0); err == nil || !strings.Contains(err.Error(), "components[0].dir") {
		t.Fatalf("a manifest dir outside the tree: err = %v", err)
	}
}

func TestEvaluateBuildFailureCarriesTheCompilerError(t *testing.T) {
	p, err := NewPlan("p", skeleton[:2], []string{"build", "lint"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	res := sandbox.Result{Steps: []sandbox.StepResult{
		{Name: p.Job.Steps[0].Name, Command: "cd backend && go build ./...", ExitCode: 1, Duration: time.Second,
			Log: []byte("# example.com/x\n./main.go:2:15: undefined: nope\n")},
		{Name: p.Job.Steps[1].Name, Command: "cd backend && go vet ./...", ExitCode: 0},
	}}
	proofs := p.Evaluate(res)
	if len(proofs) != 2 {
		t.Fatalf("proofs = %+v", proofs)
	}
	b := proofs[0]
	if b.Pass || b.ExitCode != 1 || !strings.Contains(b.Summary, "undefined: nope") || !strings.Contains(b.Failure, "main.go:2:15") {
		t.Fatalf("build proof = %+v", b)
	}
	if !strings.Contains(string(b.Log), "$ cd backend && go build ./...") {
		t.Fatalf("log has no command: %q", b.Log)
	}
	if !proofs[1].Pass {
		t.Fatalf("lint proof = %+v", proofs[1])
	}
}

func TestEvaluateStoppedStepNamesTheLimit(t *testing.T) {
	p, _ := NewPlan("p", skeleton[:2], []string{"unit_tests"}, 0)
	res := sandbox.Result{Steps: []sandbox.StepResult{{Name: p.Job.Steps[0].Name, ExitCode: -1, Stopped: "memory limit of 256 MiB reached"}}}
	got := p.Evaluate(res)[0]
	if got.Pass || got.ExitCode != -1 || !strings.Contains(got.Summary, "memory limit of 256 MiB") {
		t.Fatalf("proof = %+v", got)
	}
}

func TestEvaluateCoverageAgainstThreshold(t *testing.T) {
	p, _ := NewPlan("p", skeleton[:3], []string{"unit_tests", "coverage"}, 80)
	goStep, nodeStep := p.Job.Steps[0], p.Job.Steps[1]
	profile := "mode: set\nx/a.go:1.1,2.2 6 1\nx/a.go:3.1,4.2 2 0\nx/a.go:1.1,2.2 6 0\n"
	summary := `{"total":{"statements":{"total":10,"covered":9,"pct":90}}}`
	res := sandbox.Result{Steps: []sandbox.StepResult{
		{Name: goStep.Name, Results: map[string][]byte{goStep.Results[0]: []byte(profile)}},
		{Name: nodeStep.Name, Results: map[string][]byte{nodeStep.Results[0]: []byte(summary)}},
	}}
	proofs := p.Evaluate(res)
	tests, cov := proofs[0], proofs[1]
	if !tests.Pass {
		t.Fatalf("tests = %+v", tests)
	}
	// 6 of 8 (Go) + 9 of 10 (Node) = 15 of 18 = 83.3 %.
	if !cov.Pass || !strings.Contains(cov.Summary, "83.3 %") {
		t.Fatalf("coverage = %+v", cov)
	}
	p.CoverageThreshold = 90
	if cov := p.Evaluate(res)[1]; cov.Pass || !strings.Contains(cov.Summary, "below the threshold of 90 %") {
		t.Fatalf("coverage under threshold = %+v", cov)
	}
	// A missing report fails, saying so.
	res.Steps[1].Results = nil
	if cov := p.Evaluate(res)[1]; cov.Pass || !strings.Contains(cov.Summary, "left no frontend/coverage/coverage-summary.json") {
		t.Fatalf("coverage without a report = %+v", cov)
	}
}

func TestEvaluateFetchFailure(t *testing.T) {
	p, _ := NewPlan("p", skeleton[:2], []string{"build"}, 0)
	res := sandbox.Result{Fetches: []sandbox.FetchResult{{Kind: sandbox.FetchGo, Dir: "backend", Command: "go mod download",
		Log: []byte("go: example.com/missing@v1.0.0: 404 Not Found")}}}
	got := p.Evaluate(res)[0]
	if got.Pass || !strings.Contains(got.Summary, "dependencies of backend could not be downloaded") || !strings.Contains(got.Failure, "404") {
		t.Fatalf("proof = %+v", got)
	}
}

func TestGoCoverageRejectsGarbage(t *testing.T) {
	for _, bad := range []string{"", "hello", "mode: set\nx y\n", "mode: set\na.go:1.1,2.2 x 1\n"} {
		if _, _, err := GoCoverage([]byte(bad)); err == nil {
			t.Errorf("GoCoverage(%q) accepted", bad)
		}
	}
	if _, _, err := NodeCoverage([]byte(`{"total":{}}`)); err == nil {
		t.Error("NodeCoverage accepted a summary without statements")
	}
}

func TestBoundKeepsBothEnds(t *testing.T) {
	log := []byte("START" + strings.Repeat("x", 2*MaxLogBytes) + "END")
	got := bound(log)
	if len(got) > MaxLogBytes || !strings.HasPrefix(string(got), "START") || !strings.HasSuffix(string(got), "END") ||
		!strings.Contains(string(got), "bytes of the log left out") {
		t.Fatalf("bound: %d bytes, start %q end %q", len(got), got[:10], got[len(got)-10:])
	}
}

// Tools colour their output even without a terminal (Vitest does when CI is set): a summary and
// a log keep no escape or other control character, which the projects service would refuse.
func TestColouredOutputIsPlainText(t *testing.T) {
	p, _ := NewPlan("p", skeleton[2:3], []string{"unit_tests"}, 0)
	res := sandbox.Result{Steps: []sandbox.StepResult{{Name: p.Job.Steps[0].Name, Command: "cd frontend && npm test", ExitCode: 1,
		Log: []byte("\x1b[31m FAIL \x1b[39m src/App.test.tsx\n\x1b[31mAssertionError: expected 1 to be 2\x1b[39m\x07\n")}}}
	got := p.Evaluate(res)[0]
	for _, text := range []string{got.Summary, string(got.Log), got.Failure} {
		if strings.ContainsFunc(text, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' }) {
			t.Fatalf("control characters left in %q", text)
		}
	}
	if !strings.Contains(got.Summary, "AssertionError: expected 1 to be 2") && !strings.Contains(got.Summary, "FAIL src/App.test.tsx") {
		t.Fatalf("summary %q", got.Summary)
	}
}
