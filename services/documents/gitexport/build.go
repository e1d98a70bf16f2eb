// Package gitexport turns a project's document versions into a git
// repository and pushes it to a remote the user names.
//
// Build writes one commit per document version straight into a bare
// repository's object store (no worktree), so history in git follows the
// version history in FuzzyLlama. The result is deterministic: the same
// versions always give the same commit hashes, which makes exporting a grown
// history to the same remote a fast-forward. Push sends the branch over
// HTTP(S) with a token, refuses to overwrite work on the remote, and only
// dials addresses the caller's Policy allows, because the remote URL comes
// from a user.
package gitexport

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// maxBranchLen keeps a branch's ref file name well inside every file system's limits.
const maxBranchLen = 200

var (
	// ErrNothingToExport is returned by Build when versions yields nothing:
	// git has no way to express a branch without a commit.
	ErrNothingToExport = errors.New("gitexport: no document versions to export")
	// ErrInvalidInput matches every refusal of a version's path, identity,
	// message or time, and of the branch name or committer, so callers can
	// tell bad input apart from a storage failure.
	ErrInvalidInput = errors.New("gitexport: invalid input")
)

// inputError is a refusal of the caller's input. It matches ErrInvalidInput
// without repeating that error's text inside the message.
type inputError string

func (e inputError) Error() string        { return string(e) }
func (e inputError) Is(target error) bool { return target == ErrInvalidInput }

func invalid(format string, args ...any) error {
	return inputError(fmt.Sprintf(format, args...))
}

// Version is one document version to commit: the file at Path gets Content.
type Version struct {
	// Path is slash-separated and relative, e.g.
	// "docs/architecture/system-overview.md". It may not be empty, absolute,
	// contain empty, "." or ".." segments, a ".git" segment (any case), a NUL
	// byte, or invalid UTF-8.
	Path        string
	Content     []byte
	Message     string // commit message; a trailing newline is added if missing
	AuthorName  string
	AuthorEmail string
	// Time is the author and committer time. It is stored in UTC so that
	// the hashes do not depend on the time zone of the machine exporting.
	Time time.Time
}

// Signature is the committer recorded on every commit.
type Signature struct{ Name, Email string }

// Repository is a built export, ready to push. Its files live in the
// directory given to Build, which the caller owns and removes.
type Repository struct {
	store   *filesystem.Storage
	branch  plumbing.ReferenceName
	head    plumbing.Hash
	commits int
}

// Head returns the hex hash of the branch tip.
func (r *Repository) Head() string { return r.head.String() }

// Commits returns how many commits Build wrote: one per version.
func (r *Repository) Commits() int { return r.commits }

