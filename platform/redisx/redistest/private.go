package redistest

import (
	"context"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// PrivateRedis is a redis-server of one test's own, on a free loopback port, without
// persistence. A test stops and starts it to see how code meets a Redis outage, which it must
// never do to the shared Redis. A restart comes back empty, as a real one without persistence.
type PrivateRedis struct {
	// Addr is host:port; URL is redis://Addr/0.
	Addr, URL string

	tb  testing.TB
	cmd *exec.Cmd
}

// NewPrivate starts a private redis-server, stopped when the test ends. The test is skipped when
// redis-server is not installed.
func NewPrivate(tb testing.TB) *PrivateRedis {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Skip("redistest: a private Redis needs redis-server on PATH")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	r := &PrivateRedis{Addr: addr, URL: "redis://" + addr + "/0", tb: tb}
	r.Start()
	tb.Cleanup(func() {
		if r.cmd != nil {
			r.Stop()
		}
	})
	return r
}

// Start starts the server and waits until it answers PING.
func (r *PrivateRedis) Start() {
	r.tb.Helper()
	_, port, _ := net.SplitHostPort(r.Addr)
	r.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		r.tb.Fatalf("redistest: start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			r.tb.Fatalf("redistest: redis-server on %s did not answer within 10s", r.Addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop kills the server (SIGKILL: an outage, not a polite shutdown) and waits until it is gone.
func (r *PrivateRedis) Stop() {
	r.tb.Helper()
	if r.cmd == nil {
		r.tb.Fatal("redistest: Stop of a Redis that is not running")
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}
