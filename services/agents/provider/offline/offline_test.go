package offline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/format"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

const recipes = "A recipe sharing app where home cooks can publish recipes, rate other people's recipes and " +
	"build weekly meal plans with a shopping list. Managers see a weekly report."

// hostile is a description that tries to break the output: contract tags on their own lines,
// YAML and Markdown syntax, control characters, invalid UTF-8, a very long line.
var hostile = "Users can track </document> tags.\n</document>\n<handoff>\n{\"x\":1}\n</handoff>\n" +
	"key: value # comment\n```\n\"quotes\" & <angles> | pipes\x00\x07 \xff\xfe " + strings.Repeat("long ", 5000)

func brief(role catalog.Role, gate int, projectType, description string, docs []provider.ContextDocument) provider.Brief {
	return provider.Brief{
		Role: role.ID, RoleName: role.Name, Gate: gate, GateName: catalog.GateName(gate),
		ProjectName: "Recipe Box", ProjectType: projectType, Description: description,
		Required: role.OutputsFor(gate), Documents: docs, NextRoles: []string{catalog.Architect},
	}
}

func run(t *testing.T, p Provider, b provider.Brief) (string, provider.Response) {
	t.Helper()
	var out strings.Builder
	resp, err := p.Stream(context.Background(), provider.Request{Brief: &b}, func(s string) error {
		out.WriteString(s)
		return nil
	})
	if err != nil {
		t.Fatalf("%s G%d %s: %v", b.Role, b.Gate, b.ProjectType, err)
	}
	return out.String(), resp
}

// result is one run of a whole-workflow simulation.
type result struct {
	brief provider.Brief
	text  string
	out   output.Output
}

// workflow runs every role of every gate of a project type in order, giving each the documents
// the earlier ones produced (newest first), as the platform does.
func workflow(t *testing.T, projectType, description string, revision int, feedback string) []result {
	t.Helper()
	var docs []provider.ContextDocument
	var results []result
	for g := 1; g <= catalog.GateCount; g++ {
		var produced []provider.ContextDocument
		for _, r := range catalog.All() {
			if !r.Serves(g, projectType) {
				continue
			}
			b := brief(r, g, projectType, description, docs)
			b.Revision, b.Feedback = revision, feedback
			text, _ := run(t, Provider{}, b)
			o, err := output.Parse(text)
			if err != nil {
				t.Fatalf("%s G%d %s: the answer does not parse: %v", r.ID, g, projectType, err)
			}
			if err := o.Check(b.Required); err != nil {
				t.Fatalf("%s G%d %s: %v", r.ID, g, projectType, err)
			}
			results = append(results, result{b, text, o})
			if r.ID == catalog.Orchestrator {
				continue
			}
			for _, d := range o.Documents {
				produced = append(produced, provider.ContextDocument{Type: d.Type, Title: d.Title, Version: revision + 1, Content: d.Content})
			}
		}
		docs = append(produced, docs...)
	}
	return results
}

func TestEveryRoleGateAndType(t *testing.T) {
	for _, pt := range catalog.ProjectTypes() {
		results := workflow(t, pt, recipes, 0, "")
		for _, res := range results {
			b := res.brief
			if got := res.out.Handoff.Deliverables; len(got) != len(distinctTypes(b.Required)) {
				t.Errorf("%s G%d: deliverables %v", b.Role, b.Gate, got)
			}
			if strings.Join(res.out.Handoff.NextRoles, ",") != catalog.Architect {
				t.Errorf("%s G%d: nextRoles %v", b.Role, b.Gate, res.out.Handoff.NextRoles)
			}
			for _, d := range res.out.Documents {
				checkDocument(t, pt, b, d)
			}
			checkFiles(t, pt, b, res.out.Files)
			wantTasks := b.Role == catalog.ProductManager && b.Gate == 1
			if got := len(res.out.Handoff.Tasks); wantTasks != (got > 0) {
				t.Errorf("%s G%d: %d tasks", b.Role, b.Gate, got)
			}
			if wantTasks {
				checkTasks(t, pt, res.out.Handoff.Tasks)
			}
		}
	}
}

func distinctTypes(specs []provider.DocSpec) map[string]bool {
	m := map[string]bool{}
	for _, s := range specs {
		m[s.Type] = true
	}
	return m
}

