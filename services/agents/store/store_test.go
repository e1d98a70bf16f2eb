package store_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// eachDB runs f on a fresh PostgreSQL database and a fresh SQLite file: the store's one
// implementation must behave the same on both.
func eachDB(t *testing.T, f func(t *testing.T, db *store.DB)) {
	q := store.QueueConfig{JobTimeout: time.Minute, RescueAfter: time.Hour, PollInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for name, open := range map[string]func(t *testing.T) (*store.DB, error){
		"postgres": func(t *testing.T) (*store.DB, error) {
			return store.OpenPostgres(context.Background(), dbtest.NewPostgres(t), q)
		},
		"sqlite": func(t *testing.T) (*store.DB, error) {
			return store.OpenSQLite(context.Background(), dbtest.NewSQLitePath(t), q)
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db, err := open(t)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			f(t, db)
		})
	}
}

// claim takes the run for its current job under a new lease, as a worker does.
func claim(ctx context.Context, db *store.DB, id string) (store.Lease, store.Run, error) {
	r, err := db.Run(ctx, id)
	if err != nil {
		return store.Lease{}, r, err
	}
	l := store.Lease{RunID: id, Token: uuid.NewString()}
	r, err = db.Claim(ctx, id, r.JobID, l.Token, time.Now(), time.Minute)
	return l, r, err
}

// startAttempt claims the run and starts its next provider attempt.
func startAttempt(ctx context.Context, db *store.DB, id string) (store.Lease, store.Run, error) {
	l, r, err := claim(ctx, db, id)
	if err == nil {
		r.Attempt, err = db.BeginAttempt(ctx, l)
	}
	return l, r, err
}

func newRun(project string, gate int, role string) store.Run {
	return store.Run{ID: uuid.NewString(), ProjectID: project, Gate: gate, Role: role, Priority: 2, UserID: "u1",
		Model: "offline", MaxAttempts: 3, CreatedAt: time.Now()}
}

// TestOneActiveRunPerGateRole: a second start of an active (project, gate, role) returns the first
// run; once it has finished, a new one can start.
func TestOneActiveRunPerGateRole(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		first, created, err := db.CreateRun(ctx, newRun("p1", 2, "product_manager"))
		if err != nil || !created || first.JobID == 0 || first.State != store.StateQueued {
			t.Fatalf("first: %v %v %+v", err, created, first)
		}
		again, created, err := db.CreateRun(ctx, newRun("p1", 2, "product_manager"))
		if err != nil || created || again.ID != first.ID {
			t.Fatalf("second start: %v created=%v id %s, want %s", err, created, again.ID, first.ID)
		}
		other, created, err := db.CreateRun(ctx, newRun("p1", 2, "architect"))
		if err != nil || !created || other.ID == first.ID {
			t.Fatalf("another role: %v %v", err, created)
		}
		if _, _, err := startAttempt(ctx, db, first.ID); err != nil {
			t.Fatal(err)
		}
		if _, created, _ := db.CreateRun(ctx, newRun("p1", 2, "product_manager")); created {
			t.Fatal("a running run let another start")
		}
		if _, err := db.Finish(ctx, first.ID, store.StateSucceeded, "", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Finish(ctx, first.ID, store.StateFailed, "late", time.Now()); !errors.Is(err, store.ErrFinished) {
			t.Fatalf("finishing twice: %v", err)
		}
		if _, _, err := claim(ctx, db, first.ID); !errors.Is(err, store.ErrFinished) {
			t.Fatalf("attempt after the end: %v", err)
		}
		// The orchestration does not run a role again at a revision where it succeeded (two
		// reconciles racing); a person may.
		auto := newRun("p1", 2, "product_manager")
		auto.Automatic = true
		if got, created, err := db.CreateRun(ctx, auto); err != nil || created || got.ID != first.ID {
			t.Fatalf("automatic run after a success: %v created=%v %s", err, created, got.ID)
		}
		next, created, err := db.CreateRun(ctx, newRun("p1", 2, "product_manager"))
		if err != nil || !created || next.ID == first.ID {
			t.Fatalf("after the first finished: %v %v", err, created)
		}
	})
}

