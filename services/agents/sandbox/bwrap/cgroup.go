package bwrap

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Cgroups bound a step's processes together: memory (the OOM killer acts inside the step) and
// the number of processes and threads (a fork bomb stops there). Each step gets its own cgroup,
// made under the runner's own one, so whatever bounds the runner bounds the sandboxes too.
//
// Version 1 (a hierarchy per controller, as on this project's CI machines) and version 2 (one
// unified hierarchy) are both handled by writing their files directly: the few files used do
// not need a library.

// cgroupPrefix names the runner's cgroups; dirs of a runner that died are removed by the next.
const cgroupPrefix = "fuzzyllama-sandbox-"

// cgroupSetup is where step cgroups are made, found once by New.
type cgroupSetup struct {
	v2     bool
	memory string // v1: the memory hierarchy's parent dir; v2: the parent dir of every step
	pids   string // v1 only
}

// stepSeq numbers step cgroups in this process: one sequence for all its runners (a process
// may hold several, as tests do), so that their names never collide.
var stepSeq atomic.Int64

// findCgroups returns where this process may make step cgroups, or why it cannot. Nothing is
// made yet; New tries a step cgroup to be sure it works.
func findCgroups() (*cgroupSetup, error) {
	own, err := ownCgroups()
	if err != nil {
		return nil, err
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, err
	}
	memory, pids := mounts["memory"], mounts["pids"]
	if memory.dir != "" && pids.dir != "" {
		return &cgroupSetup{memory: memory.path(own["memory"]), pids: pids.path(own["pids"])}, nil
	}
	unified := mounts[""]
	if unified.dir == "" {
		return nil, errors.New("no memory and pids cgroup controllers are mounted")
	}
	parent := unified.path(own[""])
	if filepath.Base(parent) == cgroupPrefix+"runner" { // moved there by an earlier New
		parent = filepath.Dir(parent)
	}
	controllers, err := os.ReadFile(filepath.Join(parent, "cgroup.controllers"))
	if err != nil {
		return nil, err
	}
	if f := strings.Fields(string(controllers)); !slices.Contains(f, "memory") || !slices.Contains(f, "pids") {
		return nil, fmt.Errorf("the cgroup %s does not have the memory and pids controllers (it has %q)", parent, strings.TrimSpace(string(controllers)))
	}
	if err := enableV2Controllers(parent); err != nil {
		return nil, err
	}
	return &cgroupSetup{v2: true, memory: parent}, nil
}

// enableV2Controllers lets parent's children use memory and pids. A cgroup with processes of its
// own cannot (cgroup v2's "no internal processes" rule), so the runner first moves itself into a
// leaf of its cgroup, as runtimes do under a delegated cgroup.
func enableV2Controllers(parent string) error {
	control := filepath.Join(parent, "cgroup.subtree_control")
	enable := func() error { return os.WriteFile(control, []byte("+memory +pids"), 0) }
	if enable() == nil {
		return nil
	}
	leaf := filepath.Join(parent, cgroupPrefix+"runner")
	if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("making a leaf cgroup for the runner: %w", err)
	}
	if err := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		return fmt.Errorf("moving the runner into %s: %w", leaf, err)
	}
	if err := enable(); err != nil {
		return fmt.Errorf("enabling memory and pids in %s: %w", control, err)
	}
	return nil
}

// ownCgroups maps each v1 controller ("" for v2) to this process's cgroup path in it.
func ownCgroups() (map[string]string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	own := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			own[""] = parts[2]
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	return own, sc.Err()
}

// cgroupMount is where one hierarchy is mounted: dir, showing the hierarchy from root.
type cgroupMount struct{ dir, root string }

// path is the directory of the cgroup at path p of the hierarchy.
func (m cgroupMount) path(p string) string {
	rel, ok := strings.CutPrefix(p, m.root)
	if !ok { // the process's cgroup is outside what the mount shows; use the mount's top
		rel = ""
	}
	return filepath.Join(m.dir, rel)
}

// cgroupMounts maps the v1 controllers memory and pids, and "" for the v2 hierarchy, to where
// they are mounted (/proc/self/mountinfo).
func cgroupMounts() (map[string]cgroupMount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mounts := map[string]cgroupMount{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional…] - fstype source superoptions
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(tail) < 3 {
			continue
		}
		m := cgroupMount{dir: unescapeMount(fields[4]), root: unescapeMount(fields[3])}
		switch tail[0] {
		case "cgroup2":
			mounts[""] = m
		case "cgroup":
			for _, opt := range strings.Split(tail[2], ",") {
				if opt == "memory" || opt == "pids" {
					mounts[opt] = m
				}
			}
		}
	}
	return mounts, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// removeStale removes cgroups left by runners that died (their processes are gone, so the dirs
// are empty and rmdir works); those of live runners are refused by rmdir or skipped.
func (s *cgroupSetup) removeStale() {
	for _, parent := range []string{s.memory, s.pids} {
		if parent == "" {
			continue
		}
		dirs, _ := filepath.Glob(filepath.Join(parent, cgroupPrefix+"*-*"))
		for _, d := range dirs {
			if pid, ok := ownerPID(filepath.Base(d)); ok && !alive(pid) {
				os.Remove(d)
			}
		}
	}
}