func checkDocument(t *testing.T, projectType string, b provider.Brief, d output.Document) {
	t.Helper()
	where := fmt.Sprintf("%s %s G%d %s", projectType, b.Role, b.Gate, d.Type)
	if d.Type == "api_spec" {
		if !strings.HasPrefix(d.Content, "# "+Marker+"\n") || !strings.Contains(d.Content, "x-generated-by:") {
			t.Errorf("%s: the spec is not marked as offline output", where)
		}
		checkOpenAPI(t, d.Content)
		return
	}
	if !strings.HasPrefix(d.Content, "> "+Marker+"\n\n# "+d.Title+"\n") {
		t.Errorf("%s: does not start with the marker and title:\n%.200s", where, d.Content)
	}
	if strings.Count(d.Content, "```")%2 != 0 {
		t.Errorf("%s: unbalanced code fences", where)
	}
	if strings.Contains(d.Content, "Recipe") == false && !strings.Contains(d.Content, "recipe") {
		t.Errorf("%s: nothing of the project in it", where)
	}
}

// placeholder is a {{KEY}} of a code template that fill left.
var placeholder = regexp.MustCompile(`\{\{[A-Z_]+\}\}`)

// checkFiles: a developer writes its component as files under its source directory, with a
// README.md that says how to build, lint and test it; other roles write no files.
func checkFiles(t *testing.T, projectType string, b provider.Brief, files []output.File) {
	t.Helper()
	where := fmt.Sprintf("%s %s G%d", projectType, b.Role, b.Gate)
	r, _ := catalog.Get(b.Role)
	if b.Role == catalog.Architect && b.Gate == 3 {
		// The architect declares how the tree is previewed: fuzzyllama.json, as verify reads it.
		var m struct {
			Preview struct {
				Dir     string
				Command []string
				Port    int
			}
		}
		dec := json.NewDecoder(strings.NewReader(files[0].Content))
		if len(files) != 1 || files[0].Path != "fuzzyllama.json" || dec.Decode(&m) != nil || m.Preview.Dir != "frontend" ||
			m.Preview.Port != previewPort || len(m.Preview.Command) == 0 {
			t.Errorf("%s: files %+v", where, files)
		}
		return
	}
	if r.SourceDir == "" || b.Gate != 5 {
		if len(files) > 0 {
			t.Errorf("%s: %d files", where, len(files))
		}
		return
	}
	if len(files) < 4 || files[0].Path != r.SourceDir+"/README.md" {
		t.Fatalf("%s: files %d, first %q", where, len(files), files[0].Path)
	}
	readme := files[0].Content
	if !strings.HasPrefix(readme, "> "+Marker+"\n\n# Recipe Box: ") || !strings.Contains(readme, "Build: `cd "+r.SourceDir+" && ") ||
		!strings.Contains(readme, "Test: `") {
		t.Errorf("%s: README.md:\n%s", where, readme)
	}
	for _, f := range files {
		if !strings.HasPrefix(f.Path, r.SourceDir+"/") || !strings.HasSuffix(f.Content, "\n") || placeholder.MatchString(f.Content) {
			t.Errorf("%s: file %s:\n%.300s", where, f.Path, f.Content)
		}
	}
}

func checkTasks(t *testing.T, projectType string, tasks []output.Task) {
	t.Helper()
	if len(tasks) != catalog.GateCount {
		t.Fatalf("%s: %d tasks, want one per gate", projectType, len(tasks))
	}
	for i, task := range tasks {
		gate := i + 1
		if int(task.Gate) != gate {
			t.Errorf("%s: task %s names G%d, want G%d", projectType, task.Key, task.Gate, gate)
		}
		owner, ok := catalog.Get(task.OwnerRole)
		if !ok || !owner.Serves(gate, projectType) {
			t.Errorf("%s: task %s is owned by %s, who does not work at G%d", projectType, task.Key, task.OwnerRole, gate)
		}
		if !strings.Contains(task.Title, catalog.GateName(gate)) {
			t.Errorf("%s: task %q", projectType, task.Title)
		}
	}
	if lead(5, catalog.AIML) != catalog.MLEngineer || lead(5, catalog.Traditional) != catalog.BackendDeveloper ||
		lead(8, catalog.Hybrid) != catalog.AIOpsEngineer || lead(8, catalog.Enhancement) != catalog.DevOpsEngineer {
		t.Error("lead roles")
	}
}