// TestAttemptsOutputAndUsage: chunks belong to an attempt and a new attempt drops the old ones;
// usage adds up across attempts and into the totals per user, gate and project.
func TestAttemptsOutputAndUsage(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r, _, err := db.CreateRun(ctx, newRun("p1", 3, "architect"))
		if err != nil {
			t.Fatal(err)
		}
		l1, a1, err := startAttempt(ctx, db, r.ID)
		if err != nil || a1.Attempt != 1 || a1.State != store.StateRunning || a1.StartedAt.IsZero() {
			t.Fatalf("attempt 1: %v %+v", err, a1)
		}
		if err := db.AppendChunks(ctx, l1, []store.Chunk{{Attempt: 1, Seq: 1, Text: "ab"}, {Attempt: 1, Seq: 2, Text: "cd"}}); err != nil {
			t.Fatal(err)
		}
		if cs, err := db.Chunks(ctx, r.ID, 1, 1); err != nil || len(cs) != 1 || cs[0].Text != "cd" {
			t.Fatalf("chunks after 1: %v %+v", err, cs)
		}
		// The worker's usage is keyed by its attempt: written again (its first write committed,
		// the answer lost with the connection), it is added once.
		for range 2 {
			if err := db.AddUsage(ctx, r.ID, store.Usage{InputTokens: 100, OutputTokens: 10, CostMicros: 450, Model: "claude-sonnet-4-5",
				Key: l1.Token + ":1"}); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := db.Run(ctx, r.ID); err != nil || got.InputTokens != 100 || got.OutputTokens != 10 || got.CostMicros != 450 {
			t.Fatalf("usage written twice under one key: %+v, %v", got, err)
		}
		if err := db.Requeue(ctx, l1, "anthropic: transient (HTTP 529)", time.Time{}); err != nil {
			t.Fatal(err)
		}
		l2, a2, err := startAttempt(ctx, db, r.ID)
		if err != nil || a2.Attempt != 2 || !a2.StartedAt.Equal(a1.StartedAt) {
			t.Fatalf("attempt 2: %v %+v", err, a2)
		}
		if cs, _ := db.Chunks(ctx, r.ID, 1, 0); len(cs) != 0 {
			t.Fatalf("attempt 1's output survived attempt 2: %+v", cs)
		}
		if err := db.AddUsage(ctx, r.ID, store.Usage{InputTokens: 100, OutputTokens: 20, CostMicros: 600, Model: "claude-sonnet-4-5",
			Key: l2.Token + ":2"}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveOutput(ctx, l2, "the whole answer"); err != nil {
			t.Fatal(err)
		}
		if err := db.ReleaseLease(ctx, l2); err != nil {
			t.Fatal(err)
		}
		// An execution after the answer was saved (its processing failed) gets the answer, so the
		// model is not called again, and no attempt is started.
		l3, a3, err := claim(ctx, db, r.ID)
		if err != nil || a3.Output != "the whole answer" || a3.Attempt != 2 {
			t.Fatalf("after the answer: %v %+v", err, a3)
		}
		if err := db.SaveResult(ctx, l3, store.Result{DocumentsStored: true, Documents: []store.Document{{ID: "d1", Type: "api_spec", Title: "API", Version: 2}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Finish(ctx, r.ID, store.StateSucceeded, "", time.Now()); err != nil {
			t.Fatal(err)
		}
		got, err := db.Run(ctx, r.ID)
		if err != nil || got.InputTokens != 200 || got.OutputTokens != 30 || got.CostMicros != 1050 || got.Output != "the whole answer" ||
			got.Model != "claude-sonnet-4-5" || !got.Result.DocumentsStored || got.Result.Documents[0].Version != 2 || got.EndedAt.IsZero() {
			t.Fatalf("run: %v %+v", err, got)
		}
		other := newRun("p1", 3, "ux_designer")
		other.UserID = "u2"
		o, _, _ := db.CreateRun(ctx, other)
		_ = db.AddUsage(ctx, o.ID, store.Usage{InputTokens: 5, OutputTokens: 5, Unpriced: true, Model: "llama3.1:8b"})

		if u, err := db.UserTotals(ctx, "u1", time.Now().Add(-time.Hour)); err != nil || u.Tokens() != 230 || u.CostMicros != 1050 || u.Runs != 1 {
			t.Fatalf("user totals: %v %+v", err, u)
		}
		if u, _ := db.UserTotals(ctx, "u1", time.Now().Add(time.Hour)); u.Runs != 0 {
			t.Fatalf("runs before the month counted: %+v", u)
		}
		pt, err := db.ProjectTotals(ctx, "p1")
		if err != nil || pt.Total.Runs != 2 || pt.Total.Unpriced != 1 || pt.Total.Tokens() != 240 || len(pt.ByGate) != 1 || pt.ByGate[0].Gate != 3 ||
			len(pt.ByRole) != 2 || pt.ByRole[0].Role != "architect" || pt.ByRole[0].CostMicros != 1050 {
			t.Fatalf("project totals: %v %+v", err, pt)
		}
		// Per model, by name: the model that answered each run (the usage's), not the one configured.
		wantModels := []store.GroupTotals{
			{Model: "claude-sonnet-4-5", Totals: store.Totals{InputTokens: 200, OutputTokens: 30, CostMicros: 1050, Runs: 1}},
			{Model: "llama3.1:8b", Totals: store.Totals{InputTokens: 5, OutputTokens: 5, Runs: 1, Unpriced: 1}},
		}
		if !slices.Equal(pt.ByModel, wantModels) {
			t.Fatalf("per model:\n got %+v\nwant %+v", pt.ByModel, wantModels)
		}
		second, _, _ := db.CreateRun(ctx, newRun("p1", 3, "architect"))
		if _, perRole, err := db.GateTotals(ctx, "p1", 3); err != nil || perRole["architect"] != 2 || perRole["ux_designer"] != 1 || second.ID == "" {
			t.Fatalf("runs per role: %v %v", perRole, err)
		}
	})
}

// TestAnnounceQueued: a run just queued is handed to fn once, while no worker can start it (a
// start waits until fn returns); not again, and not once a worker took it or while it waits for
// a retry.
func TestAnnounceQueued(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r, _, err := db.CreateRun(ctx, newRun("p1", 1, "product_manager"))
		if err != nil {
			t.Fatal(err)
		}
		started := make(chan error, 1)
		lease := make(chan store.Lease, 1)
		called, err := db.AnnounceQueued(ctx, r.ID, func(q store.Run) {
			if q.ID != r.ID || q.State != store.StateQueued || q.Attempt != 0 {
				t.Errorf("fn got %+v", q)
			}
			go func() {
				l, _, err := claim(ctx, db, r.ID)
				lease <- l
				started <- err
			}()
			select {
			case err := <-started:
				t.Errorf("a worker started the run while it was held (%v)", err)
			case <-time.After(300 * time.Millisecond):
			}
		})
		if err != nil || !called {
			t.Fatalf("announce: called=%v, %v", called, err)
		}
		if err := <-started; err != nil {
			t.Fatalf("the start that waited: %v", err)
		}
		// A worker that finds a run not announced yet announces it before starting it.
		unannounced, _, err := db.CreateRun(ctx, newRun("p1", 2, "product_manager"))
		if err != nil {
			t.Fatal(err)
		}
		if called, err := db.AnnounceQueued(ctx, unannounced.ID, func(store.Run) {}); err != nil || !called {
			t.Fatalf("the worker's announce: called=%v, %v", called, err)
		}
		for name, id := range map[string]string{"announced already": unannounced.ID, "running": r.ID, "no such run": "nope"} {
			if called, err := db.AnnounceQueued(ctx, id, func(store.Run) {}); err != nil || called {
				t.Fatalf("%s: called=%v, %v", name, called, err)
			}
		}
		if err := db.Requeue(ctx, <-lease, "attempt 1 failed", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if called, err := db.AnnounceQueued(ctx, r.ID, func(store.Run) {}); err != nil || called {
			t.Fatalf("waiting for a retry: called=%v, %v", called, err)
		}
	})
}

// TestOfflineUsage: an attempt the offline provider answered adds no usage, whatever counts it
// carries, and marks the run; totals count such runs apart and add nothing for them.
func TestOfflineUsage(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		off, _, err := db.CreateRun(ctx, newRun("p1", 1, "product_manager"))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AddUsage(ctx, off.ID, store.Usage{InputTokens: 40000, OutputTokens: 900, CostMicros: 7, Unpriced: true, Offline: true, Model: "offline"}); err != nil {
			t.Fatal(err)
		}
		paid := newRun("p1", 1, "architect")
		paid.Model = "claude-sonnet-4-5"
		vendor, _, err := db.CreateRun(ctx, paid)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AddUsage(ctx, vendor.ID, store.Usage{InputTokens: 100, OutputTokens: 10, CostMicros: 450, Model: "claude-sonnet-4-5"}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Run(ctx, off.ID)
		if err != nil || !got.Offline || got.InputTokens != 0 || got.OutputTokens != 0 || got.CostMicros != 0 || got.Unpriced {
			t.Fatalf("offline run: %v %+v", err, got)
		}
		if got, _ := db.Run(ctx, vendor.ID); got.Offline {
			t.Fatalf("a vendor's run is marked offline: %+v", got)
		}
		want := store.Totals{InputTokens: 100, OutputTokens: 10, CostMicros: 450, Runs: 2, Offline: 1}
		if u, err := db.UserTotals(ctx, "u1", time.Now().Add(-time.Hour)); err != nil || u != want {
			t.Fatalf("user totals: %v %+v, want %+v", err, u, want)
		}
		if g, _, err := db.GateTotals(ctx, "p1", 1); err != nil || g != want {
			t.Fatalf("gate totals: %v %+v, want %+v", err, g, want)
		}
		pt, err := db.ProjectTotals(ctx, "p1")
		if err != nil || pt.Total != want || len(pt.ByGate) != 1 || pt.ByGate[0].Totals != want || len(pt.ByRole) != 2 ||
			pt.ByRole[1].Offline != 1 || pt.ByRole[0].Offline != 0 {
			t.Fatalf("project totals: %v %+v", err, pt)
		}
		wantModels := []store.GroupTotals{
			{Model: "claude-sonnet-4-5", Totals: store.Totals{InputTokens: 100, OutputTokens: 10, CostMicros: 450, Runs: 1}},
			{Model: "offline", Totals: store.Totals{Runs: 1, Offline: 1}},
		}
		if !slices.Equal(pt.ByModel, wantModels) {
			t.Fatalf("per model:\n got %+v\nwant %+v", pt.ByModel, wantModels)
		}
	})
}

// TestCancelStopsTheJob: a cancelled queued run ends at once and its job will not start.
func TestCancelStopsTheJob(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r, _, err := db.CreateRun(ctx, newRun("p1", 1, "product_manager"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := db.Finish(ctx, r.ID, store.StateCancelled, "cancelled by u1", time.Now())
		if err != nil || c.State != store.StateCancelled || c.Error != "cancelled by u1" {
			t.Fatalf("cancel: %v %+v", err, c)
		}
		if _, err := db.Finish(ctx, r.ID, store.StateCancelled, "again", time.Now()); !errors.Is(err, store.ErrFinished) {
			t.Fatalf("second cancel: %v", err)
		}
	})
}

// TestWorkAndAllowances: the orchestration's records.
func TestWorkAndAllowances(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Work(ctx, "p1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no work yet: %v", err)
		}
		w, err := db.PutWork(ctx, store.Work{ProjectID: "p1", UserID: "u1", CreatedAt: time.Now()})
		if err != nil || w.UserID != "u1" {
			t.Fatalf("put: %v %+v", err, w)
		}
		// One reconcile at a time holds the project, until it releases it or the lease lapses.
		now := time.Now()
		if ok, err := db.LeaseWork(ctx, "p1", now, now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("first lease: %v %v", ok, err)
		}
		if ok, _ := db.LeaseWork(ctx, "p1", now, now.Add(time.Minute)); ok {
			t.Fatal("a second reconcile got the held project")
		}
		if ok, _ := db.LeaseWork(ctx, "p1", now.Add(2*time.Minute), now.Add(3*time.Minute)); !ok {
			t.Fatal("a lapsed lease was not taken over")
		}
		if err := db.ReleaseWork(ctx, "p1", now.Add(3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db.LeaseWork(ctx, "p1", now, now.Add(time.Minute)); !ok {
			t.Fatal("a released project could not be taken")
		}
		_, _ = db.PutWork(ctx, store.Work{ProjectID: "p2", UserID: "u1", CreatedAt: time.Now()})
		if ids, err := db.ActiveWork(ctx, "", 10); err != nil || len(ids) != 2 {
			t.Fatalf("active: %v %v", ids, err)
		}
		if err := db.CompleteWork(ctx, "p1", time.Now()); err != nil {
			t.Fatal(err)
		}
		if ids, _ := db.ActiveWork(ctx, "", 10); len(ids) != 1 || ids[0] != "p2" {
			t.Fatalf("active after completing p1: %v", ids)
		}
		// Starting it again resumes it, for whoever started it last.
		if w, _ := db.PutWork(ctx, store.Work{ProjectID: "p1", UserID: "u2", CreatedAt: time.Now()}); w.UserID != "u2" || !w.CompletedAt.IsZero() {
			t.Fatalf("restarted work: %+v", w)
		}
		if a, err := db.Allowance(ctx, "p1", 3); err != nil || a.TokensSpent != 0 {
			t.Fatalf("no allowance yet: %v %+v", err, a)
		}
		seen := time.Now().Truncate(time.Microsecond)
		for _, spent := range []int64{100, 250} {
			if err := db.PutAllowance(ctx, store.Allowance{ProjectID: "p1", Gate: 3, TokensSpent: spent,
				RoleRuns: map[string]int{"architect": 2}, AcknowledgedAt: seen}); err != nil {
				t.Fatal(err)
			}
		}
		if a, _ := db.Allowance(ctx, "p1", 3); a.TokensSpent != 250 || a.RoleRuns["architect"] != 2 || !a.AcknowledgedAt.Equal(seen) {
			t.Fatalf("allowance: %+v", a)
		}
	})
}