// Build creates a bare repository in dir (an existing empty directory) with
// one commit per version, in the order given, on refs/heads/<branch>; HEAD
// points at that branch.
//
// versions is an iterator so the caller can fetch content lazily: Build keeps
// no version's content after writing its blob, only a path -> blob hash map.
// A version whose content equals what its path already holds still gets its
// own (empty) commit, because history is meant to follow versions one to one.
//
// The same versions, branch and committer always produce the same hashes.
func Build(ctx context.Context, dir, branch string, committer Signature, versions iter.Seq2[Version, error]) (*Repository, error) {
	if err := CheckBranchName(branch); err != nil {
		return nil, err
	}
	if err := checkIdentity("committer", committer.Name, committer.Email); err != nil {
		return nil, fmt.Errorf("gitexport: %w", err)
	}
	if err := checkEmptyDir(dir); err != nil {
		return nil, err
	}

	// The object cache only serves reads (Push packs the objects); Build
	// itself never reads an object back. Options.ExclusiveAccess is left
	// off on purpose: it caches a listing of all objects that every write
	// throws away, so checking for a blob after each write would rescan the
	// whole object directory.
	store := filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault())
	ref := plumbing.NewBranchReferenceName(branch)
	// A nil worktree makes the repository bare; DefaultBranch points HEAD at
	// our branch.
	if _, err := git.InitWithOptions(store, nil, git.InitOptions{DefaultBranch: ref}); err != nil {
		return nil, fmt.Errorf("gitexport: init repository: %w", err)
	}

	r := &Repository{store: store, branch: ref}
	root := newTreeNode()
	for v, err := range versions {
		if err != nil {
			return nil, fmt.Errorf("gitexport: reading version %d: %w", r.commits+1, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := r.commit(root, committer, v); err != nil {
			return nil, fmt.Errorf("gitexport: version %d (path %q): %w", r.commits+1, v.Path, err)
		}
	}
	if r.commits == 0 {
		return nil, ErrNothingToExport
	}
	if err := store.SetReference(plumbing.NewHashReference(ref, r.head)); err != nil {
		return nil, fmt.Errorf("gitexport: set %s: %w", ref, err)
	}
	return r, nil
}

// commit writes v's blob, the trees along its path, and a commit whose
// parent is the previous one.
func (r *Repository) commit(root *treeNode, committer Signature, v Version) error {
	segments, err := splitPath(v.Path)
	if err != nil {
		return err
	}
	if err := checkIdentity("author", v.AuthorName, v.AuthorEmail); err != nil {
		return err
	}
	if strings.TrimSpace(v.Message) == "" {
		return invalid("the commit message is empty")
	}
	if strings.IndexByte(v.Message, 0) >= 0 {
		return invalid("the commit message contains a NUL byte")
	}
	if v.Time.IsZero() {
		return invalid("the time is not set")
	}

	blob, err := r.writeBlob(v.Content)
	if err != nil {
		return err
	}
	if err := root.set(segments, blob); err != nil {
		return err
	}
	tree, err := root.write(r.store)
	if err != nil {
		return err
	}

	when := v.Time.UTC()
	message := v.Message
	if !strings.HasSuffix(message, "\n") {
		message += "\n" // what git itself stores; keeps `git log` output tidy
	}
	c := &object.Commit{
		Author:    object.Signature{Name: v.AuthorName, Email: v.AuthorEmail, When: when},
		Committer: object.Signature{Name: committer.Name, Email: committer.Email, When: when},
		Message:   message,
		TreeHash:  tree,
	}
	if !r.head.IsZero() {
		c.ParentHashes = []plumbing.Hash{r.head}
	}
	head, err := storeObject(r.store, c)
	if err != nil {
		return fmt.Errorf("write commit: %w", err)
	}
	r.head = head
	r.commits++
	return nil
}

// writeBlob stores content as a loose blob. It streams the bytes into the
// object file instead of going through a plumbing.MemoryObject, which would
// copy the whole content a second time.
func (r *Repository) writeBlob(content []byte) (plumbing.Hash, error) {
	h := plumbing.ComputeHash(plumbing.BlobObject, content)
	if r.store.HasEncodedObject(h) == nil {
		return h, nil // same content as an earlier version
	}
	w, writeHeader, err := r.store.LazyWriter()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	err = writeHeader(plumbing.BlobObject, int64(len(content)))
	if err == nil {
		_, err = w.Write(content)
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	return h, nil
}

// encodable is what object.Tree and object.Commit have in common.
type encodable interface {
	Encode(plumbing.EncodedObject) error
}

// storeObject encodes a small object (tree or commit) and stores it.
func storeObject(store *filesystem.Storage, o encodable) (plumbing.Hash, error) {
	obj := store.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return store.SetEncodedObject(obj)
}

// splitPath validates a version's path and returns its segments.
func splitPath(path string) ([]string, error) {
	bad := func(why string) error { return invalid("the path %s", why) }
	switch {
	case path == "":
		return nil, bad("is empty")
	case !utf8.ValidString(path):
		return nil, bad("is not valid UTF-8")
	case strings.IndexByte(path, 0) >= 0:
		return nil, bad("contains a NUL byte")
	case strings.HasPrefix(path, "/"):
		return nil, bad("is absolute; it must be relative, like docs/name.md")
	}
	segments := strings.Split(path, "/")
	for _, s := range segments {
		switch {
		case s == "":
			return nil, bad("has an empty segment (a doubled or trailing slash)")
		case s == "." || s == "..":
			return nil, bad("has a \".\" or \"..\" segment")
		case strings.EqualFold(s, ".git"):
			// git refuses to check out such paths; a case-insensitive
			// filesystem would treat .GIT as the repository itself.
			return nil, bad("has a .git segment")
		}
	}
	return segments, nil
}

// checkIdentity refuses what would corrupt the "Name <email> time zone"
// line git stores for author and committer.
func checkIdentity(role, name, email string) error {
	for _, f := range [...]struct{ field, value string }{{"name", name}, {"email", email}} {
		field, value := f.field, f.value
		if strings.TrimSpace(value) == "" {
			return invalid("the %s %s is empty", role, field)
		}
		if strings.ContainsAny(value, "<>\n\x00") || !utf8.ValidString(value) {
			return invalid("the %s %s %q may not contain <, >, a newline or a NUL byte", role, field, value)
		}
	}
	return nil
}

// CheckBranchName validates a branch name with a simple subset of git
// check-ref-format: letters, digits and ._/- only (which already rules out
// spaces, ~^:?*[\ and "@{"), no "..", "//", leading '-' or '/', trailing '/'
// or '.', and no component starting with '.' or ending with ".lock". Its
// errors match ErrInvalidInput.
func CheckBranchName(branch string) error {
	bad := func(why string) error {
		return invalid("gitexport: the branch name %q %s", branch, why)
	}
	if branch == "" {
		return bad("is empty")
	}
	if len(branch) > maxBranchLen {
		return bad(fmt.Sprintf("is longer than %d characters", maxBranchLen))
	}
	for _, c := range branch {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._/-", c)) {
			return bad("may only contain letters, digits, '.', '_', '/' and '-'")
		}
	}
	switch {
	case strings.HasPrefix(branch, "-"), strings.HasPrefix(branch, "/"):
		return bad("may not start with '-' or '/'")
	case strings.HasSuffix(branch, "/"), strings.HasSuffix(branch, "."):
		return bad("may not end with '/' or '.'")
	case strings.Contains(branch, ".."), strings.Contains(branch, "//"):
		return bad("may not contain \"..\" or \"//\"")
	}
	for _, s := range strings.Split(branch, "/") {
		if strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".lock") {
			return bad("has a component starting with '.' or ending with \".lock\"")
		}
	}
	return nil
}

func checkEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("gitexport: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("gitexport: directory %s is not empty", dir)
	}
	return nil
}
