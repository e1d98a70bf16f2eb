package documents

import (
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

func TestFilePaths(t *testing.T) {
	doc := func(id, typ, title string, seq int64) store.Document {
		return store.Document{ID: id, Type: typ, Title: title, Seq: seq}
	}
	docs := []store.Document{
		// Listed out of creation order: the earlier document keeps the plain path.
		doc("0190-later-aaaa1111", "architecture", "system overview", 2),
		doc("0190-first-bbbb2222", "architecture", "System Overview", 1),
		doc("0190-third-cccc3333", "architecture", "System: Overview!", 3),
		doc("c1", "code", "backend/cmd/main.go", 4),
		doc("c2", "code", "../../etc/passwd.txt", 5),
		doc("c3", "code", "Implementation notes", 6),
		doc("c4", "code", "README.md", 7),
		doc("o1", "user_story", "  ", 8),
		doc("o2", "deployment_guide", "Déploiement en production", 9),
		// A file and a directory of the same name cannot both exist (in an archive, on disk, in git).
		doc("c5", "code", "a.go", 11),
		doc("c6", "code", "a.go/b.go", 12),
		doc("c7", "code", "readme.md/z.go", 13),
		doc("c8", "code", "pkg.go/util.go", 14),
		doc("c9", "code", "PKG.GO", 15),
		doc("l1", "design", strings.Repeat("設計", 100), 16),
	}
	got := filePaths(docs)
	want := map[string]string{
		"0190-first-bbbb2222": "docs/architecture/system-overview.md",
		"0190-later-aaaa1111": "docs/architecture/system-overview-aaaa1111.md",
		"0190-third-cccc3333": "docs/architecture/system-overview-cccc3333.md",
		"c1":                  "docs/code/backend/cmd/main.go",
		"c2":                  "docs/code/etc/passwd.txt",
		"c3":                  "docs/code/implementation-notes.md",
		"c4":                  "docs/code/readme.md",
		"o1":                  "docs/user-story/untitled.md",
		"o2":                  "docs/deployment-guide/déploiement-en-production.md",
		"c5":                  "docs/code/a.go",
		"c6":                  "docs/code/a.go-b-c6.go",
		"c7":                  "docs/code/readme.md-z-c7.go",
		"c8":                  "docs/code/pkg.go/util.go",
		"c9":                  "docs/code/PKG-c9.GO",
		"l1":                  "docs/design/" + strings.Repeat("設計", 26) + "設.md", // 160 bytes of name
	}
	for id, p := range want {
		if got[id] != p {
			t.Errorf("%s: path %q, want %q", id, got[id], p)
		}
	}
	// Stable as the project grows: adding documents changes no earlier path.
	more := append(docs, doc("z", "architecture", "SYSTEM OVERVIEW", 10))
	for id, p := range filePaths(more) {
		if id != "z" && p != got[id] {
			t.Errorf("%s moved from %q to %q when a document was added", id, got[id], p)
		}
	}
}

func TestSourceExtension(t *testing.T) {
	for _, tc := range []struct {
		typ, title, ext string
		ok              bool
	}{
		{"code", "main.go", "go", true},
		{"code", "web/App.TSX", "tsx", true},
		{"code", "notes.md", "", false},
		{"code", "Implementation notes", "", false},
		{"code", "v1.2 plan", "", false},
		{"architecture", "main.go", "", false},
	} {
		ext, ok := sourceExtension(store.Document{Type: tc.typ, Title: tc.title})
		if ext != tc.ext || ok != tc.ok {
			t.Errorf("%s %q: %q, %v; want %q, %v", tc.typ, tc.title, ext, ok, tc.ext, tc.ok)
		}
	}
}