// Later documents are built from earlier ones: the stories from the PRD's requirements, the
// code from the API's paths, so a reviewer's edit to an approved document carries forward.
func TestBuildsOnEarlierDocuments(t *testing.T) {
	pm, _ := catalog.Get(catalog.ProductManager)
	edited := provider.ContextDocument{Type: "requirements", Title: "Product Requirements Document", Version: 2,
		Content: "## 4. Functional requirements\n\n### FR-1: Chefs can schedule cooking classes\n\n### FR-2: Students can book seats\n"}
	text, _ := run(t, Provider{}, brief(pm, 2, catalog.Traditional, recipes, []provider.ContextDocument{edited}))
	o, _ := output.Parse(text)
	stories := o.Documents[1].Content
	for _, want := range []string{"As a chef, I want to schedule cooking classes", "As a student, I want to book seats", "Traces to:** FR-2"} {
		if !strings.Contains(stories, want) {
			t.Errorf("stories do not contain %q:\n%s", want, stories)
		}
	}
	backend, _ := catalog.Get(catalog.BackendDeveloper)
	spec := provider.ContextDocument{Type: "api_spec", Title: "API Specification", Version: 1,
		Content: "openapi: 3.0.3\npaths:\n  /invoices:\n    get: {}\n  /invoices/{id}:\n    get: {}\n  \"/tax-rates\":\n    get: {}\n"}
	text, _ = run(t, Provider{}, brief(backend, 5, catalog.Traditional, recipes, []provider.ContextDocument{spec}))
	if !strings.Contains(text, `var Collections = []string{"invoices", "tax-rates"}`) {
		t.Errorf("the backend does not serve the approved API's resources:\n%s", text)
	}
}

func TestDeterministic(t *testing.T) {
	for _, r := range catalog.All() {
		for _, g := range r.Gates {
			b := brief(r, g, catalog.Hybrid, recipes, nil)
			b.Revision, b.Feedback = 1, "Add offline mode. Make the palette warmer."
			first, _ := run(t, Provider{}, b)
			second, _ := run(t, Provider{ChunkSize: 3}, b)
			if first != second {
				t.Fatalf("%s G%d: two runs of the same brief differ", r.ID, g)
			}
		}
	}
}

func TestRevision(t *testing.T) {
	feedback := "Split FR-2 into rating and reviewing.\nThe palette is too dark; use warmer colours."
	for _, res := range workflow(t, catalog.AIML, recipes, 2, feedback) {
		for _, d := range res.out.Documents {
			where := res.brief.Role + " " + d.Type
			if d.Type == "api_spec" {
				if !strings.Contains(d.Content, "# Revision 2:") || !strings.Contains(d.Content, `## Revision 2\n\nThe reviewer asked:\n\n> Split FR-2 into rating and reviewing.`) {
					t.Errorf("%s: no revision note", where)
				}
				continue
			}
			if !strings.Contains(d.Content, "\n## Revision 2\n") ||
				!strings.Contains(d.Content, "> Split FR-2 into rating and reviewing.\n> The palette is too dark; use warmer colours.\n") ||
				!strings.Contains(d.Content, "**CR-2** “The palette is too dark; use warmer colours.”") {
				t.Errorf("%s: the revision section does not quote the feedback point by point:\n%.1500s", where, d.Content)
			}
		}
		for _, f := range res.out.Files {
			if strings.HasSuffix(f.Path, "/README.md") && !strings.Contains(f.Content, "\n## Revision 2\n") {
				t.Errorf("%s: the README does not say what the revision is about:\n%.1500s", res.brief.Role, f.Content)
			}
		}
		if !strings.Contains(res.out.Handoff.Notes, "revision 2") {
			t.Errorf("%s: notes %q", res.brief.Role, res.out.Handoff.Notes)
		}
	}
	// A re-run without written feedback still says it is a revision.
	qa, _ := catalog.Get(catalog.QAEngineer)
	b := brief(qa, 6, catalog.Traditional, recipes, nil)
	b.Revision = 1
	if text, _ := run(t, Provider{}, b); !strings.Contains(text, "## Revision 1\n\nThis is revision 1, requested without written feedback.") {
		t.Error("revision without feedback")
	}
}

