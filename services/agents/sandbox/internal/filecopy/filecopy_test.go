package filecopy

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTree(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "node_modules", ".bin"), 0o755))
	must(os.WriteFile(filepath.Join(src, "node_modules", "tool.js"), []byte("run"), 0o555))
	must(os.Symlink("../tool.js", filepath.Join(src, "node_modules", ".bin", "tool")))
	must(Tree(src, dst))
	if data, err := os.ReadFile(filepath.Join(dst, "node_modules", ".bin", "tool")); err != nil || string(data) != "run" {
		t.Errorf("through the copied link: %q, %v", data, err)
	}
	if info, err := os.Stat(filepath.Join(dst, "node_modules", "tool.js")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("copied file: %v, %v; want mode 0755 (writable by its owner)", info, err)
	}
}

// A copy never writes through what is already there: a link planted at the destination stays
// as it was, and so does its target.
func TestFileRefusesAnExistingDestination(t *testing.T) {
	dir := t.TempDir()
	from, target, to := filepath.Join(dir, "from"), filepath.Join(dir, "target"), filepath.Join(dir, "to")
	for name, content := range map[string]string{from: "new", target: "old"} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(target, to); err != nil {
		t.Fatal(err)
	}
	if err := File(from, to, 0o644); err == nil {
		t.Error("copied onto an existing link")
	}
	if data, _ := os.ReadFile(target); string(data) != "old" {
		t.Errorf("the link's target now holds %q", data)
	}
}
