package faults_test

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/fuzzyllama/fuzzyllama/cmd/fuzzyllama/internal/binarytest"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the scenarios run side by side even on a two-core machine: each spends most of
// its time waiting through an outage, so the default -parallel (GOMAXPROCS) would only serialise
// the waits. An explicit -test.parallel is respected.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "8")
	}
	code := m.Run()
	binarytest.Cleanup()
	os.Exit(code)
}

// freeAddr picks a free loopback port below the kernel's ephemeral range, where no outgoing
// connection can take it: a killed process must find its port free when it restarts 30 s later,
// while thousands of requests come and go.
// Each port is handed out once per test run, so two scenarios never pick the same one between
// the check and the bind.
func freeAddr(t *testing.T) string {
	t.Helper()
	low := ephemeralLow()
	for range 100 {
		port := 10000 + rand.IntN(low-10000)
		portsMu.Lock()
		taken := portsGiven[port]
		portsGiven[port] = true
		portsMu.Unlock()
		if taken {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			addr := l.Addr().String()
			_ = l.Close()
			return addr
		}
	}
	t.Fatal("no free port below the ephemeral range")
	return ""
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's default when unknown).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	var low, high int
	if _, err := fmt.Sscan(string(b), &low, &high); err != nil || low <= 12000 {
		return 32768
	}
	return low
}

// process is one target of the binary, which a scenario may kill and start again with the same
// environment (so on the same ports).
type process struct {
	target   string
	env      []string
	httpAddr string // its /healthz, /readyz and /metrics (the gateway's API too)
	logs     *logTail

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current run has exited
}

// start runs the process and waits until it says it is up.
func (p *process) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(binarytest.Path(t), "-target="+p.target)
	cmd.Env = append(os.Environ(), p.env...)
	// A test binary that dies must not leave the product running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = w.Close(); close(done) }()
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		signalled := false
		for sc.Scan() {
			p.logs.add(sc.Text())
			if !signalled && strings.Contains(sc.Text(), "is up:") {
				close(up)
				signalled = true
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	select {
	case <-up:
	case <-done:
		t.Fatalf("%s exited before it was up:\n%s", p.target, p.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s not up after 60 s:\n%s", p.target, p.logs)
	}
}

// kill ends the process with SIGKILL, as a crash or an OOM kill would, and waits until it is gone.
func (p *process) kill(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", p.target, err)
	}
	<-done
	p.logs.add("--- killed with SIGKILL by the test ---")
}

// stop ends the process gracefully (SIGTERM), or kills it after 10 s.
func (p *process) stop() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// logTail keeps the last lines a process wrote, shown when its scenario fails, and counts its
// warnings and errors by message, so a scenario can tell an outage logged once from a flood.
type logTail struct {
	mu       sync.Mutex
	lines    []string
	problems map[string]int // "WARN <msg>" or "ERROR <msg>" → lines
}

const logTailLines = 150

func (l *logTail) add(line string) {
	var entry struct{ Level, Msg string }
	_ = json.Unmarshal([]byte(line), &entry)
	l.mu.Lock()
	defer l.mu.Unlock()
	if entry.Level == "WARN" || entry.Level == "ERROR" {
		if l.problems == nil {
			l.problems = map[string]int{}
		}
		l.problems[entry.Level+" "+entry.Msg]++
	}
	l.lines = append(l.lines, line)
	if len(l.lines) > 2*logTailLines {
		l.lines = append([]string(nil), l.lines[len(l.lines)-logTailLines:]...)
	}
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-logTailLines):], "\n")
}

// problemCounts is how many warnings and errors the process has logged so far, by message.
func (l *logTail) problemCounts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.problems)
}

// grep returns the lines kept that contain s.
func (l *logTail) grep(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var found []string
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			found = append(found, line)
		}
	}
	return found
}
