package bwrap

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// checkTree refuses a tree before anything of it is written: a path the source tree rules
// refuse, the same path twice, a file where another needs a directory, too many files or bytes.
func checkTree(files []sandbox.File, treeBytes int64) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", sandbox.ErrBadTree, fmt.Sprintf(format, a...))
	}
	if len(files) > sourcetree.MaxFiles {
		return bad("it has %d files; at most %d are allowed", len(files), sourcetree.MaxFiles)
	}
	limit := min(treeBytes, sourcetree.MaxTreeBytes)
	var total int64
	isFile := make(map[string]bool, len(files))
	for _, f := range files {
		if err := sourcetree.CheckPath(f.Path); err != nil {
			return bad("%v", err)
		}
		if isFile[f.Path] {
			return bad("the path %q is given twice", f.Path)
		}
		isFile[f.Path] = true
		if len(f.Content) > sourcetree.MaxFileBytes {
			return bad("the file %q has %s; at most %s are allowed", f.Path, sandbox.FormatBytes(int64(len(f.Content))), sandbox.FormatBytes(sourcetree.MaxFileBytes))
		}
		total += int64(len(f.Content))
	}
	if total > limit {
		return bad("its files hold %s; at most %s are allowed", sandbox.FormatBytes(total), sandbox.FormatBytes(limit))
	}
	for _, f := range files {
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			if isFile[dir] {
				return bad("the path %q needs %q to be a directory, but it is a file too", f.Path, dir)
			}
		}
	}
	return nil
}

// checkRelDir checks a step's or fetch's directory, relative to the tree root ("" or "." for it).
func checkRelDir(dir string) (string, error) {
	if dir == "" || dir == "." {
		return ".", nil
	}
	if err := sourcetree.CheckPath(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// writeTree writes the files under root (which cannot be left: os.Root refuses "..", absolute
// paths and symbolic links out of it), every file and directory owned by uid:gid.
func writeTree(root *os.Root, files []sandbox.File, uid, gid int, chown bool) error {
	made := map[string]bool{".": true}
	var dirs []string
	for _, f := range files {
		for dir := path.Dir(f.Path); !made[dir]; dir = path.Dir(dir) {
			made[dir] = true
			dirs = append(dirs, dir)
		}
		if err := root.MkdirAll(path.Dir(f.Path), 0o755); err != nil {
			return err
		}
		if err := root.WriteFile(f.Path, f.Content, 0o644); err != nil {
			return err
		}
	}
	if !chown {
		return nil
	}
	for _, name := range append(dirs, ".") {
		if err := root.Lchown(name, uid, gid); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := root.Lchown(f.Path, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

// treeSize adds up the bytes of the regular files under root, without following links.
func treeSize(root *os.Root) (int64, error) {
	var total int64
	err := fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}

// readTreeFile returns the content of path p of the job's tree as given (not as steps left it).
func readTreeFile(files []sandbox.File, p string) ([]byte, bool) {
	for _, f := range files {
		if f.Path == p {
			return f.Content, true
		}
	}
	return nil, false
}

// joinRel joins a directory relative to the tree root ("." for it) and a name.
func joinRel(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// checkDirExists says why a step's directory is not a directory of the tree, if it is not.
func checkDirExists(root *os.Root, dir string) error {
	if dir == "." {
		return nil
	}
	info, err := root.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the directory %q is not in the tree", dir)
	case err != nil:
		return err
	case !info.IsDir():
		return fmt.Errorf("%q in the tree is not a directory", dir)
	}
	for d := path.Dir(dir); d != "."; d = path.Dir(d) {
		if info, err := root.Lstat(d); err != nil || !info.IsDir() {
			return fmt.Errorf("%q in the tree is not a directory", d)
		}
	}
	return nil
}
