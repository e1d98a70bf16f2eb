package postgres_test

import (
	"context"
	"os"
	"testing"
	"testing/fstest"

	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/postgres"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/storetest"
)

// someMigrations are the named migrations of this package, as goose reads them.
func someMigrations(t *testing.T, names ...string) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	for _, name := range names {
		b, err := os.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = &fstest.MapFile{Data: b}
	}
	return out
}

// TestMigrationBindsEvidenceToRevisions: evidence recorded before 00003 belongs to the revision
// of its time (the requests for changes of its gate before it), and a document recorded under
// two types keeps its later record, so that the deliverables can be keyed by document.
func TestMigrationBindsEvidenceToRevisions(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.NewPool(t, postgres.Schema, nil)
	if err := database.MigratePostgres(ctx, pool, someMigrations(t, "00001_init.sql", "00002_notifications.sql")); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`INSERT INTO projects VALUES ('p', 'P', '', 'traditional', '', 'ada', 'active', 1, '2025-01-01', '2025-01-01')`,
		`INSERT INTO gates VALUES ('p', 1, 'in_progress', '', '', 2, '2025-01-01', '2025-01-04')`,
		`INSERT INTO reviews (id, project_id, gate, decision, reviewer_id, notes, deliverables, proofs, created_at)
		 VALUES ('r1', 'p', 1, 'changes_requested', 'ada', 'more', '[]', '[]', '2025-01-02')`,
		`INSERT INTO reviews (id, project_id, gate, decision, reviewer_id, notes, deliverables, proofs, created_at)
		 VALUES ('r2', 'p', 1, 'changes_requested', 'ada', 'again', '[]', '[]', '2025-01-02 12:00')`,
		`INSERT INTO deliverables VALUES ('p', 1, 'intake', 'old', 1, 'h1', true, 'ada', '2025-01-01')`,
		`INSERT INTO deliverables VALUES ('p', 1, 'other', 'twice', 1, 'h2', true, 'ada', '2025-01-01')`,
		`INSERT INTO deliverables VALUES ('p', 1, 'requirements', 'twice', 2, 'h3', true, 'ada', '2025-01-03')`,
		`INSERT INTO proofs (id, project_id, gate, type, result, summary, produced_by, attested, created_at)
		 VALUES ('before', 'p', 1, 'lint', 'pass', 'ok', 'ada', true, '2025-01-01'),
		        ('after', 'p', 1, 'lint', 'pass', 'ok', 'ada', true, '2025-01-03')`,
		// q's G1 went to review, after a request for changes, with evidence of before it.
		`INSERT INTO projects VALUES ('q', 'Q', '', 'traditional', '', 'ada', 'active', 1, '2025-01-01', '2025-01-01')`,
		`INSERT INTO gates VALUES ('q', 1, 'in_review', '', '', 1, '2025-01-01', '2025-01-04')`,
		`INSERT INTO reviews (id, project_id, gate, decision, reviewer_id, notes, deliverables, proofs, created_at)
		 VALUES ('r3', 'q', 1, 'changes_requested', 'ada', 'more', '[]', '[]', '2025-01-02')`,
		`INSERT INTO deliverables VALUES ('q', 1, 'intake', 'qi', 1, 'h4', true, 'ada', '2025-01-01')`,
		`INSERT INTO proofs (id, project_id, gate, type, result, summary, produced_by, attested, created_at)
		 VALUES ('q-before', 'q', 1, 'lint', 'pass', 'ok', 'ada', true, '2025-01-01')`,
	} {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s, err := postgres.New(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	storetest.MigratedGateEvidence(t, s)
}

// TestMigrationKeepsEventsMadeInPerson: events recorded before 00005 have no actor service.
func TestMigrationKeepsEventsMadeInPerson(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.NewPool(t, postgres.Schema, nil)
	if err := database.MigratePostgres(ctx, pool, someMigrations(t, "00001_init.sql", "00002_notifications.sql",
		"00003_gate_evidence.sql", "00004_task_keys.sql")); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`INSERT INTO projects VALUES ('e', 'E', '', 'traditional', '', 'ada', 'active', 1, '2025-01-01', '2025-01-01')`,
		`INSERT INTO events (project_id, actor_id, type, payload, created_at) VALUES ('e', 'ada', 'gate_changed', '{"gate":1}', '2025-01-01')`,
	} {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s, err := postgres.New(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	storetest.MigratedEvents(t, s)
}

// TestMigrationLeavesEarlierProofsWithoutRun: proofs, and the reviews' snapshots of proofs,
// recorded before 00006 ran nothing.
func TestMigrationLeavesEarlierProofsWithoutRun(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.NewPool(t, postgres.Schema, nil)
	if err := database.MigratePostgres(ctx, pool, someMigrations(t, "00001_init.sql", "00002_notifications.sql",
		"00003_gate_evidence.sql", "00004_task_keys.sql", "00005_event_actor_service.sql")); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`INSERT INTO projects VALUES ('r', 'R', '', 'traditional', '', 'ada', 'active', 1, '2025-01-01', '2025-01-01')`,
		`INSERT INTO gates VALUES ('r', 1, 'in_progress', '', '', 0, '2025-01-01', '2025-01-01')`,
		`INSERT INTO proofs (id, project_id, gate, type, result, summary, produced_by, attested, created_at)
		 VALUES ('old', 'r', 1, 'lint', 'pass', 'ok', 'ada', true, '2025-01-01')`,
		`INSERT INTO reviews (id, project_id, gate, decision, reviewer_id, notes, deliverables, proofs, created_at)
		 VALUES ('rv', 'r', 1, 'changes_requested', 'ada', 'more', '[]', '[{"ID":"old","Type":"lint"}]', '2025-01-02')`,
	} {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s, err := postgres.New(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	storetest.MigratedProofRuns(t, s)
}
