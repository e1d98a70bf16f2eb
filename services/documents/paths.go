package documents

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

// A document becomes a file in an export: docs/<type>/<name>. Markdown documents are named
// after their title ("System Overview" -> docs/architecture/system-overview.md). A code document
// whose title is a file name or path with an extension other than Markdown's is source code: it
// keeps that name ("backend/main.go" -> docs/code/backend/main.go) and renders as a code block.

// sourceExtension returns the extension (without the dot) of a source code document.
func sourceExtension(d store.Document) (string, bool) {
	if d.Type != "code" {
		return "", false
	}
	ext := strings.ToLower(path.Ext(d.Title))
	if len(ext) < 2 || len(ext) > 16 || ext == ".md" || ext == ".markdown" || strings.ContainsAny(ext, " /") {
		return "", false
	}
	return ext[1:], true
}

// maxSegmentBytes bounds one segment of a path, well inside the 255 bytes file systems allow,
// with room for the suffix a colliding name gets.
const maxSegmentBytes = 160

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

// filePath is where a document goes in an export, before collisions are resolved.
func filePath(d store.Document) string {
	dir := "docs/" + strings.ReplaceAll(d.Type, "_", "-")
	if _, ok := sourceExtension(d); ok {
		var segs []string
		for _, seg := range strings.Split(d.Title, "/") {
			if seg = strings.TrimSpace(seg); seg != "" && seg != "." && seg != ".." {
				segs = append(segs, slug(seg, false))
			}
		}
		return dir + "/" + strings.Join(segs, "/")
	}
	name := slug(d.Title, true)
	for _, ext := range []string{".md", ".markdown"} { // "README.md" is readme.md, not readme.md.md
		name = strings.TrimSuffix(name, ext)
	}
	return dir + "/" + cmp.Or(name, "untitled") + ".md"
}

// filePaths assigns every document a distinct path, keyed by document id. The documents are
// taken in the order they were created (Seq): a document keeps the path it was given however
// many documents come after it, so an export's paths are stable as a project grows. A path that
// is taken — by a file, or by a directory (a.go next to a.go/b.go), or by either but for case,
// which many file systems cannot tell apart — is flattened into one file name beside its type's
// directory, with the end of the document's id (the random part of a UUIDv7) before its
// extension.
func filePaths(docs []store.Document) map[string]string {
	docs = slices.Clone(docs)
	slices.SortFunc(docs, func(a, b store.Document) int { return cmp.Compare(a.Seq, b.Seq) })
	out := make(map[string]string, len(docs))
	files, dirs := map[string]bool{}, map[string]bool{} // folded to lower case
	free := func(p string) bool {
		p = strings.ToLower(p)
		if files[p] || dirs[p] {
			return false
		}
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if files[dir] {
				return false
			}
		}
		return true
	}
	for _, d := range docs {
		p := filePath(d)
		if !free(p) {
			dir := "docs/" + strings.ReplaceAll(d.Type, "_", "-")
			name := strings.ReplaceAll(strings.TrimPrefix(p, dir+"/"), "/", "-")
			ext := path.Ext(name)
			base := slug(strings.TrimSuffix(name, ext), false)
			tail := d.ID[max(0, len(d.ID)-8):]
			p = fmt.Sprintf("%s/%s-%s%s", dir, base, tail, ext)
			for n := 2; !free(p); n++ {
				p = fmt.Sprintf("%s/%s-%s-%d%s", dir, base, tail, n, ext)
			}
		}
		files[strings.ToLower(p)] = true
		for dir := path.Dir(strings.ToLower(p)); dir != "."; dir = path.Dir(dir) {
			dirs[dir] = true
		}
		out[d.ID] = p
	}
	return out
}