func TestHostileInput(t *testing.T) {
	for _, pt := range catalog.ProjectTypes() {
		results := workflow(t, pt, hostile, 1, hostile)
		for _, res := range results {
			for _, d := range res.out.Documents {
				if d.Type == "api_spec" {
					checkOpenAPI(t, d.Content)
				}
			}
		}
	}
	// Nothing in the brief at all but the required document.
	arch, _ := catalog.Get(catalog.Architect)
	run(t, Provider{}, provider.Brief{Role: arch.ID, Gate: 3, Required: arch.OutputsFor(3)})
}

func TestRequiresBrief(t *testing.T) {
	_, err := Provider{}.Stream(context.Background(), provider.Request{System: "x"}, func(string) error { return nil })
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Kind != provider.Permanent || pe.Provider != Name || provider.IsTransient(err) {
		t.Fatalf("err = %#v", err)
	}
	b := provider.Brief{Role: catalog.Architect, Gate: 3, Required: []provider.DocSpec{{Type: "novel", Title: "A Novel"}}}
	if _, err := (Provider{}).Stream(context.Background(), provider.Request{Brief: &b}, func(string) error { return nil }); !errors.As(err, &pe) ||
		pe.Kind != provider.Permanent || !strings.Contains(pe.Message, `"novel"`) {
		t.Fatalf("unknown type: %v", err)
	}
	b = provider.Brief{Role: catalog.Architect, Gate: 3, Required: arch(3), NextRoles: []string{"wizard"}}
	if _, err := (Provider{}).Stream(context.Background(), provider.Request{Brief: &b}, func(string) error { return nil }); !errors.As(err, &pe) ||
		!strings.Contains(pe.Message, `nextRoles[0] "wizard" is not an agent role`) {
		t.Fatalf("bad next role: %v", err)
	}
	if (Provider{}).Name() != "offline" {
		t.Fatal("name")
	}
}

func arch(gate int) []provider.DocSpec {
	r, _ := catalog.Get(catalog.Architect)
	return r.OutputsFor(gate)
}

func TestDefaultTitles(t *testing.T) {
	b := provider.Brief{Role: catalog.Architect, Gate: 3, Required: []provider.DocSpec{{Type: "api_spec"}, {Type: "database_schema", Title: "  "}}}
	text, _ := run(t, Provider{}, b)
	o, _ := output.Parse(text)
	if o.Documents[0].Title != "API Specification" || o.Documents[1].Title != "Database Schema" {
		t.Fatalf("titles %q %q", o.Documents[0].Title, o.Documents[1].Title)
	}
}

