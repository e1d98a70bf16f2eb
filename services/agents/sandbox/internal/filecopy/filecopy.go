// Package filecopy copies files for the sandbox runners, never writing through a file or link
// that is already where the copy goes.
package filecopy

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File copies the regular file from to a new file to with mode; it fails when to exists.
func File(from, to string, mode fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}

// Tree copies the directories, regular files and symbolic links (node_modules/.bin) of src
// into dst, the files writable by their owner; other kinds of files are left out.
func Tree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case e.IsDir():
			return os.MkdirAll(to, 0o755)
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case e.Type().IsRegular():
			info, err := e.Info()
			if err != nil {
				return err
			}
			return File(p, to, info.Mode().Perm()|0o600)
		}
		return nil // sockets, devices: npm makes none
	})
}
