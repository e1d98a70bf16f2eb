package capture

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadResults(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(outside, []byte("secret"), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "sub", "cover.out"), []byte("coverage"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "big.out"), make([]byte, 3000), 0o644))
	must(os.Symlink(outside, filepath.Join(dir, "link.out")))
	must(os.Symlink("sub", filepath.Join(dir, "alias")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo.out"), 0o644))
	root, err := os.OpenRoot(dir)
	must(err)
	defer root.Close()

	paths := []string{"sub/cover.out", "big.out", "link.out", "alias/cover.out", "fifo.out", "missing.out", "../secret", "sub"}
	results, log := ReadResults(root, paths, 1000, []byte("step output"))
	if len(results) != 1 || string(results["sub/cover.out"]) != "coverage" {
		t.Errorf("results %q, want sub/cover.out alone", results)
	}
	want := "step output\n" +
		"[the result big.out is left out: larger than the limit: 2.9 KiB of 1000 B]\n" +
		"[the result link.out is left out: not a regular file, or reached through a symbolic link]\n" +
		"[the result alias/cover.out is left out: not a regular file, or reached through a symbolic link]\n" +
		"[the result fifo.out is left out: not a regular file, or reached through a symbolic link]\n" +
		"[the result sub is left out: not a regular file, or reached through a symbolic link]\n"
	if string(log) != want {
		t.Errorf("log:\n%s\nwant:\n%s", log, want)
	}
	if _, err := ReadResult(root, "missing.out", 1000); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := ReadResult(root, "big.out", 1000); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "2.9 KiB") {
		t.Errorf("big: %v", err)
	}
}
