package bwrap

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// Neither the host's services on loopback nor the internet are reachable.
func TestNoNetwork(t *testing.T) {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second); err == nil {
		c.Close() // the host's PostgreSQL answers here: the sandbox must not reach it
	} else {
		t.Logf("nothing listens on the host's 127.0.0.1:5432 (%v); the sandbox is still checked", err)
	}
	for _, addr := range []string{"127.0.0.1/5432", "1.1.1.1/80"} {
		s := runShell(t, sandbox.Limits{WallClock: 20 * time.Second},
			`exec bash -c 'exec 3<>/dev/tcp/`+addr+` && echo CONNECTED'`)
		mustFail(t, s, "")
		if bytes.Contains(s.Log, []byte("CONNECTED")) {
			t.Fatalf("the sandbox connected to %s", addr)
		}
	}
	s := runShell(t, sandbox.Limits{}, `getent hosts proxy.golang.org || echo NO-DNS; cat /proc/net/dev`)
	if !bytes.Contains(s.Log, []byte("NO-DNS")) || bytes.Contains(s.Log, []byte("eth")) {
		t.Fatalf("the sandbox has a network beyond lo:\n%s", s.Log)
	}
}

// Nothing outside the tree (and the caches the steps own) can be written, and the host's files
// written at are untouched.
func TestNoWritesOutsideTheTree(t *testing.T) {
	hostPasswd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	targets := []string{"/usr/fuzzyllama-escape", "/usr/bin/fuzzyllama-escape", "/etc/passwd",
		"/etc/fuzzyllama-escape", "/work/../fuzzyllama-escape", "/fuzzyllama-escape",
		"/cache/gomod/fuzzyllama-escape", "/proc/sys/kernel/hostname", testBase + "/fuzzyllama-escape"}
	script := "for f in " + strings.Join(targets, " ") + "; do (echo x >> $f) 2>/dev/null && echo WROTE $f; done; " +
		"echo ok > /work/inside && echo WROTE-INSIDE"
	s := runShell(t, sandbox.Limits{}, script)
	mustPass(t, s)
	if bytes.Contains(s.Log, []byte("WROTE /")) {
		t.Fatalf("the sandbox wrote outside the tree:\n%s", s.Log)
	}
	if !bytes.Contains(s.Log, []byte("WROTE-INSIDE")) {
		t.Fatalf("the sandbox could not write its tree:\n%s", s.Log)
	}
	for _, f := range []string{"/usr/fuzzyllama-escape", "/usr/bin/fuzzyllama-escape", "/etc/fuzzyllama-escape",
		"/fuzzyllama-escape", testBase + "/fuzzyllama-escape", testBase + "/work/fuzzyllama-escape"} {
		if _, err := os.Lstat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists on the host", f)
		}
	}
	if now, _ := os.ReadFile("/etc/passwd"); !bytes.Equal(now, hostPasswd) {
		t.Error("the host's /etc/passwd changed")
	}
}

// The host's secrets are not there to read: /etc/shadow, root's home, the runner's binary dir.
func TestNoHostFiles(t *testing.T) {
	s := runShell(t, sandbox.Limits{}, `cat /etc/shadow; ls /root; ls /etc; exit 0`)
	if bytes.Contains(s.Log, []byte("root:")) && bytes.Contains(s.Log, []byte(":0:")) && !bytes.Contains(s.Log, []byte("/usr/sbin/nologin")) {
		t.Fatalf("the sandbox read a host shadow file:\n%s", s.Log)
	}
	if !bytes.Contains(s.Log, []byte("/etc/shadow: No such file")) {
		t.Fatalf("reading /etc/shadow did not fail as missing:\n%s", s.Log)
	}
}

// No variable of the runner's environment reaches the step, bwrap, or any process inside.
func TestNoServerEnvironment(t *testing.T) {
	secret := make([]byte, 12)
	rand.Read(secret)
	value := "leak-" + hex.EncodeToString(secret)
	t.Setenv("FUZZYLLAMA_TEST_SECRET", value)
	s := runShell(t, sandbox.Limits{}, `env; for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do echo "== $f"; tr '\0' '\n' < $f; done`)
	mustPass(t, s)
	if bytes.Contains(s.Log, []byte(value)) || bytes.Contains(s.Log, []byte("FUZZYLLAMA_TEST_SECRET")) {
		t.Fatalf("the runner's environment reached the sandbox:\n%s", s.Log)
	}
	if !bytes.Contains(s.Log, []byte("== /proc/1/environ")) || !bytes.Contains(s.Log, []byte("GOPROXY=off")) {
		t.Fatalf("the step did not see its own environment or /proc/1:\n%s", s.Log)
	}
}

// A fork bomb stops at the process limit, and nothing of it is left afterwards.
func TestForkBomb(t *testing.T) {
	s := runShell(t, sandbox.Limits{Processes: 64, WallClock: 4 * time.Second}, `bomb() { bomb | bomb & }; bomb; sleep 60`)
	mustFail(t, s, "")
	want := "process limit of 64 reached"
	if testRunner(t).cgroups == nil {
		want = "wall-clock limit" // without a pids cgroup, RLIMIT_NPROC refuses the forks unseen
	}
	if !strings.Contains(s.Stopped, want) {
		t.Fatalf("Stopped = %q, want it to name %q", s.Stopped, want)
	}
	assertNoSandboxProcesses(t)
}

