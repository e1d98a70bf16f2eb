package kubejob

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/preview"
)

// MaxBundleBytes bounds the bundle Secret's data: the API server refuses a Secret over 1 MiB,
// and its metadata and encoding need some of that.
const MaxBundleBytes = 900 << 10

// checkJob refuses, as ErrBadTree, a tree with a path outside it or more files or bytes than
// allowed, and refuses a job whose fetches or steps name a directory or result that cannot be
// in a tree.
func checkJob(job sandbox.Job, limits sandbox.Limits) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", sandbox.ErrBadTree, fmt.Sprintf(format, args...))
	}
	if len(job.Files) > sourcetree.MaxFiles {
		return bad("it has %d files; at most %d are allowed", len(job.Files), sourcetree.MaxFiles)
	}
	var total int64
	paths := make(map[string]bool, len(job.Files))
	for _, f := range job.Files {
		if err := sourcetree.CheckPath(f.Path); err != nil {
			return bad("%v", err)
		}
		if paths[f.Path] {
			return bad("the path %q is there twice", f.Path)
		}
		paths[f.Path] = true
		if len(f.Content) > sourcetree.MaxFileBytes {
			return bad("%s is %d bytes; a file may have at most %d", f.Path, len(f.Content), sourcetree.MaxFileBytes)
		}
		total += int64(len(f.Content))
	}
	if max := min(limits.TreeBytes, sourcetree.MaxTreeBytes); total > max {
		return bad("it has %d bytes; at most %d are allowed", total, max)
	}
	for p := range paths {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if paths[dir] {
				return bad("%s is a file and also a directory of %s", dir, p)
			}
		}
	}
	checkDir := func(what, dir string) error {
		if dir == "" || dir == "." {
			return nil
		}
		if err := sourcetree.CheckPath(dir); err != nil {
			return fmt.Errorf("%s: directory: %w", what, err)
		}
		return nil
	}
	for _, f := range job.Fetch {
		if f.Kind != sandbox.FetchGo && f.Kind != sandbox.FetchNPM && f.Kind != sandbox.FetchGoVulnCheck {
			return fmt.Errorf("fetch in %q: unknown kind %q", f.Dir, f.Kind)
		}
		if err := checkDir("fetch "+string(f.Kind), f.Dir); err != nil {
			return err
		}
	}
	for _, s := range job.Steps {
		if len(s.Command) == 0 || s.Command[0] == "" {
			return fmt.Errorf("step %q has no command", s.Name)
		}
		if err := checkDir("step "+s.Name, s.Dir); err != nil {
			return err
		}
		for _, r := range s.Results {
			if err := sourcetree.CheckPath(r); err != nil {
				return fmt.Errorf("step %s: result: %w", s.Name, err)
			}
		}
		for _, e := range s.Env {
			if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
				return fmt.Errorf("step %s: environment entry %q is not KEY=value", s.Name, e)
			}
		}
		if s.Preview != nil {
			if err := preview.Check(s.Preview); err != nil {
				return fmt.Errorf("step %s: %w", s.Name, err)
			}
		}
	}
	return nil
}

// packTree is the tree as a gzipped tar, in path order (the same tree packs the same).
func packTree(files []sandbox.File) ([]byte, error) {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b sandbox.File) int { return strings.Compare(a.Path, b.Path) })
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range sorted {
		hdr := &tar.Header{Name: f.Path, Mode: 0o644, Size: int64(len(f.Content)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Content); err != nil {
			return nil, err
		}
	}
	if err := errors.Join(tw.Close(), gz.Close()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unpackTree writes a packed tree into dir, refusing what packTree does not make (a path
// outside the tree, a link, more than limit bytes).
func unpackTree(r io.Reader, dir string, limit int64) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("the tree: %w", err)
	}
	tr := tar.NewReader(gz)
	var total int64
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the tree: %w", err)
		}
		if n >= sourcetree.MaxFiles {
			return fmt.Errorf("the tree has more than %d files", sourcetree.MaxFiles)
		}
		if hdr.Typeflag != tar.TypeReg {
			return fmt.Errorf("the tree's %s is not a regular file", hdr.Name)
		}
		if err := sourcetree.CheckPath(hdr.Name); err != nil {
			return fmt.Errorf("the tree: %w", err)
		}
		if total += hdr.Size; total > limit {
			return fmt.Errorf("the tree has more than %d bytes", limit)
		}
		if d := path.Dir(hdr.Name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		f, err := root.OpenFile(hdr.Name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, io.LimitReader(tr, hdr.Size))
		if err := errors.Join(err, f.Close()); err != nil {
			return err
		}
	}
}
