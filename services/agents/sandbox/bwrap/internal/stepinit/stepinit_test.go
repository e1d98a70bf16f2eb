package stepinit

import (
	"os/exec"
	"strings"
	"testing"
)

// The helper starts early only while this package imports nothing but the standard library
// (see the package doc): a module dependency, whose import path sorts late, would make every
// step wait for the program's heavy initialisers again.
func TestImportsOnlyTheStandardLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if deps := strings.Fields(string(out)); len(deps) != 1 || !strings.HasSuffix(deps[0], "/stepinit") {
		t.Fatalf("stepinit depends on %v; it must import the standard library only", deps)
	}
}
