package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

func newVerification(project string, gate int) store.Verification {
	return store.Verification{ID: uuid.NewString(), ProjectID: project, Gate: gate, Revision: 0, UserID: "u1",
		DeliverablesHash: "sha256:aa", CreatedAt: time.Now()}
}

// A gate has one verification in progress at a time; it runs, ends once with its steps, and
// its artifacts are read back by their project only.
func TestVerificationLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v, err := db.CreateVerification(ctx, newVerification("p1", 5))
		if err != nil || v.State != store.VerificationQueued {
			t.Fatalf("create: %+v, %v", v, err)
		}
		second, err := db.CreateVerification(ctx, newVerification("p1", 5))
		if !errors.Is(err, store.ErrVerificationActive) || second.ID != v.ID {
			t.Fatalf("second create: %+v, %v (want the first one and ErrVerificationActive)", second, err)
		}
		if _, err := db.CreateVerification(ctx, newVerification("p1", 6)); err != nil {
			t.Fatalf("another gate's verification: %v", err)
		}
		treeFiles := []store.TreeFile{{Path: "backend/go.mod", DocumentID: "d1", Version: 2, Gate: 5, ContentHash: "sha256:aa", Size: 30}}
		if _, err := db.StartVerification(ctx, v.ID, "worker", "sha256:tree", treeFiles, "local"); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("start without a claim: %v", err)
		}
		if _, err := db.ClaimVerification(ctx, v.ID, "worker", time.Now(), time.Minute); err != nil {
			t.Fatal(err)
		}
		running, err := db.StartVerification(ctx, v.ID, "worker", "sha256:tree", treeFiles, "local")
		if err != nil || running.State != store.VerificationRunning || running.TreeHash != "sha256:tree" || running.Runner != "local" {
			t.Fatalf("start: %+v, %v", running, err)
		}
		// The tree it ran on is listed by its hash, to its project only.
		if got, err := db.TreeFiles(ctx, "p1", "sha256:tree"); err != nil || len(got) != 1 || got[0] != treeFiles[0] {
			t.Fatalf("tree files: %+v, %v", got, err)
		}
		if _, err := db.TreeFiles(ctx, "p2", "sha256:tree"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another project's tree: %v", err)
		}
		log := []byte("$ go build ./...\nok\n")
		a := store.Artifact{ID: uuid.NewString(), Kind: "log", MediaType: "text/plain; charset=utf-8", Content: log, CreatedAt: time.Now()}
		if err := db.AddArtifacts(ctx, running, []store.Artifact{a}); err != nil {
			t.Fatal(err)
		}
		running.State, running.EndedAt = store.VerificationFailed, time.Now()
		running.Steps = []store.VerificationStep{{ProofType: "build", Summary: "build failed", ExitCode: 1, ArtifactIDs: []string{a.ID},
			FailedDirs: []string{"backend"}}}
		done, err := db.FinishVerification(ctx, running)
		if err != nil || done.State != store.VerificationFailed || len(done.Steps) != 1 || done.Steps[0].FailedDirs[0] != "backend" {
			t.Fatalf("finish: %+v, %v", done, err)
		}
		if _, err := db.FinishVerification(ctx, running); !errors.Is(err, store.ErrFinished) {
			t.Fatalf("finishing twice: %v", err)
		}
		if _, err := db.StartVerification(ctx, v.ID, "worker", "x", nil, "local"); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("starting an ended one: %v", err)
		}
		got, err := db.Artifact(ctx, "p1", a.ID)
		if err != nil || !bytes.Equal(got.Content, log) || got.VerificationID != v.ID {
			t.Fatalf("artifact: %+v, %v", got, err)
		}
		if _, err := db.Artifact(ctx, "p2", a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another project's artifact: %v", err)
		}
		// Its size without its content (a reused verification names it).
		info, err := db.ArtifactInfo(ctx, "p1", a.ID)
		if err != nil || info.Size != int64(len(log)) || info.Content != nil || info.Kind != got.Kind || info.MediaType != got.MediaType {
			t.Fatalf("artifact info: %+v, %v", info, err)
		}
		if _, err := db.ArtifactInfo(ctx, "p2", a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another project's artifact info: %v", err)
		}
		// Once it ended, the gate may be verified again; the latest is the new one.
		next, err := db.CreateVerification(ctx, newVerification("p1", 5))
		if err != nil {
			t.Fatal(err)
		}
		latest, err := db.LatestVerification(ctx, "p1", 5, 0)
		if err != nil || latest.ID != next.ID {
			t.Fatalf("latest: %+v, %v (want %s)", latest, err, next.ID)
		}
		if ok, err := db.MarkRepairStarted(ctx, v.ID); !ok || err != nil {
			t.Fatalf("mark repair: %v %v", ok, err)
		}
		if ok, _ := db.MarkRepairStarted(ctx, v.ID); ok {
			t.Fatal("a repair marked twice")
		}
		list, err := db.Verifications(ctx, "p1", 5, 50)
		if err != nil || len(list) != 2 || list[0].ID != next.ID || !list[1].RepairStarted {
			t.Fatalf("list: %+v, %v", list, err)
		}
		if all, _ := db.Verifications(ctx, "p1", 0, 50); len(all) != 3 {
			t.Fatalf("all gates: %d verifications, want 3", len(all))
		}
		// A tree that passed is found by its hash; one that failed is not.
		if _, err := db.PassedVerification(ctx, "p1", 5, "sha256:tree"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a failed tree found as passed: %v", err)
		}
		if next, err = db.ClaimVerification(ctx, next.ID, "worker", time.Now(), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := db.StartVerification(ctx, next.ID, "worker", "sha256:good", nil, "local"); err != nil {
			t.Fatal(err)
		}
		next.State, next.EndedAt = store.VerificationPassed, time.Now()
		if _, err := db.FinishVerification(ctx, next); err != nil {
			t.Fatal(err)
		}
		if got, err := db.PassedVerification(ctx, "p1", 5, "sha256:good"); err != nil || got.ID != next.ID {
			t.Fatalf("passed tree: %+v, %v", got, err)
		}
		if _, err := db.PassedVerification(ctx, "p1", 6, "sha256:good"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another gate's tree: %v", err)
		}
	})
}

