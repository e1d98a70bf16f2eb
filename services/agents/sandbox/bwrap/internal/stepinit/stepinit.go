// Package stepinit is the helper every sandboxed step starts through: the runner's own binary,
// re-executed (/proc/self/exe) under the name Name, the way moby's reexec does. Between fork and
// bwrap's exec it does what Go's os/exec cannot express: join the step's cgroups, set resource
// limits, and give up root.
//
// The helper takes over in this package's init function, not in main: Go initialises packages
// in the order of their import paths as far as their imports allow, and this one imports only
// the standard library, so it runs before the program's heavier initialisers (schema compilers,
// Kubernetes' type registry: 50 to 90 ms in fuzzyllama), which would otherwise delay every step.
package stepinit

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
)

const (
	// Name is argv[0] of the helper.
	Name = "fuzzyllama-sandbox-init"
	// StatusFD is the helper's pipe to the runner: closed by the exec of bwrap, or carrying why
	// the helper failed (so a step's own output can never pass for the helper's failure).
	StatusFD = 3
	// FailedExitCode is the helper's exit code when it could not start bwrap.
	FailedExitCode = 125
)

// Spec is what the runner tells the helper (as its only argument, JSON).
type Spec struct {
	// CgroupProcs are the cgroup.procs files of the step's cgroups, which the helper joins.
	CgroupProcs []string `json:"cgroup_procs,omitempty"`
	Rlimits     []Rlimit `json:"rlimits"`
	// Drop switches to UID and GID (and no supplementary groups) before bwrap: the runner is
	// root, and bwrap run by root would map the sandbox's users onto root's files.
	Drop  bool     `json:"drop"`
	UID   int      `json:"uid"`
	GID   int      `json:"gid"`
	Bwrap string   `json:"bwrap"`
	Args  []string `json:"args"` // bwrap's arguments, argv[0] excluded
}

// Rlimit is one resource limit (syscall.RLIMIT_*).
type Rlimit struct {
	Resource int    `json:"resource"`
	Cur      uint64 `json:"cur"`
	Max      uint64 `json:"max"`
}

func init() {
	if len(os.Args) > 0 && os.Args[0] == Name {
		os.Exit(run(os.Args[1:]))
	}
}

// run is the helper: it reports a failure on StatusFD and returns, or becomes bwrap.
func run(args []string) int {
	status := os.NewFile(StatusFD, "status")
	fail := func(format string, a ...any) int {
		msg := fmt.Sprintf(format, a...)
		if status == nil || func() bool { _, err := status.WriteString(msg); return err != nil }() {
			fmt.Fprintln(os.Stderr, Name+": "+msg)
		}
		return FailedExitCode
	}
	if status == nil {
		return fail("started without its status pipe; only the sandbox runner starts it")
	}
	// bwrap must not inherit the pipe: its closing on exec tells the runner bwrap started.
	syscall.CloseOnExec(StatusFD)
	if len(args) != 1 {
		return fail("expects one argument, got %d", len(args))
	}
	var spec Spec
	if err := json.Unmarshal([]byte(args[0]), &spec); err != nil {
		return fail("reading its instructions: %v", err)
	}
	for _, procs := range spec.CgroupProcs {
		// "0" is the writing process; bwrap and everything it starts inherit the cgroup.
		if err := os.WriteFile(procs, []byte("0"), 0); err != nil {
			return fail("joining the step's cgroup: %v", err)
		}
	}
	for _, l := range spec.Rlimits {
		if err := syscall.Setrlimit(l.Resource, &syscall.Rlimit{Cur: l.Cur, Max: l.Max}); err != nil {
			return fail("setting resource limit %d: %v", l.Resource, err)
		}
	}
	if spec.Drop {
		if err := dropPrivileges(spec.UID, spec.GID); err != nil {
			return fail("switching to uid %d: %v", spec.UID, err)
		}
	}
	// The empty environment is deliberate: bwrap's environment is readable inside the sandbox
	// (/proc/1/environ), so nothing of the server's may reach it.
	err := syscall.Exec(spec.Bwrap, append([]string{spec.Bwrap}, spec.Args...), []string{})
	return fail("starting %s: %v", spec.Bwrap, err)
}

// dropPrivileges becomes uid:gid with no supplementary groups, for good, then asks again to be
// killed with its parent (a change of credentials clears that request).
func dropPrivileges(uid, gid int) error {
	if err := syscall.Setgroups(nil); err != nil {
		return err
	}
	if err := syscall.Setresgid(gid, gid, gid); err != nil {
		return err
	}
	if err := syscall.Setresuid(uid, uid, uid); err != nil {
		return err
	}
	if os.Geteuid() != uid || os.Getegid() != gid {
		return fmt.Errorf("still uid %d gid %d after the switch", os.Geteuid(), os.Getegid())
	}
	const prSetPdeathsig = 1
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetPdeathsig, uintptr(syscall.SIGKILL), 0); errno != 0 {
		return errno
	}
	return nil
}
