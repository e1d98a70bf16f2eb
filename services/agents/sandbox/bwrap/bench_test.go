package bwrap

import (
	"os/exec"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// BenchmarkStartup is the cost of the sandbox: /bin/true run directly, in a sandbox (the init
// helper, bwrap, the namespaces, the cgroup), and as a whole job of one step (its tree, tmpfs
// and etc files made and removed too).
func BenchmarkStartup(b *testing.B) {
	r := testRunner(b)
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sandbox", func(b *testing.B) {
		lim := sandbox.Limits{}.WithDefaults()
		j, err := r.newJob("bench", lim)
		if err != nil {
			b.Fatal(err)
		}
		defer j.close()
		args := append(r.bwrapArgs(j, ".", nil), "--", "/bin/true")
		for b.Loop() {
			out, err := r.sandboxed(b.Context(), args, lim)
			if err != nil || out.exitCode != 0 {
				b.Fatalf("%v %+v", err, out)
			}
		}
	})
	b.Run("job", func(b *testing.B) {
		job := sandbox.Job{ProjectID: "bench", Files: []sandbox.File{file("a.txt", "a")},
			Steps: []sandbox.Step{{Name: "true", Command: []string{"/bin/true"}}}}
		for b.Loop() {
			res, err := r.Run(b.Context(), job)
			if err != nil || !res.Steps[0].Passed() {
				b.Fatalf("%v %+v", err, res)
			}
		}
	})
}
