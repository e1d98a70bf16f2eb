// Package outage reports a dependency's outages the way an operator wants to read them: one
// WARN when it first fails, nothing more while it stays down (however many requests meet it),
// and one INFO with the outage's length when it answers again. Probe checks a dependency in the
// background, so the recovery is noticed even when no request comes by, and tells its owner of
// each change (a gRPC server's health status follows its database that way).
package outage

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Log is one dependency's outage record. The zero value is not usable: set Dependency and
// Logger. It is safe for concurrent use.
type Log struct {
	// Dependency names what failed, for people: "projects database", "redis (rate limiter)".
	Dependency string
	Logger     *slog.Logger
	// OnChange, if set, is called with false when an outage starts and true when it ends,
	// whoever noticed (a Probe or a request that met the failure). It must not call back into
	// the Log.
	OnChange func(up bool)

	mu       sync.Mutex
	down     bool
	since    time.Time
	failures int
}

// Down records a failure of the dependency. The first failure of an outage is logged at WARN
// (with err) and reported true; later ones are only counted until Up.
func (l *Log) Down(ctx context.Context, err error) (first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures++
	if l.down {
		return false
	}
	l.down, l.since, l.failures = true, time.Now(), 1
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	l.Logger.WarnContext(ctx, l.Dependency+" unavailable", "dependency", l.Dependency, "error", msg)
	if l.OnChange != nil {
		l.OnChange(false) // under the lock, so that changes reach the owner in order
	}
	return true
}

// Up records that the dependency answered. Ending an outage is logged at INFO with how long it
// lasted and how many failures it caused, and reported true; otherwise Up does nothing.
func (l *Log) Up(ctx context.Context) (recovered bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.down {
		return false
	}
	l.down = false
	l.Logger.InfoContext(ctx, l.Dependency+" available again", "dependency", l.Dependency,
		"down_for", time.Since(l.since).Round(time.Millisecond).String(), "failures", l.failures)
	if l.OnChange != nil {
		l.OnChange(true)
	}
	return true
}

// IsDown reports whether an outage is going on.
func (l *Log) IsDown() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.down
}

// Probe checks a dependency every Interval until its context ends and records each answer in
// Log: an outage met by requests ends in the log as soon as the dependency answers the probe.
type Probe struct {
	// Check answers nil while the dependency works. It gets a context bounded by Timeout.
	Check    func(context.Context) error
	Interval time.Duration
	Timeout  time.Duration
	Log      *Log
}

// Run checks at once, then every Interval, until ctx ends.
func (p *Probe) Run(ctx context.Context) {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		p.checkOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Probe) checkOnce(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, p.Timeout)
	err := p.Check(cctx)
	cancel()
	if ctx.Err() != nil {
		return // stopping: a check cut short says nothing about the dependency
	}
	if err != nil {
		p.Log.Down(ctx, err)
		return
	}
	p.Log.Up(ctx)
}
