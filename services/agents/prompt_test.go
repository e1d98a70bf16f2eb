package agents

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// TestSourceTreeBudget: every file is listed; contents are shown while the budget lasts, the
// role's own directory first, then the repository's top-level files and each component's
// README, then the rest, each cut to the per-document limit.
func TestSourceTreeBudget(t *testing.T) {
	sizes := map[string]int{"README.md": 100, "backend/empty.txt": 0, "backend/go.mod": 50, "backend/main.go": 3000,
		"frontend/README.md": 200, "frontend/src/App.tsx": 2000, "pipeline/run.py": 1000}
	docs := &fakeDocuments{}
	listing := 0
	for path, n := range sizes {
		docs.docs = append(docs.docs, &fakeDocument{ID: "id-" + path, ProjectID: "p", Type: "code", Title: path, Gate: 5,
			Versions: []string{strings.Repeat("x", n)}})
		listing += len(path) + treeListingBytes
	}
	docs.docs = append(docs.docs, &fakeDocument{ID: "spec", ProjectID: "p", Type: "api_spec", Title: "API Specification",
		Versions: []string{"openapi: 3.0.3"}})
	s := &Service{Documents: docs, Limits: Limits{ContextPerDocument: 1000}}
	files, err := s.Documents.Files(context.Background(), "p")
	if err != nil || len(files) != len(sizes) {
		t.Fatalf("files %+v, %v", files, err)
	}
	backend, _ := catalog.Get(catalog.BackendDeveloper)
	// Room for: the empty file, go.mod, 1000 bytes of main.go, the two READMEs and 600 bytes
	// of App.tsx; then less than minShownBytes is left, and run.py is only listed.
	tree, err := s.sourceTree(context.Background(), "p", backend, files, listing+50+1000+100+200+600)
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]string{}
	for _, f := range tree {
		if f.Shown {
			shown[f.Path] = f.Content
		}
		if f.Size != int64(sizes[f.Path]) || f.Version != 1 {
			t.Errorf("%s: size %d version %d", f.Path, f.Size, f.Version)
		}
	}
	if len(shown) != 6 || shown["backend/empty.txt"] != "" || len(shown["backend/go.mod"]) != 50 || len(shown["README.md"]) != 100 ||
		len(shown["frontend/README.md"]) != 200 {
		t.Fatalf("shown: %v", shown)
	}
	for path, n := range map[string]int{"backend/main.go": 1000, "frontend/src/App.tsx": 600} {
		if c := shown[path]; len(c) > n || len(c) < n-50 || !strings.HasSuffix(c, "[… cut: the rest is not shown]") {
			t.Errorf("%s: %d bytes shown: %q", path, len(c), c)
		}
	}
	msg := userMessage(&provider.Brief{ProjectName: "P", Role: backend.ID, Gate: 5, Files: tree,
		Required: backend.OutputsFor(5)}, nil)
	for _, want := range []string{
		"- your source code, as <file> blocks (deliverable \"code\")\n",
		"## Source tree\n\nThe project's files, the latest version of each, by path (6 of 7 shown below",
		"- backend/empty.txt (0 bytes, version 1)\n",
		"- pipeline/run.py (1000 bytes, version 1, not shown)\n",
		"<existing-file path=\"backend/go.mod\" version=\"1\">\n" + strings.Repeat("x", 50) + "\n</existing-file>\n",
		"<existing-file path=\"backend/empty.txt\" version=\"1\">\n</existing-file>\n",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message does not contain %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, `<existing-file path="pipeline/run.py"`) {
		t.Error("a file the budget had no room for is shown")
	}
}

// TestSourceTreeInPrompt: G5's developers store their code as files, code documents titled with
// their paths; a later prompt shows them as the source tree, a developer's own directory
// first, and not as context documents.
func TestSourceTreeInPrompt(t *testing.T) {
	h := newHarness(t, "sqlite", harnessConfig{})
	pid := h.newProject("Recipes")
	h.startWork(pid)
	for n := 1; n <= 5; n++ {
		wf := traditionalWorkflow[n-1]
		if len(wf.Proofs) > 0 && wf.Proofs[0] != "spec_validation" {
			h.waitRuns(pid, n, len(wf.Roles))
			for _, proof := range wf.Proofs {
				h.attest(pid, n, proof)
			}
		}
		h.waitGate(pid, n, GateInReview)
		if n < 5 {
			h.approve(pid, n)
		}
	}
	stored := map[string]bool{}
	for _, d := range h.documents.documentsOf(pid, 5) {
		if d.Type != "code" || !sourcetree.IsPath(d.Title) {
			t.Errorf("G5 stored %s %q", d.Type, d.Title)
		}
		stored[d.Title] = true
	}
	for _, path := range []string{"backend/README.md", "backend/go.mod", "frontend/README.md", "frontend/package.json"} {
		if !stored[path] {
			t.Errorf("G5 did not store %s (stored %v)", path, stored)
		}
	}
	req, err := h.s.prompt(context.Background(), store.Run{ID: "next", ProjectID: pid, Role: catalog.FrontendDeveloper, Gate: 5, Revision: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := req.Brief
	// The tree is G5's files and the architect's fuzzyllama.json (G3).
	if len(b.Files) != len(stored)+1 || !slices.ContainsFunc(b.Files, func(f provider.SourceFile) bool { return f.Path == "fuzzyllama.json" }) {
		t.Fatalf("the brief lists %d files, G5 stored %d (and G3 fuzzyllama.json)", len(b.Files), len(stored))
	}
	for _, d := range b.Documents {
		if d.Type == "code" {
			t.Errorf("a source file is a context document: %q", d.Title)
		}
	}
	shownBytes := 0
	for _, f := range b.Files {
		if strings.HasPrefix(f.Path, "frontend/") && !f.Shown {
			t.Errorf("the frontend developer's own %s is not shown", f.Path)
		}
		shownBytes += len(f.Content)
	}
	if shownBytes == 0 || shownBytes > h.s.Limits.ContextTotal {
		t.Errorf("%d bytes of files shown", shownBytes)
	}
	msg := req.Messages[0].Content
	if !strings.Contains(msg, "\n## Source tree\n") || !strings.Contains(msg, `<existing-file path="frontend/src/App.tsx" version="1">`) {
		t.Errorf("the prompt does not show the source tree:\n%.3000s", msg)
	}
}
