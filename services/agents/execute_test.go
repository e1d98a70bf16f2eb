package agents

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// TestBackoff: exponential within its bounds, at least what the provider asked for, but a
// server answering "Retry-After: 999999999" does not park a run for 31 years.
func TestBackoff(t *testing.T) {
	for attempt := 1; attempt <= 30; attempt++ {
		if d := backoff(2*time.Second, 2*time.Minute, attempt, 0); d < time.Second || d > 2*time.Minute {
			t.Errorf("attempt %d: %s", attempt, d)
		}
	}
	if d := backoff(10*time.Millisecond, 50*time.Millisecond, 1, 3*time.Second); d != 3*time.Second {
		t.Errorf("Retry-After 3s: %s", d)
	}
	if d := backoff(2*time.Second, 2*time.Minute, 1, provider.ParseRetryAfter("999999999", time.Now())); d != maxRetryAfter {
		t.Errorf("Retry-After of 31 years: %s", d)
	}
}

// TestKeepStopsWithTheLease: keep retries a write through an outage of the database until it
// succeeds, but not a write the lease refused, nor once the worker's context ends (its lease
// lost or run out): then it stops at once, without another try.
func TestKeepStopsWithTheLease(t *testing.T) {
	s := &Service{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: Limits{OutageWait: time.Minute}}
	down := io.ErrUnexpectedEOF // a connection lost: database.IsUnavailable
	tries := 0
	err := s.keep(context.Background(), "the answer", "r1", func(context.Context) error {
		if tries++; tries < 4 {
			return down
		}
		return nil
	})
	if err != nil || tries != 4 || s.storeOutages().IsDown() {
		t.Fatalf("through an outage: %v after %d tries", err, tries)
	}

	tries = 0
	if err := s.keep(context.Background(), "the answer", "r1", func(context.Context) error { tries++; return store.ErrLeaseLost }); err != store.ErrLeaseLost || tries != 1 {
		t.Fatalf("lease lost: %v after %d tries", err, tries)
	}
	if err := s.keep(context.Background(), "the answer", "r1", func(context.Context) error { tries++; return fs.ErrNotExist }); err != fs.ErrNotExist || tries != 2 {
		t.Fatalf("not an outage: %v after %d tries", err, tries)
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	tries = 0
	time.AfterFunc(300*time.Millisecond, func() { cancel(errLeaseLost) })
	start := time.Now()
	err = s.keep(ctx, "the answer", "r1", func(context.Context) error { tries++; return down })
	if err != down || time.Since(start) > 2*time.Second {
		t.Fatalf("lease lost during the outage: %v after %s", err, time.Since(start))
	}
	after := tries
	time.Sleep(100 * time.Millisecond)
	if tries != after {
		t.Errorf("kept writing after the lease was lost")
	}

	s.Limits.OutageWait = 200 * time.Millisecond
	start = time.Now()
	if err := s.keep(context.Background(), "the answer", "r1", func(context.Context) error { return down }); err != down ||
		time.Since(start) > time.Second {
		t.Fatalf("past the outage wait: %v after %s", err, time.Since(start))
	}
}