// Allocating far more than the memory limit ends the step, named as the memory limit.
func TestMemoryLimit(t *testing.T) {
	s := runShell(t, sandbox.Limits{MemoryBytes: 256 << 20, WallClock: 60 * time.Second},
		`node -e 'const a = []; for (let i = 0; i < 160; i++) a.push(Buffer.alloc(64 << 20, 1)); console.log("ALLOCATED 10 GiB")'`)
	mustFail(t, s, "memory limit of 256 MiB reached")
	if bytes.Contains(s.Log, []byte("ALLOCATED")) {
		t.Fatal("the step allocated 10 GiB")
	}
}

// An endless loop is stopped by the CPU time limit; a step that sleeps, by the wall clock,
// background processes included.
func TestCPUAndWallClockLimits(t *testing.T) {
	s := runShell(t, sandbox.Limits{CPUTime: 2 * time.Second, WallClock: 30 * time.Second}, `while :; do :; done`)
	mustFail(t, s, "CPU time limit of 2s per process reached")
	s = runShell(t, sandbox.Limits{WallClock: 1500 * time.Millisecond}, `sleep 300 & sleep 300`)
	mustFail(t, s, "wall-clock limit of 1.5s reached")
	if s.Duration > 20*time.Second {
		t.Fatalf("the step took %s", s.Duration)
	}
	assertNoSandboxProcesses(t)
}

// A flood of output is cut: the log keeps its head and a note, the step is stopped, and the
// runner does not hold the output in memory.
func TestOutputFlood(t *testing.T) {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	s := runShell(t, sandbox.Limits{OutputBytes: 64 << 10, WallClock: 60 * time.Second}, `yes 0123456789 | head -c 100000000; echo END`)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	mustFail(t, s, "output limit reached")
	if len(s.Log) > 64<<10 {
		t.Fatalf("the log has %d bytes, more than the limit", len(s.Log))
	}
	if !bytes.HasPrefix(s.Log, []byte("0123456789\n")) || !bytes.Contains(s.Log, []byte("[output cut:")) {
		t.Fatalf("the log's head or note is missing: %q", truncate(s.Log[max(0, len(s.Log)-300):], 300))
	}
	if grew := int64(after.TotalAlloc) - int64(before.TotalAlloc); grew > 32<<20 {
		t.Fatalf("the runner allocated %d MiB while the step printed", grew>>20)
	}
}

// Output under the flood threshold but over the log limit is drained and noted; the step passes.
func TestOutputCut(t *testing.T) {
	s := runShell(t, sandbox.Limits{OutputBytes: 4 << 10}, `yes abc | head -c 100000; echo`)
	mustPass(t, s)
	if len(s.Log) > 4<<10 || !bytes.Contains(s.Log, []byte("[output cut: 97.7 KiB in all")) {
		t.Fatalf("log of %d bytes ends %q", len(s.Log), s.Log[max(0, len(s.Log)-200):])
	}
}

// A file larger than the file size limit cannot be written.
func TestFileSizeLimit(t *testing.T) {
	s := runShell(t, sandbox.Limits{FileBytes: 1 << 20}, `head -c 10000000 /dev/zero > big`)
	mustFail(t, s, "file size limit of 1 MiB reached")
}

// The tree cannot outgrow its limit; the steps after the one that filled it do not run.
func TestTreeSizeLimit(t *testing.T) {
	res := runJob(t, sandbox.Job{Limits: sandbox.Limits{TreeBytes: 8 << 20, FileBytes: 64 << 20},
		Steps: []sandbox.Step{
			{Name: "fill", Command: []string{"sh", "-c", "for i in 1 2 3 4 5; do head -c 3000000 /dev/zero > f$i || exit 1; done"}},
			{Name: "after", Command: []string{"true"}},
		}})
	mustFail(t, res.Steps[0], "tree size limit of 8 MiB reached")
	mustFail(t, res.Steps[1], "not run: tree size limit")
}

// Symbolic links the steps make lead nowhere on the host: a later step finds nothing through
// them, and the runner follows none when it reads results.
func TestSymlinks(t *testing.T) {
	res := runJob(t, sandbox.Job{
		Files: []sandbox.File{file("real.txt", "inside")},
		Steps: []sandbox.Step{
			{Name: "link", Command: []string{"sh", "-c", "ln -s /etc/shadow shadow && ln -s /etc/hostname hostname && ln -s real.txt alias && ln -s / root && mkdir d && ln -s /etc d/etc"},
				Results: []string{"shadow", "hostname", "alias", "root/etc/hostname", "d/etc/hostname", "real.txt"}},
			{Name: "read", Command: []string{"sh", "-c", "cat shadow hostname root/etc/shadow; exit 0"}},
		}})
	mustPass(t, res.Steps[0])
	got := res.Steps[0].Results
	if len(got) != 1 || string(got["real.txt"]) != "inside" {
		t.Fatalf("results read through links: %q", got)
	}
	hostname, _ := os.ReadFile("/etc/hostname")
	if log := res.Steps[1].Log; bytes.Contains(log, []byte("root:")) || (len(hostname) > 0 && bytes.Contains(log, bytes.TrimSpace(hostname))) {
		t.Fatalf("a later step read host files through the links:\n%s", log)
	}
}

