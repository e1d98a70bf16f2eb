package capture

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"

	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

var (
	// ErrTooLarge is a result file larger than its limit: it is left out rather than cut, as a
	// cut report would be read wrongly.
	ErrTooLarge = errors.New("larger than the limit")
	// ErrNotRegular is a result path that is not a regular file, or is reached through a
	// symbolic link.
	ErrNotRegular = errors.New("not a regular file, or reached through a symbolic link")
)

// ReadResult reads the regular file p under root, if it has at most limit bytes. It follows no
// symbolic link at all, not even one that stays in the tree: a step made the file, so it proves
// nothing about another; and it opens no FIFO or device. It returns fs.ErrNotExist when
// there is no such file (or p cannot be a path of a tree).
func ReadResult(root *os.Root, p string, limit int64) ([]byte, error) {
	if sourcetree.CheckPath(p) != nil {
		return nil, fs.ErrNotExist
	}
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		info, err := root.Lstat(dir)
		switch {
		case err != nil:
			return nil, fs.ErrNotExist
		case !info.IsDir():
			return nil, ErrNotRegular
		}
	}
	if info, err := root.Lstat(p); err != nil {
		return nil, fs.ErrNotExist
	} else if !info.Mode().IsRegular() {
		return nil, ErrNotRegular
	}
	f, err := root.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, ErrNotRegular // replaced since the Lstat
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return nil, ErrNotRegular
	} else if info.Size() > limit {
		return nil, fmt.Errorf("%w: %s of %s", ErrTooLarge, sandbox.FormatBytes(info.Size()), sandbox.FormatBytes(limit))
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: it grew while read", ErrTooLarge)
	}
	return data, err
}

// ReadResults reads the files at paths under root with ReadResult. A missing one is absent from
// results; one left out for another reason is noted at the end of log, which it returns.
func ReadResults(root *os.Root, paths []string, limit int64, log []byte) (results map[string][]byte, _ []byte) {
	for _, p := range paths {
		data, err := ReadResult(root, p, limit)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			if len(log) > 0 && log[len(log)-1] != '\n' {
				log = append(log, '\n')
			}
			log = fmt.Appendf(log, "[the result %s is left out: %v]\n", p, err)
		default:
			if results == nil {
				results = map[string][]byte{}
			}
			results[p] = data
		}
	}
	return results, log
}
