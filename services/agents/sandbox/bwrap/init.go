package bwrap

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// The runner starts each sandbox through its own binary, re-executed (/proc/self/exe) under one
// of these names, the way moby's reexec does: the helper does, in a fresh process, what must
// happen between fork and bwrap's exec and that Go's os/exec cannot express (join the step's
// cgroups, set limits, give up root).
const (
	// initName is argv[0] of the helper that becomes bwrap.
	initName = "fuzzyllama-sandbox-init"
	// previewName is the file name the binary is mounted under inside a preview sandbox, where
	// it starts the server, waits for it to answer and takes the screenshot (preview.go).
	previewName = "fuzzyllama-sandbox-preview"
	// statusFD is the helper's pipe to the runner: closed by the exec of bwrap, or carrying why
	// the helper failed (so a step's own output can never pass for the helper's failure).
	statusFD = 3
)

var initCalled atomic.Bool

// Init must be called first thing in main (and in TestMain of tests that use a Runner): when the
// process is one of the runner's helpers it does the helper's work and never returns; otherwise
// it returns at once. New refuses to work when Init was not called, because the helper would
// otherwise run the program's own main.
func Init() {
	initCalled.Store(true)
	switch filepath.Base(os.Args[0]) {
	case initName:
		os.Exit(runInit(os.Args[1:]))
	case previewName:
		os.Exit(runPreview(os.Args[1:]))
	}
}

// helperSpec is what the runner tells the init helper (as its first argument, JSON).
type helperSpec struct {
	// CgroupProcs are the cgroup.procs files of the step's cgroups, which the helper joins.
	CgroupProcs []string `json:"cgroup_procs,omitempty"`
	Rlimits     []rlimit `json:"rlimits"`
	// Drop switches to UID and GID (and no supplementary groups) before bwrap: the runner is
	// root, and bwrap run by root would map the sandbox's users onto root's files.
	Drop  bool     `json:"drop"`
	UID   int      `json:"uid"`
	GID   int      `json:"gid"`
	Bwrap string   `json:"bwrap"`
	Args  []string `json:"args"` // bwrap's arguments, argv[0] excluded
}

type rlimit struct {
	Resource int    `json:"resource"`
	Cur      uint64 `json:"cur"`
	Max      uint64 `json:"max"`
}

// runInit is the helper: it reports a failure on statusFD and returns, or becomes bwrap.
func runInit(args []string) int {
	status := os.NewFile(statusFD, "status")
	fail := func(format string, a ...any) int {
		msg := fmt.Sprintf(format, a...)
		if status == nil {
			fmt.Fprintln(os.Stderr, initName+": "+msg)
		} else {
			status.WriteString(msg)
		}
		return 125
	}
	if status == nil {
		return fail("started without its status pipe; only the sandbox runner starts it")
	}
	// bwrap must not inherit the pipe: its closing on exec tells the runner bwrap started.
	syscall.CloseOnExec(statusFD)
	if len(args) != 1 {
		return fail("expects one argument, got %d", len(args))
	}
	var spec helperSpec
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
		if err := unix.Setrlimit(l.Resource, &unix.Rlimit{Cur: l.Cur, Max: l.Max}); err != nil {
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
	return unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0)
}