// Trees with paths out of the tree are refused before anything is written.
func TestBadPathsAreRefused(t *testing.T) {
	r := testRunner(t)
	before, _ := os.ReadDir(r.cfg.WorkDir)
	for _, p := range []string{"../escape.txt", "a/../../escape.txt", "/tmp/escape.txt", "a//b", ".git/config"} {
		_, err := r.Run(t.Context(), sandbox.Job{ProjectID: "bad", Files: []sandbox.File{file("ok.txt", "x"), file(p, "x")},
			Steps: []sandbox.Step{{Name: "never", Command: []string{"true"}}}})
		if !errors.Is(err, sandbox.ErrBadTree) || !strings.Contains(err.Error(), p) {
			t.Errorf("path %q: err = %v, want ErrBadTree naming it", p, err)
		}
	}
	after, _ := os.ReadDir(r.cfg.WorkDir)
	if len(after) != len(before) {
		t.Errorf("the work dir went from %d to %d entries", len(before), len(after))
	}
	for _, f := range []string{filepath.Join(r.cfg.WorkDir, "..", "escape.txt"), "/tmp/escape.txt"} {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s was written", f)
		}
	}
}

// What the sandbox writes into the tree belongs to the sandbox uid on the host, not root: a
// set-user-id copy of a shell made inside gives nobody root.
func TestFilesBelongToTheSandboxUID(t *testing.T) {
	r := testRunner(t)
	if !r.privileged {
		t.Skip("the runner is not root: the sandbox's files are the runner's own")
	}
	var owners []string
	r.afterStep = func(tree string) {
		for _, name := range []string{"made.txt", "suid-sh"} {
			info, err := os.Lstat(filepath.Join(tree, name))
			if err != nil {
				owners = append(owners, name+": "+err.Error())
				continue
			}
			st := info.Sys().(*syscall.Stat_t)
			owners = append(owners, name+": uid "+strconv.Itoa(int(st.Uid))+" gid "+strconv.Itoa(int(st.Gid)))
		}
	}
	defer func() { r.afterStep = nil }()
	s := runShell(t, sandbox.Limits{}, `echo x > made.txt && cp /bin/sh suid-sh && chmod 4755 suid-sh && ls -ln`)
	mustPass(t, s)
	want := []string{"made.txt: uid 65534 gid 65534", "suid-sh: uid 65534 gid 65534"}
	if strings.Join(owners, ", ") != strings.Join(want, ", ") {
		t.Fatalf("owners on the host: %v, want %v", owners, want)
	}
}

// assertNoSandboxProcesses checks that no process of this runner's sandboxes is left on the
// host, and none of their cgroups: each step's processes are in its cgroup, which is removed
// once they are gone. (Other runners on the machine, such as other packages' tests, are theirs.)
func assertNoSandboxProcesses(t *testing.T) {
	t.Helper()
	r := testRunner(t)
	if r.cgroups == nil {
		return // the pid namespace is all that holds them, and it dies with bwrap
	}
	ours := cgroupPrefix + strconv.Itoa(os.Getpid()) + "-"
	for _, parent := range []string{r.cgroups.memory, r.cgroups.pids} {
		if left, _ := filepath.Glob(filepath.Join(parent, ours+"*")); parent != "" && len(left) > 0 {
			t.Errorf("step cgroups are left: %v", left)
		}
	}
	cgroups, _ := filepath.Glob("/proc/[0-9]*/cgroup")
	for _, cg := range cgroups {
		if data, err := os.ReadFile(cg); err == nil && strings.Contains(string(data), ours) {
			t.Errorf("a process of a step is left: %s: %s", cg, data)
		}
	}
}

// A result larger than the limit is left out with a note, not cut.
func TestLargeResultLeftOut(t *testing.T) {
	res := runJob(t, sandbox.Job{Limits: sandbox.Limits{OutputBytes: 4 << 10}, Steps: []sandbox.Step{{
		Name: "report", Command: []string{"sh", "-c", "head -c 100000 /dev/zero > big.out && echo small > small.out"},
		Results: []string{"big.out", "small.out"},
	}}})
	s := res.Steps[0]
	mustPass(t, s)
	if _, ok := s.Results["big.out"]; ok || string(s.Results["small.out"]) != "small\n" {
		t.Fatalf("results: %q", s.Results)
	}
	if !bytes.Contains(s.Log, []byte("the result big.out is left out: larger than the limit: 97.7 KiB of 4 KiB")) {
		t.Fatalf("log: %s", s.Log)
	}
}
