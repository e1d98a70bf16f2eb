package bwrap

import (
	"os/exec"
	"syscall"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// BenchmarkStartup is the cost of the sandbox: /bin/true run directly, under bwrap alone, in a
// sandbox as steps run (the init helper, the cgroup, bwrap), and as a whole job of one step (its
// tree, tmpfs and etc files made and removed too).
func BenchmarkStartup(b *testing.B) {
	r := testRunner(b)
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	lim := sandbox.Limits{}.WithDefaults()
	j, err := r.newJob("bench", lim)
	if err != nil {
		b.Fatal(err)
	}
	defer j.close()
	args := append(r.bwrapArgs(j, ".", nil), "--", "/bin/true")
	// bwrap started by the runner itself, as the sandbox uid: what the helper, the cgroup and the
	// rlimits add is the difference to "sandbox".
	b.Run("bwrap", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command(r.cfg.Bwrap, args...)
			cmd.Env = []string{}
			if r.privileged {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
					Uid: uint32(r.cfg.SandboxUID), Gid: uint32(r.cfg.SandboxGID), Groups: []uint32{}}}
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
	})
	b.Run("sandbox", func(b *testing.B) {
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
