package agents

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// TestRerunCapIsPerRole: with a cap of one re-run, a role that ran twice at a gate may not run
// again, while another role of the same gate that ran once may; after the owner unblocks the
// gate (its runs acknowledged), the first may run once more.
func TestRerunCapIsPerRole(t *testing.T) {
	db, err := store.OpenSQLite(context.Background(), dbtest.NewSQLitePath(t), store.QueueConfig{JobTimeout: time.Minute,
		RescueAfter: time.Hour, PollInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	s := &Service{Store: db, Limits: Limits{GateMaxReruns: 1}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, role := range []string{"frontend_developer", "frontend_developer", "backend_developer"} {
		r, _, err := db.CreateRun(ctx, store.Run{ID: uuid.NewString(), ProjectID: "p1", Gate: 5, Role: role, UserID: "u1",
			Model: "offline", MaxAttempts: 1, CreatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Finish(ctx, r.ID, store.StateFailed, "boom", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	w, g := store.Work{ProjectID: "p1", UserID: "u1"}, Gate{Number: 5, State: GateInProgress}
	frontend, _ := catalog.Get("frontend_developer")
	backend, _ := catalog.Get("backend_developer")
	check := func(role catalog.Role, a store.Allowance, blocked bool) {
		t.Helper()
		reason, err := s.overBudget(ctx, w, g, role, a)
		if err != nil || (reason != "") != blocked || blocked && !strings.Contains(reason, "cap is 1 per role") {
			t.Errorf("%s: reason %q, err %v; want blocked=%v", role.ID, reason, err, blocked)
		}
	}
	check(frontend, store.Allowance{}, true)
	check(backend, store.Allowance{}, false)
	// The owner unblocked the gate after seeing it blocked with these runs.
	check(frontend, store.Allowance{RoleRuns: map[string]int{"frontend_developer": 2, "backend_developer": 1}}, false)
}

// TestLapsedLeaseHolderCannotFreeTheNext: a reconcile whose lease lapsed (it ran past its lease)
// does not free the project for a third while the second holds it.
func TestLapsedLeaseHolderCannotFreeTheNext(t *testing.T) {
	db := sqliteStore(t)
	ctx := context.Background()
	t0 := time.Now()
	if _, err := db.PutWork(ctx, store.Work{ProjectID: "p1", UserID: "u1", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	take := func(now time.Time) bool {
		ok, err := db.LeaseWork(ctx, "p1", now, now.Add(reconcileLease))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take(t0) { // A
		t.Fatal("A could not take a free project")
	}
	if !take(t0.Add(reconcileLease + time.Second)) { // B: A's lease lapsed
		t.Fatal("B could not take a lapsed lease")
	}
	if err := db.ReleaseWork(ctx, "p1", t0.Add(reconcileLease)); err != nil { // A ends, releasing "its" lease
		t.Fatal(err)
	}
	if take(t0.Add(reconcileLease + 2*time.Second)) { // C, while B holds it
		t.Fatal("C took the project while B held its lease: A's release freed B's lease")
	}
}