// stepCgroup is one step's cgroup (two dirs under v1).
type stepCgroup struct {
	v2     bool
	memory string
	pids   string
}

// newStep makes a step cgroup with the limits set.
func (s *cgroupSetup) newStep(memoryBytes int64, processes int) (*stepCgroup, error) {
	name := fmt.Sprintf("%s%d-%d", cgroupPrefix, os.Getpid(), stepSeq.Add(1))
	cg := &stepCgroup{v2: s.v2, memory: filepath.Join(s.memory, name)}
	if !s.v2 {
		cg.pids = filepath.Join(s.pids, name)
	}
	for _, d := range cg.dirs() {
		if err := os.Mkdir(d, 0o755); err != nil {
			cg.remove()
			return nil, fmt.Errorf("making the step's cgroup: %w", err)
		}
	}
	mem, procs := strconv.FormatInt(memoryBytes, 10), strconv.Itoa(processes)
	var writes [][2]string
	if s.v2 {
		writes = [][2]string{{"memory.max", mem}, {"memory.swap.max", "0"}, {"pids.max", procs}}
	} else {
		writes = [][2]string{{"memory.limit_in_bytes", mem}, {"memory.memsw.limit_in_bytes", mem}}
	}
	for _, w := range writes {
		err := os.WriteFile(filepath.Join(cg.memory, w[0]), []byte(w[1]), 0)
		if err != nil && !(errors.Is(err, os.ErrNotExist) && strings.Contains(w[0], "sw")) { // no swap accounting is fine
			cg.remove()
			return nil, fmt.Errorf("setting %s of the step's cgroup: %w", w[0], err)
		}
	}
	if !s.v2 {
		if err := os.WriteFile(filepath.Join(cg.pids, "pids.max"), []byte(procs), 0); err != nil {
			cg.remove()
			return nil, fmt.Errorf("setting pids.max of the step's cgroup: %w", err)
		}
	}
	return cg, nil
}

func (c *stepCgroup) dirs() []string {
	if c.v2 {
		return []string{c.memory}
	}
	return []string{c.memory, c.pids}
}

// procsFiles are the files a process writes itself into to join the cgroup.
func (c *stepCgroup) procsFiles() []string {
	var files []string
	for _, d := range c.dirs() {
		files = append(files, filepath.Join(d, "cgroup.procs"))
	}
	return files
}

// memoryExceeded reports whether the OOM killer killed a process of the step.
func (c *stepCgroup) memoryExceeded() bool {
	if c.v2 {
		return keyedValue(filepath.Join(c.memory, "memory.events"), "oom_kill") > 0
	}
	if n := keyedValue(filepath.Join(c.memory, "memory.oom_control"), "oom_kill"); n >= 0 {
		return n > 0
	}
	// Kernels before 4.13 have no oom_kill count; failcnt counts allocations that hit the limit.
	failcnt, _ := os.ReadFile(filepath.Join(c.memory, "memory.failcnt"))
	n, _ := strconv.Atoi(strings.TrimSpace(string(failcnt)))
	return n > 0
}

// processesExceeded reports whether a fork or clone of the step was refused at pids.max.
func (c *stepCgroup) processesExceeded() bool {
	dir := c.pids
	if c.v2 {
		dir = c.memory
	}
	return keyedValue(filepath.Join(dir, "pids.events"), "max") > 0
}

// killAll kills every process in the cgroup and waits until none is left (a process that is
// forking while being killed can leave a child, hence the loop).
func (c *stepCgroup) killAll() {
	if c.v2 {
		os.WriteFile(filepath.Join(c.memory, "cgroup.kill"), []byte("1"), 0)
	}
	procs := filepath.Join(c.dirs()[len(c.dirs())-1], "cgroup.procs")
	// Right after bwrap's exit the sandbox's init is usually still exiting: poll briefly first.
	pause := 100 * time.Microsecond
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		data, err := os.ReadFile(procs)
		if err != nil || len(strings.TrimSpace(string(data))) == 0 {
			return
		}
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(pause)
		pause = min(2*pause, 10*time.Millisecond)
	}
}

// remove deletes the cgroup's dirs (which must be empty of processes: killAll first).
func (c *stepCgroup) remove() {
	for _, d := range c.dirs() {
		pause := 100 * time.Microsecond
		for deadline := time.Now().Add(time.Second); ; {
			err := os.Remove(d)
			if err == nil || errors.Is(err, os.ErrNotExist) || time.Now().After(deadline) {
				break
			}
			time.Sleep(pause) // the last exits are still being accounted
			pause = min(2*pause, 10*time.Millisecond)
		}
	}
}

// keyedValue reads "key N" from a flat-keyed cgroup file; -1 when the file or key is missing.
func keyedValue(file, key string) int64 {
	data, err := os.ReadFile(file)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// ownerPID reads the runner's pid from a name made by newStep or a job dir (prefix-PID-N).
func ownerPID(name string) (int, bool) {
	parts := strings.Split(name, "-")
	if len(parts) < 2 {
		return 0, false
	}
	pid, err := strconv.Atoi(parts[len(parts)-2])
	return pid, err == nil && pid > 0
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
