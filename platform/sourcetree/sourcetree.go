// Package sourcetree holds the rules of a project's source tree, shared by everything that
// writes, stores, exports or runs it: which paths a file may have, how many files and bytes a
// tree may hold, and the tree's content hash.
//
// A source file is a code document whose title is its path. A path is relative and
// "/"-separated, its segments made of letters, digits and ". _ - + @" (so it means the same on
// every file system, archive and git), none of them "." or "..", no segment starting with "-".
package sourcetree

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Limits of a tree.
const (
	MaxPathBytes    = 200 // a path is a document title, which the documents service bounds at 200
	MaxSegmentBytes = 100
	MaxFiles        = 500
	MaxFileBytes    = 512 << 10 // a document's content limit
	MaxTreeBytes    = 16 << 20
)

// CheckPath returns why p cannot be a source file's path, or nil.
func CheckPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("the path is empty")
	case len(p) > MaxPathBytes:
		return fmt.Errorf("the path is %d bytes long; at most %d are allowed", len(p), MaxPathBytes)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("the path %q is absolute; write it relative to the repository root", p)
	case strings.Contains(p, "\\"):
		return fmt.Errorf("the path %q has a backslash; separate directories with /", p)
	}
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("the path %q has an empty segment (// or a trailing /)", p)
		case seg == "." || seg == "..":
			return fmt.Errorf("the path %q has a %q segment; paths stay inside the repository", p, seg)
		case len(seg) > MaxSegmentBytes:
			return fmt.Errorf("the path %q has a segment longer than %d bytes", p, MaxSegmentBytes)
		case seg[0] == '-':
			return fmt.Errorf("the path %q has a segment starting with -", p)
		}
		for _, c := range []byte(seg) {
			if !pathByte(c) {
				return fmt.Errorf("the path %q has the character %q; use letters, digits and . _ - + @", p, rune(c))
			}
		}
	}
	for _, seg := range strings.Split(p, "/") {
		// A .git anywhere is a repository's metadata (a nested .git/config can run commands
		// when git is used there), never a source file.
		if strings.EqualFold(seg, ".git") {
			return fmt.Errorf("the path %q has a .git segment, which holds a repository's own metadata", p)
		}
	}
	return nil
}

// IsPath reports whether a code document's title is a source file's path.
func IsPath(title string) bool { return CheckPath(title) == nil }

func pathByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == '+' || c == '@'
}

// Entry is what the hash of a tree covers of one file: its path and the hash of its content.
type Entry struct {
	Path        string
	ContentHash string // "sha256:…" (ContentHash)
}

// ContentHash is the hash of one file's content, "sha256:…".
func ContentHash(content []byte) string {
	sum := sha256.Sum256(content)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Hash is the tree's content hash, "sha256:…": the same paths with the same contents give the
// same hash whatever their order; "" for an empty tree.
func Hash(entries []Entry) string {
	if len(entries) == 0 {
		return ""
	}
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	h := sha256.New()
	for _, e := range sorted {
		// NUL cannot occur in either, so the encoding is unambiguous.
		fmt.Fprintf(h, "%s\x00%s\x00", e.Path, e.ContentHash)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// IsHash reports whether s has the form of ContentHash's and Hash's results: "sha256:" and 64
// lowercase hex digits.
func IsHash(s string) bool {
	digits, ok := strings.CutPrefix(s, "sha256:")
	return ok && len(digits) == sha256.Size*2 && strings.Trim(digits, "0123456789abcdef") == ""
}