func TestChunking(t *testing.T) {
	r, _ := catalog.Get(catalog.ProductManager)
	b := brief(r, 1, catalog.Traditional, "Bakers can sell crème brûlée 🍰 and café ☕ pastries. Users can order cakes.", nil)
	whole, _ := run(t, Provider{}, b)
	for _, size := range []int{1, 2, 3, 7, 512, 1 << 20} {
		var chunks []string
		_, err := Provider{ChunkSize: size}.Stream(context.Background(), provider.Request{Brief: &b}, func(s string) error {
			chunks = append(chunks, s)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(chunks, "") != whole {
			t.Fatalf("size %d: the chunks do not add up to the answer", size)
		}
		for i, c := range chunks {
			if !utf8.ValidString(c) || c == "" {
				t.Fatalf("size %d: chunk %d %q splits a character", size, i, c)
			}
			if len(c) > size && utf8.RuneCountInString(c) != 1 {
				t.Fatalf("size %d: chunk %d has %d bytes", size, i, len(c))
			}
		}
		if size == 1<<20 && len(chunks) != 1 {
			t.Fatalf("one chunk expected, got %d", len(chunks))
		}
	}
	var n int
	Provider{}.Stream(context.Background(), provider.Request{Brief: &b}, func(s string) error { n++; return nil })
	if want := (len(whole) + DefaultChunkSize - 1) / DefaultChunkSize; n < want || n > want+len(whole)/DefaultChunkSize {
		t.Fatalf("default chunk size: %d chunks for %d bytes", n, len(whole))
	}
}

func TestCancellation(t *testing.T) {
	r, _ := catalog.Get(catalog.Architect)
	b := brief(r, 3, catalog.Traditional, recipes, nil)
	req := provider.Request{Brief: &b}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	if _, err := (Provider{}).Stream(ctx, req, func(string) error { calls++; return nil }); !errors.Is(err, context.Canceled) || calls != 0 {
		t.Fatalf("cancelled before: err %v, %d calls", err, calls)
	}

	ctx, cancel = context.WithCancel(context.Background())
	calls = 0
	_, err := Provider{ChunkSize: 64}.Stream(ctx, req, func(string) error {
		calls++
		if calls == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 3 {
		t.Fatalf("cancelled during: err %v after %d calls", err, calls)
	}

	// With a delay between chunks, cancellation interrupts the wait.
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Provider{ChunkSize: 64, ChunkDelay: time.Hour}.Stream(ctx, req, func(string) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Fatalf("delay: err %v after %v", err, time.Since(start))
	}

	stop := errors.New("client went away")
	if _, err := (Provider{}).Stream(context.Background(), req, func(string) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("onText error: %v", err)
	}
}

func TestChunkDelay(t *testing.T) {
	r, _ := catalog.Get(catalog.UXDesigner)
	b := brief(r, 4, catalog.Traditional, recipes, nil)
	var at []time.Time
	_, err := Provider{ChunkSize: 4096, ChunkDelay: 5 * time.Millisecond}.Stream(context.Background(), provider.Request{Brief: &b},
		func(string) error { at = append(at, time.Now()); return nil })
	if err != nil || len(at) < 2 {
		t.Fatalf("err %v, %d chunks", err, len(at))
	}
	for i := 1; i < len(at); i++ {
		if at[i].Sub(at[i-1]) < 5*time.Millisecond {
			t.Fatalf("chunk %d came %v after the previous one", i, at[i].Sub(at[i-1]))
		}
	}
}

// TestUsage: no model ran, so the response reports no usage (not an estimate) and says it is
// offline.
func TestUsage(t *testing.T) {
	r, _ := catalog.Get(catalog.SecurityEngineer)
	b := brief(r, 7, catalog.Enhancement, recipes, nil)
	req := provider.Request{System: "12345", Messages: []provider.Message{{Role: "user", Content: "1234"}}, Brief: &b}
	var out strings.Builder
	resp, err := Provider{}.Stream(context.Background(), req, func(s string) error { out.WriteString(s); return nil })
	if err != nil || out.Len() == 0 {
		t.Fatalf("%v, %d bytes", err, out.Len())
	}
	if want := (provider.Response{Model: "offline", StopReason: "end_turn", Offline: true}); resp != want {
		t.Fatalf("response %+v, want %+v", resp, want)
	}
}

// TestSkeletonsBuildable guards what G5's verification runs on the skeletons (checked by hand
// with go, npm and the Python tools): Go files are gofmt-clean, the frontend's coverage
// provider matches its pinned Vitest, and its coverage script writes the summary verification
// reads.
func TestSkeletonsBuildable(t *testing.T) {
	seen := map[string]bool{}
	for _, res := range workflow(t, catalog.Hybrid, recipes, 0, "") {
		for _, f := range res.out.Files {
			seen[f.Path] = true
			switch {
			case strings.HasSuffix(f.Path, ".go"):
				if formatted, err := format.Source([]byte(f.Content)); err != nil || string(formatted) != f.Content {
					t.Errorf("%s is not gofmt-clean: %v", f.Path, err)
				}
			case f.Path == "frontend/package.json":
				var pkg struct {
					Scripts         map[string]string
					DevDependencies map[string]string
				}
				if err := json.Unmarshal([]byte(f.Content), &pkg); err != nil {
					t.Fatal(err)
				}
				if v := pkg.DevDependencies["vitest"]; v == "" || pkg.DevDependencies["@vitest/coverage-v8"] != v {
					t.Errorf("vitest %q with coverage-v8 %q", v, pkg.DevDependencies["@vitest/coverage-v8"])
				}
				if !strings.Contains(pkg.Scripts["coverage"], "--coverage.reporter=json-summary") {
					t.Errorf("coverage script %q", pkg.Scripts["coverage"])
				}
			case strings.HasSuffix(f.Path, "/pyproject.toml"):
				if strings.Contains(f.Content, `\u00`) || !strings.Contains(f.Content, `"pytest>=8"`) {
					t.Errorf("%s:\n%s", f.Path, f.Content)
				}
			}
		}
	}
	for _, path := range []string{"backend/cmd/server/main_test.go", "frontend/src/App.test.tsx", "frontend/src/api.test.ts",
		"pipeline/README.md", "model/README.md", "prompts/README.md"} {
		if !seen[path] {
			t.Errorf("no %s", path)
		}
	}
}
