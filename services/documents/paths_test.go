package documents

import (
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

func doc(id, typ, title string, seq int64) store.Document {
	return store.Document{ID: id, Type: typ, Title: title, Seq: seq}
}

// wantPaths checks the paths exportPaths gives docs, and that no two files could clash.
func wantPaths(t *testing.T, docs []store.Document, want map[string]string, wantManifest string) map[string]string {
	t.Helper()
	got, manifest := exportPaths(docs)
	for id, p := range want {
		if got[id] != p {
			t.Errorf("%s: path %q, want %q", id, got[id], p)
		}
	}
	if manifest != wantManifest {
		t.Errorf("manifest at %q, want %q", manifest, wantManifest)
	}
	var all takenPaths
	for _, p := range append(mapValues(got), manifest) {
		if !all.free(p) {
			t.Errorf("%q clashes with another file of the export", p)
		}
		all.take(p)
	}
	return got
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestExportPaths(t *testing.T) {
	docs := []store.Document{
		// Listed out of creation order: the earlier document keeps the plain path.
		doc("0190-later-aaaa1111", "architecture", "system overview", 2),
		doc("0190-first-bbbb2222", "architecture", "System Overview", 1),
		doc("0190-third-cccc3333", "architecture", "System: Overview!", 3),
		// Source files are at their paths; code documents with other titles are documents.
		doc("c1", "code", "backend/cmd/main.go", 4),
		doc("c2", "code", "../../etc/passwd.txt", 5), // refused on write today; older ones are documents
		doc("c3", "code", "Implementation notes", 6),
		doc("c4", "code", "README.md", 7),
		doc("c10", "code", "backend/Makefile", 17),
		doc("o1", "user_story", "  ", 8),
		doc("o2", "deployment_guide", "Déploiement en production", 9),
		doc("o3", "architecture", "backend/cmd/main.go", 18), // only code documents are source files
		// A file and a directory of the same name cannot both exist (in an archive, on disk, in git).
		doc("c5", "code", "a.go", 11),
		doc("c6", "code", "a.go/b.go", 12),
		doc("c7", "code", "readme.md/z.go", 13),
		doc("c8", "code", "pkg.go/util.go", 14),
		doc("c9", "code", "PKG.GO", 15),
		doc("l1", "design", strings.Repeat("設計", 100), 16),
	}
	got := wantPaths(t, docs, map[string]string{
		"0190-first-bbbb2222": "docs/architecture/system-overview.md",
		"0190-later-aaaa1111": "docs/architecture/system-overview-aaaa1111.md",
		"0190-third-cccc3333": "docs/architecture/system-overview-cccc3333.md",
		"c1":                  "backend/cmd/main.go",
		"c2":                  "docs/code/etc-passwd.txt.md",
		"c3":                  "docs/code/implementation-notes.md",
		"c4":                  "README.md",
		"c10":                 "backend/Makefile",
		"o1":                  "docs/user-story/untitled.md",
		"o2":                  "docs/deployment-guide/déploiement-en-production.md",
		"o3":                  "docs/architecture/backend-cmd-main.go.md",
		"c5":                  "a.go",
		"c6":                  "docs/code/a.go-b-c6.go",
		"c7":                  "docs/code/readme.md-z-c7.go", // README.md is a file, even in another case
		"c8":                  "pkg.go/util.go",
		"c9":                  "docs/code/PKG-c9.GO",
		"l1":                  "docs/design/" + strings.Repeat("設計", 26) + "設.md", // 160 bytes of name
	}, "manifest.json")
	// Stable as the project grows: adding documents changes no earlier path.
	more := append(docs, doc("z", "architecture", "SYSTEM OVERVIEW", 19), doc("y", "code", "backend/cmd/util.go", 20))
	moved, _ := exportPaths(more)
	for id, p := range moved {
		if _, old := got[id]; old && p != got[id] {
			t.Errorf("%s moved from %q to %q when documents were added", id, got[id], p)
		}
	}
}

// TestSourceFilesWinTheirPaths: a source file is at its exact path even when a document or the
// archive's manifest would be there, or was there first; the loser is flattened beside its kind.
func TestSourceFilesWinTheirPaths(t *testing.T) {
	docs := []store.Document{
		doc("0190-arch-bbbb2222", "architecture", "System Overview", 1),
		doc("0190-code-dddd4444", "code", "Backend Implementation", 2),
		doc("s1", "code", "docs/architecture/system-overview.md", 3),
		doc("s2", "code", "docs/CODE/Backend-Implementation.md", 4), // the same file but for case
		doc("s3", "code", "manifest.json", 5),
		doc("s4", "code", "docs/manifest.json", 6),
	}
	wantPaths(t, docs, map[string]string{
		"s1":                 "docs/architecture/system-overview.md",
		"s2":                 "docs/CODE/Backend-Implementation.md",
		"s3":                 "manifest.json",
		"s4":                 "docs/manifest.json",
		"0190-arch-bbbb2222": "docs/architecture/system-overview-bbbb2222.md",
		"0190-code-dddd4444": "docs/code/backend-implementation-dddd4444.md",
	}, "docs/manifest-2.json")

	// A source file where a directory of documents would be: the documents go up to the nearest
	// directory no file blocks, their names keeping the rest of their path.
	blocked := []store.Document{
		doc("0190-arch-bbbb2222", "architecture", "System Overview", 1),
		doc("s1", "code", "docs", 2),
		doc("s2", "code", "docs/x.go", 3), // a source file that loses to one before it
		doc("s3", "code", "Manifest.JSON/app.js", 4),
	}
	wantPaths(t, blocked, map[string]string{
		"s1":                 "docs",
		"s2":                 "docs-x-s2.go",
		"s3":                 "Manifest.JSON/app.js",
		"0190-arch-bbbb2222": "docs-architecture-system-overview-bbbb2222.md",
	}, "manifest-2.json")
}

func TestLooksLikePath(t *testing.T) {
	for title, want := range map[string]bool{
		"backend/main.go": true, "Makefile.am": true, "../../etc/passwd": true, "a\\b": true, "/abs": true,
		"Makefile": false, "Backend Implementation": false, "v1.2 plan": false, "Notes.": false, "...": false,
	} {
		if got := looksLikePath(title); got != want {
			t.Errorf("looksLikePath(%q) = %v, want %v", title, got, want)
		}
	}
}

func TestCodeLanguage(t *testing.T) {
	for _, tc := range []struct {
		typ, title, lang string
		ok               bool
	}{
		{"code", "main.go", "main.go", true},
		{"code", "web/App.TSX", "App.TSX", true},
		{"code", "backend/Makefile", "Makefile", true},
		{"code", "notes.md", "", false},
		{"code", "docs/GUIDE.Markdown", "", false},
		{"code", "Implementation notes", "", false},
		{"code", "my script.py", "", false}, // not a path: a document about code, in Markdown
		{"architecture", "main.go", "", false},
	} {
		lang, ok := codeLanguage(store.Document{Type: tc.typ, Title: tc.title})
		if lang != tc.lang || ok != tc.ok {
			t.Errorf("%s %q: %q, %v; want %q, %v", tc.typ, tc.title, lang, ok, tc.lang, tc.ok)
		}
	}
}
