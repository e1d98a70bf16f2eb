package documents

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

// An export is the project's repository: its source tree at the root, its documents under docs/.
//
// A source file is a code document whose title is a path (sourcetree.IsPath: "backend/go.mod",
// "frontend/src/App.tsx", "Makefile"). It is exported at exactly that path, its content byte for
// byte, so the exported repository builds as it is. Every other document is a file under
// docs/<type>/, named after its title ("System Overview" -> docs/architecture/system-overview.md,
// a code document titled "Backend Implementation" -> docs/code/backend-implementation.md).

// isSourceFile reports whether d is a file of the project's source tree.
func isSourceFile(d store.Document) bool {
	return d.Type == "code" && sourcetree.IsPath(d.Title)
}

// looksLikePath reports whether a code document's title is meant as a source file's path: one
// word with a "/" (or "\") or an extension. Such a title must be a path sourcetree accepts; any
// other title (with spaces, say) is a free-form document's.
func looksLikePath(title string) bool {
	if strings.ContainsFunc(title, unicode.IsSpace) {
		return false
	}
	return strings.ContainsAny(title, `/\`) || len(path.Ext(title)) > 1
}

// codeLanguage returns the language hint a document renders with as code: source files do,
// by their file name ("main.go", "Makefile"), except Markdown ones; every other document is
// Markdown.
func codeLanguage(d store.Document) (string, bool) {
	if !isSourceFile(d) {
		return "", false
	}
	name := path.Base(d.Title)
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown":
		return "", false
	}
	return name, true
}

// maxSegmentBytes bounds one segment of a path, well inside the 255 bytes file systems allow,
// with room for the suffix a colliding name gets.
const maxSegmentBytes = 160

// maxSuffixExtBytes bounds the extension a colliding name keeps after its suffix; a longer one
// is part of the name (and cut with it).
const maxSuffixExtBytes = 16

// slug makes one path segment of s: letters and digits (of any script: git, zip and tar all
// carry UTF-8 names), '.', '_' and '-' kept, runs of anything else become one '-'; at most
// maxSegmentBytes (cut at a character boundary); never empty, "." or "..".
func slug(s string, lower bool) string {
	if lower {
		s = strings.ToLower(s)
	}
	var b strings.Builder
	dash := false
	for _, r := range s {
		if b.Len()+utf8.RuneLen(r) > maxSegmentBytes {
			break
		}
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '.', r == '_', r == '-':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-.")
	if out == "" {
		return "untitled"
	}
	return out
}

// docsDir is the directory of a document's type: docs/user-story for user_story.
func docsDir(d store.Document) string {
	return "docs/" + strings.ReplaceAll(d.Type, "_", "-")
}

// filePath is where a document goes in an export, before collisions are resolved.
func filePath(d store.Document) string {
	if isSourceFile(d) {
		return d.Title
	}
	name := slug(d.Title, true)
	for _, ext := range []string{".md", ".markdown"} { // "README.md" is readme.md, not readme.md.md
		name = strings.TrimSuffix(name, ext)
	}
	return docsDir(d) + "/" + cmp.Or(name, "untitled") + ".md"
}

// manifestPath is where an archive's manifest goes unless a source file is there.
const manifestPath = "manifest.json"

// exportPaths assigns every document a distinct path, keyed by document id, and the archive's
// manifest one of its own (git exports have none; placing it last changes no other path).
//
// Source files come first: each has its exact path, unless an earlier source file holds it
// (a.go next to a.go/b.go: a path is a file or a directory, never both). Then the other
// documents, then the manifest. Within each, documents are taken in the order they were created
// (Seq), so a document keeps the path it was given however many documents come after it — except
// that a later source file takes its exact path from a document or the manifest, which then move.
//
// A path that is taken — by a file, by a directory, or by either but for case, which many file
// systems cannot tell apart — is flattened into one file name in the document's docs/<type>
// directory (the manifest's: docs), with the end of the document's id (the random part of a
// UUIDv7) before its extension: a source file that lost its path is docs/code/a.go-b-c6.go, a
// document that lost its path to a source file docs/architecture/system-overview-bbbb2222.md, the
// manifest docs/manifest.json. When a source file is that directory (or one above it), the name
// goes to the nearest directory above that no file blocks.
func exportPaths(docs []store.Document) (paths map[string]string, manifest string) {
	docs = slices.Clone(docs)
	slices.SortStableFunc(docs, func(a, b store.Document) int {
		if sa, sb := isSourceFile(a), isSourceFile(b); sa != sb {
			if sa {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	var t takenPaths
	paths = make(map[string]string, len(docs))
	for _, d := range docs {
		p := filePath(d)
		if !t.free(p) {
			p = t.elsewhere(p, docsDir(d), d.ID[max(0, len(d.ID)-8):])
		}
		t.take(p)
		paths[d.ID] = p
	}
	manifest = manifestPath
	if !t.free(manifest) {
		manifest = t.elsewhere(manifest, "docs", "")
	}
	return paths, manifest
}

// takenPaths are the files and directories of an export so far, folded to lower case.
type takenPaths struct {
	files, dirs map[string]bool
}

func (t *takenPaths) take(p string) {
	if t.files == nil {
		t.files, t.dirs = map[string]bool{}, map[string]bool{}
	}
	p = strings.ToLower(p)
	t.files[p] = true
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		t.dirs[dir] = true
	}
}

// free reports whether a file may be at p: nothing is there, and no file is where one of its
// directories would be.
func (t *takenPaths) free(p string) bool {
	p = strings.ToLower(p)
	return !t.files[p] && !t.dirs[p] && !t.blocked(path.Dir(p))
}

// blocked reports whether a file is at dir or at a directory above it, so nothing can be in it.
func (t *takenPaths) blocked(dir string) bool {
	for dir = strings.ToLower(dir); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if t.files[dir] {
			return true
		}
	}
	return false
}

// elsewhere finds a free path for a file that wanted p: p below dir (or p whole, when it is not
// below dir) flattened into one name in dir, with tail and then a counter before its extension.
func (t *takenPaths) elsewhere(p, dir, tail string) string {
	for t.blocked(dir) {
		dir = path.Dir(dir)
	}
	name := strings.ReplaceAll(strings.TrimPrefix(p, dir+"/"), "/", "-")
	ext := path.Ext(name)
	if len(ext) < 2 || len(ext) > maxSuffixExtBytes {
		ext = ""
	}
	stem := slug(strings.TrimSuffix(name, ext), false)
	if tail != "" {
		stem += "-" + tail
	}
	candidate := path.Join(dir, stem+ext)
	for n := 2; !t.free(candidate); n++ {
		candidate = path.Join(dir, fmt.Sprintf("%s-%d%s", stem, n, ext))
	}
	return candidate
}
