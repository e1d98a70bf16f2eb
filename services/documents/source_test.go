package documents_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/services/documents"
	"github.com/fuzzyllama/fuzzyllama/services/documents/archive"
	"github.com/fuzzyllama/fuzzyllama/services/documents/forgetest"
)

// sourceTree is a small project as agents write it: source files titled by their paths (with a
// tab, CRLF line ends, no final newline, HTML-looking text: all must survive byte for byte, a
// README.md and a manifest.json of its own at the root) and documents.
var sourceTree = map[string]string{
	"backend/go.mod":       "module example.com/todo\n\ngo 1.22\n",
	"backend/main.go":      "package main\n\nfunc main() {}\n",
	"backend/Makefile":     "build:\n\tgo build ./...\n",
	"frontend/src/App.tsx": "export default function App() {\r\n  return <h1>Todo &amp; done</h1>\r\n}",
	"README.md":            "# Todo\n\nRun `make -C backend build`.\n",
	"manifest.json":        `{"name": "todo", "display": "standalone"}`,
	"scripts/dev.sh":       "#!/bin/sh\nexec make -C backend build\n",
}

// sourceDocs are the project's documents, with the paths they are exported at.
var sourceDocs = []struct{ typ, title, content, path string }{
	{"architecture", "System Overview", "# System\n", "docs/architecture/system-overview.md"},
	{"code", "Backend Implementation", "# How the backend works\n", "docs/code/backend-implementation.md"},
}

// createSourceProject stores sourceTree and sourceDocs in project p1, in one batch as an agent would.
func createSourceProject(t *testing.T, fx fixture) (want map[string]string) {
	t.Helper()
	want = map[string]string{}
	var batch []documents.NewDocument
	for p, content := range sourceTree {
		batch = append(batch, documents.NewDocument{Gate: 5, Type: "code", Title: p, Content: []byte(content)})
		want[p] = content
	}
	for _, d := range sourceDocs {
		batch = append(batch, documents.NewDocument{Type: d.typ, Title: d.title, Content: []byte(d.content)})
		want[d.path] = d.content
	}
	if _, err := fx.svc.CreateDocuments(as("ann"), delegated("ann"), "p1", batch, documents.Agent{RunID: "run-5", Role: "backend_developer"}, false, ""); err != nil {
		t.Fatal(err)
	}
	return want
}

// sameFiles checks that got holds exactly want.
func sameFiles(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for p, content := range want {
		if c, ok := got[p]; !ok || c != content {
			t.Errorf("%s: %s = %q (present %v), want %q", what, p, c, ok, content)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: unexpected file %s", what, p)
		}
	}
}

// TestExportsPutSourceFilesAtTheirPaths: archives and git exports hold the source tree at the
// repository's root, byte for byte, and the documents under docs/. The tree's own manifest.json
// and README.md win their paths: the archive's manifest moves to docs/manifest.json.
func TestExportsPutSourceFilesAtTheirPaths(t *testing.T) {
	eachStore(t, func(t *testing.T, fx fixture) {
		want := createSourceProject(t, fx)
		for _, format := range []string{archive.Zip, archive.TarGz} {
			_, write, err := fx.svc.ExportArchive(as("vic"), "p1", format)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := write(&buf); err != nil {
				t.Fatal(err)
			}
			files := unpack(t, format, buf.Bytes())
			var m struct {
				Documents []struct{ Path, Title, Type string }
			}
			if err := json.Unmarshal([]byte(files["docs/manifest.json"]), &m); err != nil {
				t.Fatalf("%s: the manifest is not at docs/manifest.json: %v", format, err)
			}
			delete(files, "docs/manifest.json")
			sameFiles(t, format, files, want)
			for _, d := range m.Documents {
				if _, isSource := sourceTree[d.Title]; isSource && d.Path != d.Title {
					t.Errorf("%s: the manifest lists %s at %s", format, d.Title, d.Path)
				}
			}
			if len(m.Documents) != len(want) {
				t.Errorf("%s: the manifest lists %d documents, want %d", format, len(m.Documents), len(want))
			}
		}

		forge := withForge(t, fx)
		remote := forge.NewRepository(t, "todo")
		if _, err := fx.svc.ExportToGit(as("vic"), "p1", documents.GitExport{RemoteURL: remote, Token: forgeToken}); err != nil {
			t.Fatal(err)
		}
		files, dir := forge.Clone(t, "todo")
		sameFiles(t, "git", files, want)
		// Every file is a plain file (100644), as in the archives.
		for _, line := range strings.Split(forgetest.RunGit(t, dir, "ls-tree", "-r", "HEAD"), "\n") {
			if !strings.HasPrefix(line, "100644 blob ") {
				t.Errorf("git tree entry %q", line)
			}
		}
	})
}

// TestCodeTitlesThatLookLikePathsArePaths: a code document titled without spaces, with a / or
// an extension, is a source file, so its title must be a path the source tree may hold; other
// titles stay free-form, and other types are not source files at all.
func TestCodeTitlesThatLookLikePathsArePaths(t *testing.T) {
	fx := newFixture(t, stores["sqlite"])
	for _, title := range []string{"../../etc/passwd", "/abs/x.go", "a//b.go", `src\main.go`, "src/", "café/menu.go", "src/-rf.go", ".git/config"} {
		_, err := fx.svc.CreateDocument(as("ann"), identity("ann"), "p1", &documents.NewDocument{Type: "code", Title: title}, documents.Agent{})
		e := wantKind(t, title, err, apperr.KindInvalid)
		if len(e.Fields) != 1 || e.Fields[0].Field != "document.title" || !strings.Contains(e.Fields[0].Description, strconv.Quote(title)) ||
			!strings.Contains(e.Fields[0].Description, "source file path") {
			t.Errorf("%q: %+v", title, e.Fields)
		}
	}
	// A batch applies the same rule, to each document, storing none.
	batch := []documents.NewDocument{
		{Type: "code", Title: "backend/main.go", Content: []byte("package main\n")},
		{Type: "code", Title: "backend/../../main.go"},
	}
	_, err := fx.svc.CreateDocuments(as("ann"), identity("ann"), "p1", batch, documents.Agent{}, true, "")
	if f := fields(err); !f["documents[1].title"] || f["documents[0].title"] {
		t.Errorf("batch with a path out of the tree: %v", err)
	}
	if docs, _, err := fx.svc.ListDocuments(as("ann"), "p1", "", 0, time.Time{}, 0, ""); err != nil || len(docs) != 0 {
		t.Errorf("a refused batch stored %d documents (%v)", len(docs), err)
	}
	// Paths, titles with spaces, and other types' titles are accepted.
	for _, d := range []documents.NewDocument{
		{Type: "code", Title: "backend/main.go"},
		{Type: "code", Title: "Makefile"},
		{Type: "code", Title: "frontend/src/App.tsx"},
		{Type: "code", Title: "Backend Implementation"},
		{Type: "code", Title: "Notes on ../shared/x.go"},
		{Type: "architecture", Title: "../../etc/passwd"},
	} {
		fx.create(t, "ann", d)
	}
}