// TestFailOrphans: a run whose job the queue discarded (its worker kept crashing) or no longer
// has is failed by the sweep; a run with a live job is left alone.
func TestFailOrphans(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		live, _, _ := db.CreateRun(ctx, newRun("p1", 1, "product_manager"))
		discarded, _, _ := db.CreateRun(ctx, newRun("p1", 2, "product_manager"))
		gone, _, _ := db.CreateRun(ctx, newRun("p1", 3, "architect"))
		if err := db.ExecForTest(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = CURRENT_TIMESTAMP WHERE id = $1`, discarded.JobID); err != nil {
			t.Fatal(err)
		}
		if err := db.ExecForTest(ctx, `DELETE FROM river_job WHERE id = $1`, gone.JobID); err != nil {
			t.Fatal(err)
		}
		failed, err := db.FailOrphans(ctx, time.Now())
		if err != nil || len(failed) != 2 {
			t.Fatalf("orphans: %v %+v", err, failed)
		}
		for _, id := range []string{discarded.ID, gone.ID} {
			if r, _ := db.Run(ctx, id); r.State != store.StateFailed || r.Error == "" {
				t.Errorf("orphan %s: %+v", id, r)
			}
		}
		if r, _ := db.Run(ctx, live.ID); r.State != store.StateQueued {
			t.Errorf("live run: %+v", r)
		}
	})
}

// TestUsageIsBounded: usage a provider reports is clamped per attempt, so a broken or hostile
// server can neither lower a user's total (negative counts) nor overflow it (and make the run
// unreadable on SQLite, or its update fail on PostgreSQL).
func TestUsageIsBounded(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, _, _ := db.CreateRun(ctx, newRun("p1", 1, "product_manager"))
		b, _, _ := db.CreateRun(ctx, newRun("p1", 2, "product_manager"))
		for _, u := range []store.Usage{{InputTokens: math.MaxInt64, OutputTokens: math.MaxInt64, CostMicros: math.MaxInt64}, {InputTokens: 10}} {
			if err := db.AddUsage(ctx, a.ID, u); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.AddUsage(ctx, b.ID, store.Usage{InputTokens: -1_000_000, OutputTokens: -5, CostMicros: -9}); err != nil {
			t.Fatal(err)
		}
		ra, err := db.Run(ctx, a.ID)
		if err != nil || ra.InputTokens <= 0 || ra.InputTokens > 1<<31 || ra.CostMicros <= 0 {
			t.Fatalf("huge usage: %v %+v", err, ra)
		}
		if rb, _ := db.Run(ctx, b.ID); rb.InputTokens != 0 || rb.OutputTokens != 0 || rb.CostMicros != 0 {
			t.Fatalf("negative usage stored: %+v", rb)
		}
		if u, err := db.UserTotals(ctx, "u1", time.Time{}); err != nil || u.Tokens() < 1<<30 {
			t.Fatalf("user totals: %v %+v", err, u)
		}
	})
}

// TestRunsChangedSince: ChangedSince keeps the runs not finished, however old, and those that
// finished at or after it (to the microsecond the store keeps), in pages as without it.
func TestRunsChangedSince(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		since := time.Now() // with nanoseconds, which the store drops
		name := map[string]string{}
		create := func(n string, gate int, age time.Duration) string {
			t.Helper()
			r := newRun("p1", gate, "architect")
			r.CreatedAt = since.Add(-age)
			if _, _, err := db.CreateRun(ctx, r); err != nil {
				t.Fatal(err)
			}
			name[r.ID] = n
			return r.ID
		}
		finish := func(id string, at time.Time) {
			t.Helper()
			if _, err := db.Finish(ctx, id, store.StateSucceeded, "", at); err != nil {
				t.Fatal(err)
			}
		}
		finish(create("finished before", 1, 48*time.Hour), since.Add(-24*time.Hour))
		finish(create("finished a microsecond before", 2, 46*time.Hour), since.Add(-time.Microsecond))
		finish(create("finished at", 3, 45*time.Hour), since)
		finish(create("finished after", 4, time.Hour), since.Add(time.Hour))
		create("queued", 5, 47*time.Hour)
		running, err := db.Run(ctx, create("running", 6, 47*time.Hour-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Claim(ctx, running.ID, running.JobID, "a worker", since.Add(-47*time.Hour), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.CreateRun(ctx, newRun("p2", 1, "architect")); err != nil {
			t.Fatal(err)
		}
		names := func(rs []store.Run) []string {
			out := make([]string, len(rs))
			for i, r := range rs {
				out[i] = name[r.ID]
			}
			return out
		}

		var paged []store.Run
		page := store.RunPage{ChangedSince: since, Limit: 1}
		for range 6 {
			rs, err := db.Runs(ctx, "p1", page)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) == 0 {
				break
			}
			paged = append(paged, rs...)
			page.BeforeCreated, page.BeforeID = rs[0].CreatedAt, rs[0].ID
		}
		// Newest first.
		if got, want := names(paged), []string{"finished after", "finished at", "running", "queued"}; !slices.Equal(got, want) {
			t.Errorf("changed since, in pages of 1: %v, want %v", got, want)
		}
		rs, err := db.Runs(ctx, "p1", store.RunPage{Gate: 5, ChangedSince: since, Limit: 10})
		if err != nil || !slices.Equal(names(rs), []string{"queued"}) {
			t.Errorf("gate 5 changed since: %v %v", names(rs), err)
		}
		if rs, err := db.Runs(ctx, "p1", store.RunPage{Limit: 10}); err != nil || len(rs) != 6 {
			t.Errorf("without ChangedSince: %v %v", names(rs), err)
		}
	})
}

// TestLeases: a worker holds a run by its lease; while it is live no other execution takes the
// run; once it expires the run is rescued once (a new job, counted), the stale worker's writes
// change nothing, and its job is superseded.
func TestLeases(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r, _, err := db.CreateRun(ctx, newRun("p1", 1, "product_manager"))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now().Truncate(time.Microsecond) // the store keeps microseconds
		stale := store.Lease{RunID: r.ID, Token: "the first worker"}
		if _, err := db.Claim(ctx, r.ID, r.JobID, stale.Token, start, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		if attempt, err := db.BeginAttempt(ctx, stale); err != nil || attempt != 1 {
			t.Fatalf("attempt: %d, %v", attempt, err)
		}
		if _, err := db.Claim(ctx, r.ID, r.JobID, "a second execution", start.Add(time.Second), 30*time.Second); !errors.Is(err, store.ErrLeased) {
			t.Fatalf("a claim while the lease is live: %v", err)
		}
		if err := db.RenewLease(ctx, stale, start.Add(10*time.Second), 30*time.Second); err != nil {
			t.Fatal(err)
		}
		if got, err := db.RescueExpired(ctx, start.Add(39*time.Second), store.Outage{}); err != nil || len(got) != 0 {
			t.Fatalf("rescued a live lease: %+v, %v", got, err)
		}
		rescued, err := db.RescueExpired(ctx, start.Add(41*time.Second), store.Outage{})
		if err != nil || len(rescued) != 1 || rescued[0].ID != r.ID || rescued[0].Rescues != 1 || rescued[0].State != store.StateQueued ||
			rescued[0].JobID == r.JobID || rescued[0].Silent != 31*time.Second {
			t.Fatalf("rescue: %+v, %v", rescued, err)
		}
		if again, err := db.RescueExpired(ctx, start.Add(time.Minute), store.Outage{}); err != nil || len(again) != 0 {
			t.Fatalf("rescued twice: %+v, %v", again, err)
		}
		for name, write := range map[string]func() error{
			"renew":   func() error { return db.RenewLease(ctx, stale, start.Add(42*time.Second), time.Minute) },
			"attempt": func() error { _, err := db.BeginAttempt(ctx, stale); return err },
			"chunks":  func() error { return db.AppendChunks(ctx, stale, []store.Chunk{{Attempt: 1, Seq: 1, Text: "x"}}) },
			"output":  func() error { return db.SaveOutput(ctx, stale, "late answer") },
			"result":  func() error { return db.SaveResult(ctx, stale, store.Result{DocumentsStored: true}) },
			"requeue": func() error { return db.Requeue(ctx, stale, "retry", time.Time{}) },
			"finish": func() error {
				_, err := db.FinishLeased(ctx, stale, store.StateSucceeded, "", start.Add(42*time.Second))
				return err
			},
		} {
			if err := write(); !errors.Is(err, store.ErrLeaseLost) {
				t.Errorf("the stale worker's %s: %v, want ErrLeaseLost", name, err)
			}
		}
		if _, err := db.Claim(ctx, r.ID, r.JobID, "the stale job again", start.Add(42*time.Second), time.Minute); !errors.Is(err, store.ErrSuperseded) {
			t.Fatalf("the stale job's claim: %v", err)
		}
		next := store.Lease{RunID: r.ID, Token: "the next worker"}
		got, err := db.Claim(ctx, r.ID, rescued[0].JobID, next.Token, start.Add(42*time.Second), time.Minute)
		if err != nil || got.Rescues != 1 || got.RescuedAt.IsZero() || got.Output != "" || got.Result.DocumentsStored {
			t.Fatalf("the rescued run's claim: %+v, %v", got, err)
		}
		// Its next lease (to 1m42s) runs out during an outage of the database (as the rescuer
		// saw it, 1m30s to 1m50s): handed on, but not counted, and its rescue time stays the
		// first one's.
		cut, err := db.RescueExpired(ctx, start.Add(2*time.Minute), store.Outage{From: start.Add(90 * time.Second), To: start.Add(110 * time.Second)})
		if err != nil || len(cut) != 1 || !cut[0].CutOff || cut[0].Rescues != 1 || !cut[0].RescuedAt.Equal(got.RescuedAt) ||
			cut[0].State != store.StateQueued || !strings.Contains(cut[0].Error, "outage") {
			t.Fatalf("a rescue after an outage: %+v, %v", cut, err)
		}
		last := store.Lease{RunID: r.ID, Token: "the last worker"}
		if _, err := db.Claim(ctx, r.ID, cut[0].JobID, last.Token, start.Add(2*time.Minute), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FinishLeased(ctx, last, store.StateSucceeded, "", start.Add(121*time.Second)); err != nil {
			t.Fatal(err)
		}
	})
}