// A verification whose worker died is ended as an error after the bound, freeing its gate.
func TestStaleVerificationsEnd(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		old := newVerification("p1", 5)
		old.CreatedAt = time.Now().Add(-2 * time.Hour)
		if _, err := db.CreateVerification(ctx, old); err != nil {
			t.Fatal(err)
		}
		fresh := newVerification("p2", 5)
		if _, err := db.CreateVerification(ctx, fresh); err != nil {
			t.Fatal(err)
		}
		projects, err := db.FailStaleVerifications(ctx, time.Now(), time.Hour)
		if err != nil || len(projects) != 1 || projects[0] != "p1" {
			t.Fatalf("stale: %v, %v", projects, err)
		}
		v, _ := db.Verification(ctx, old.ID)
		if v.State != store.VerificationError || v.Error == "" {
			t.Fatalf("stale verification: %+v", v)
		}
		if v, _ := db.Verification(ctx, fresh.ID); v.State != store.VerificationQueued {
			t.Fatalf("fresh verification: %+v", v)
		}
	})
}

// A verification is held by the worker that claimed it: no other takes it while its lease
// lives, only the holder renews or ends it, and one whose lease ran out is queued again with a
// new job for another worker to claim.
func TestVerificationLease(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		const ttl = 30 * time.Second
		v, err := db.CreateVerification(ctx, newVerification("p1", 5))
		if err != nil {
			t.Fatal(err)
		}
		held, err := db.ClaimVerification(ctx, v.ID, "worker-a", now, ttl)
		if err != nil || held.State != store.VerificationRunning || held.LeaseToken != "worker-a" {
			t.Fatalf("claim: %+v, %v", held, err)
		}
		if _, err := db.ClaimVerification(ctx, v.ID, "worker-b", now.Add(ttl/2), ttl); !errors.Is(err, store.ErrLeased) {
			t.Fatalf("a second claim under a live lease: %v", err)
		}
		if err := db.RenewVerificationLease(ctx, v.ID, "worker-b", now, ttl); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("renewal by another worker: %v", err)
		}
		if err := db.RenewVerificationLease(ctx, v.ID, "worker-a", now.Add(ttl/3), ttl); err != nil {
			t.Fatalf("renewal by the holder: %v", err)
		}
		if got, err := db.RequeueExpiredVerifications(ctx, now.Add(ttl)); err != nil || len(got) != 0 {
			t.Fatalf("requeue under a renewed lease: %+v, %v", got, err)
		}
		// The holder stops renewing (it died): past its lease, it is queued again.
		got, err := db.RequeueExpiredVerifications(ctx, now.Add(2*ttl))
		if err != nil || len(got) != 1 || got[0].ID != v.ID || got[0].State != store.VerificationQueued {
			t.Fatalf("requeue after the lease ran out: %+v, %v", got, err)
		}
		taken, err := db.ClaimVerification(ctx, v.ID, "worker-b", now.Add(2*ttl), ttl)
		if err != nil || taken.LeaseToken != "worker-b" {
			t.Fatalf("claim of the requeued one: %+v, %v", taken, err)
		}
		// The first worker, come back, cannot record its tree or release it.
		if _, err := db.StartVerification(ctx, v.ID, "worker-a", "sha256:a", nil, "local"); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("start by the worker that lost it: %v", err)
		}
		if err := db.ReleaseVerification(ctx, v.ID, "worker-a"); err != nil {
			t.Fatal(err)
		}
		// The holder releases it for its job's retry, which claims it at once.
		if err := db.ReleaseVerification(ctx, v.ID, "worker-b"); err != nil {
			t.Fatal(err)
		}
		if taken, err = db.ClaimVerification(ctx, v.ID, "worker-b2", now.Add(2*ttl), ttl); err != nil {
			t.Fatalf("claim after a release: %v", err)
		}
		// The first worker, come back, cannot end it; the holder can, once.
		held.State, held.EndedAt = store.VerificationPassed, now
		if _, err := db.FinishVerification(ctx, held); !errors.Is(err, store.ErrFinished) {
			t.Fatalf("finish by the worker that lost it: %v", err)
		}
		taken.State, taken.EndedAt = store.VerificationPassed, now
		if done, err := db.FinishVerification(ctx, taken); err != nil || done.State != store.VerificationPassed {
			t.Fatalf("finish by the holder: %+v, %v", done, err)
		}
		if _, err := db.ClaimVerification(ctx, v.ID, "worker-c", now.Add(3*ttl), ttl); !errors.Is(err, store.ErrFinished) {
			t.Fatalf("claim of an ended one: %v", err)
		}
	})
}
