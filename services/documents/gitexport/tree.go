package gitexport

import (
	"fmt"
	"path"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// treeNode is one directory of the file tree at the current commit. It holds
// only hashes, never content. hash caches the directory's tree object; it is
// cleared along a changed path so that the next write rebuilds just those
// trees and reuses every untouched subtree.
type treeNode struct {
	files map[string]plumbing.Hash // name -> blob
	dirs  map[string]*treeNode     // name -> subdirectory
	hash  plumbing.Hash            // zero when the tree must be (re)written
}

func newTreeNode() *treeNode {
	return &treeNode{files: map[string]plumbing.Hash{}, dirs: map[string]*treeNode{}}
}

// set points the file at segments to blob, creating directories on the way.
func (n *treeNode) set(segments []string, blob plumbing.Hash) error {
	for i, name := range segments[:len(segments)-1] {
		if _, isFile := n.files[name]; isFile {
			return invalid("%s is a file in an earlier version, so it cannot also be a directory",
				path.Join(segments[:i+1]...))
		}
		n.hash = plumbing.ZeroHash
		child, ok := n.dirs[name]
		if !ok {
			child = newTreeNode()
			n.dirs[name] = child
		}
		n = child
	}
	name := segments[len(segments)-1]
	if _, isDir := n.dirs[name]; isDir {
		return invalid("%s is a directory in an earlier version, so it cannot also be a file",
			path.Join(segments...))
	}
	n.hash = plumbing.ZeroHash
	n.files[name] = blob
	return nil
}

// write stores the tree objects that changed since the last write and
// returns the hash of n's tree.
func (n *treeNode) write(store *filesystem.Storage) (plumbing.Hash, error) {
	if !n.hash.IsZero() {
		return n.hash, nil
	}
	entries := make([]object.TreeEntry, 0, len(n.files)+len(n.dirs))
	for name, blob := range n.files {
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: blob})
	}
	for name, dir := range n.dirs {
		h, err := dir.write(store)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	// git orders entries by name, comparing a directory as name + "/";
	// TreeEntrySorter implements exactly that, and Tree.Encode checks it.
	sort.Sort(object.TreeEntrySorter(entries))
	h, err := storeObject(store, &object.Tree{Entries: entries})
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write tree: %w", err)
	}
	n.hash = h
	return h, nil
}
