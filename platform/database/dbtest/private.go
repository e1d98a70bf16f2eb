package dbtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// PrivatePostgres is a PostgreSQL server of one test's own: a cluster made by initdb in a
// temporary directory, listening on a free loopback port with trust authentication. A test stops
// and starts it to see how code meets an outage, which it must never do to the shared server.
type PrivatePostgres struct {
	// URL connects to its postgres database as the superuser postgres.
	URL string

	tb       testing.TB
	bin, dir string
	port     int
	asUser   []string // the command prefix that runs the server as a user it accepts
}

// NewPrivatePostgres initialises and starts a private cluster, stopped and removed when the test
// ends. The test is skipped when no PostgreSQL server binaries are installed (initdb in
// `pg_config --bindir` or /usr/lib/postgresql/*/bin).
func NewPrivatePostgres(tb testing.TB) *PrivatePostgres {
	tb.Helper()
	bin := postgresBinDir()
	if bin == "" {
		tb.Skip("dbtest: a private PostgreSQL needs the server binaries (initdb, pg_ctl); none found")
	}
	dir, err := os.MkdirTemp("", "fuzzyllama-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	p := &PrivatePostgres{tb: tb, bin: bin, dir: dir, port: freePort(tb)}
	// PostgreSQL refuses to run as root: then run it as the postgres user, who must own dir.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Skip("dbtest: running as root and there is no postgres user to run a private PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	p.run(filepath.Join(bin, "initdb"), "-D", p.dataDir(), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	// The port was free when picked; another test's listener may take it before PostgreSQL binds
	// it (busy CI machines do): pick another then.
	for attempt := 1; ; attempt++ {
		if err := p.start(); err == nil {
			break
		} else if log, _ := os.ReadFile(filepath.Join(dir, "server.log")); attempt == 3 || !strings.Contains(string(log), "Address already in use") {
			tb.Fatalf("dbtest: pg_ctl start: %v\n%s", err, log)
		}
		p.port = freePort(tb)
	}
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	tb.Cleanup(func() {
		_ = p.command(filepath.Join(bin, "pg_ctl"), "stop", "-D", p.dataDir(), "-m", "immediate", "-w").Run()
	})
	return p
}

// Start starts the server and waits until it accepts connections.
func (p *PrivatePostgres) Start() {
	p.tb.Helper()
	if err := p.start(); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
		p.tb.Fatalf("dbtest: pg_ctl start: %v\n%s", err, log)
	}
}

func (p *PrivatePostgres) start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", p.port, p.dir)
	out, err := p.command(filepath.Join(p.bin, "pg_ctl"), "start", "-D", p.dataDir(), "-w", "-t", "60",
		"-l", filepath.Join(p.dir, "server.log"), "-o", opts).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// Stop shuts the server down (fast mode: sessions are terminated with admin_shutdown) and waits
// until it is gone.
func (p *PrivatePostgres) Stop() {
	p.tb.Helper()
	p.run(filepath.Join(p.bin, "pg_ctl"), "stop", "-D", p.dataDir(), "-m", "fast", "-w", "-t", "60")
}

func (p *PrivatePostgres) dataDir() string { return filepath.Join(p.dir, "data") }

func (p *PrivatePostgres) command(name string, args ...string) *exec.Cmd {
	argv := append(slices.Clone(p.asUser), name)
	argv = append(argv, args...)
	return exec.Command(argv[0], argv[1:]...)
}

func (p *PrivatePostgres) run(name string, args ...string) {
	p.tb.Helper()
	if out, err := p.command(name, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
		p.tb.Fatalf("dbtest: %s %s: %v\n%s\n%s", filepath.Base(name), strings.Join(args, " "), err, out, log)
	}
}

// postgresBinDir finds the directory of initdb and pg_ctl, which are seldom on PATH.
func postgresBinDir() string {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); fileExists(filepath.Join(dir, "initdb")) {
			return dir
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return ""
	}
	slices.SortFunc(found, func(a, b string) int { return versionOf(b) - versionOf(a) }) // newest first
	return filepath.Dir(found[0])
}

func versionOf(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
