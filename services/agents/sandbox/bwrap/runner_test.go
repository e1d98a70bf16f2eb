package bwrap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The work and cache dirs must be the runner's, in dirs no other user can swap them out of, and
// reachable by the sandbox uid.
func TestSandboxDirsMustBeSafe(t *testing.T) {
	r := &Runner{privileged: os.Geteuid() == 0, cfg: Config{SandboxUID: 65534}}
	base := filepath.Join(testBase, "dirs")
	mkdir := func(name string, mode os.FileMode) string {
		d := filepath.Join(base, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
		return d
	}
	mkdir(".", 0o711)
	if err := r.makePrivateDir(filepath.Join(mkdir("ok", 0o755), "work")); err != nil {
		t.Errorf("a safe dir is refused: %v", err)
	}
	refused := map[string]string{
		filepath.Join(mkdir("shared", 0o777), "work"):            "another user could replace it",
		filepath.Join(mkdir("sticky", 0o777|os.ModeSticky), "w"): "",
		"relative/work": "not absolute",
	}
	if r.privileged {
		refused[filepath.Join(mkdir("closed", 0o700), "work")] = "uid 65534 cannot enter"
		other := mkdir("other", 0o755)
		if err := os.Chown(other, 1000, 1000); err != nil {
			t.Fatal(err)
		}
		refused[filepath.Join(other, "work")] = "owner uid 1000"
	}
	for dir, want := range refused {
		err := r.makePrivateDir(dir)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v, want it accepted (sticky like /tmp)", dir, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: err = %v, want it to say %q", dir, err, want)
		}
	}
}
