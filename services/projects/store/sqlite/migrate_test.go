package sqlite_test

import (
	"context"
	"os"
	"testing"
	"testing/fstest"

	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/sqlite"
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
	path := dbtest.NewSQLitePath(t)
	db, err := database.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := database.MigrateSQLite(ctx, db, someMigrations(t, "00001_init.sql", "00002_notifications.sql")); err != nil {
		t.Fatal(err)
	}
	const day = int64(86_400_000_000) // microseconds
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO projects VALUES ('p', 'P', '', 'traditional', '', 'ada', 'active', 1, 0, 0)`, nil},
		{`INSERT INTO gates VALUES ('p', 1, 'in_progress', '', '', 2, 0, 0)`, nil},
		{`INSERT INTO reviews (id, project_id, gate, decision, reviewer_id, notes, deliverables, proofs, created_at)
		  VALUES ('r1', 'p', 1, 'changes_requested', 'ada', 'more', '[]', '[]', ?), ('r2', 'p', 1, 'changes_requested', 'ada', 'again', '[]', '[]', ?)`,
			[]any{2 * day, 2*day + day/2}},
		{`INSERT INTO deliverables VALUES ('p', 1, 'intake', 'old', 1, 'h1', 1, 'ada', ?), ('p', 1, 'other', 'twice', 1, 'h2', 1, 'ada', ?),
		  ('p', 1, 'requirements', 'twice', 2, 'h3', 1, 'ada', ?)`, []any{day, day, 3 * day}},
		{`INSERT INTO proofs (id, project_id, gate, type, result, summary, produced_by, attested, created_at)
		  VALUES ('before', 'p', 1, 'lint', 'pass', 'ok', 'ada', 1, ?), ('after', 'p', 1, 'lint', 'pass', 'ok', 'ada', 1, ?)`, []any{day, 3 * day}},
		// q's G1 went to review, after a request for changes, with evidence of before it.
		{`INSERT INTO projects VALUES ('q', 'Q', '', 'traditional', '', 'ada', 'active', 1, 0, 0)`, nil},
		{`INSERT INTO gates VALUES ('q', 1, 'in_review', '', '', 1, 0, 0)`, nil},
		{`INSERT INTO reviews (id, project_id, gate, decision, reviewer_id, notes, deliverables, proofs, created_at)
		  VALUES ('r3', 'q', 1, 'changes_requested', 'ada', 'more', '[]', '[]', ?)`, []any{2 * day}},
		{`INSERT INTO deliverables VALUES ('q', 1, 'intake', 'qi', 1, 'h4', 1, 'ada', ?)`, []any{day}},
		{`INSERT INTO proofs (id, project_id, gate, type, result, summary, produced_by, attested, created_at)
		  VALUES ('q-before', 'q', 1, 'lint', 'pass', 'ok', 'ada', 1, ?)`, []any{day}},
	} {
		if _, err := db.ExecContext(ctx, stmt.sql, stmt.args...); err != nil {
			t.Fatalf("%s: %v", stmt.sql, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	delivs := storetest.MigratedGateEvidence(t, s)
	// Keyed by document now: the same document again replaces its record.
	d := delivs[1]
	d.Version = 3
	if err := s.PutDeliverable(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Deliverables(ctx, "p", 1); len(got) != 2 || got[1].Version != 3 {
		t.Fatalf("after a new version: %+v", got)
	}
}

// TestMigrationKeepsEventsMadeInPerson: events recorded before 00005 have no actor service.
func TestMigrationKeepsEventsMadeInPerson(t *testing.T) {
	ctx := context.Background()
	path := dbtest.NewSQLitePath(t)
	db, err := database.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := database.MigrateSQLite(ctx, db, someMigrations(t, "00001_init.sql", "00002_notifications.sql",
		"00003_gate_evidence.sql", "00004_task_keys.sql")); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`INSERT INTO projects VALUES ('e', 'E', '', 'traditional', '', 'ada', 'active', 1, 0, 0)`,
		`INSERT INTO events (project_id, actor_id, type, payload, created_at) VALUES ('e', 'ada', 'gate_changed', '{"gate":1}', 0)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.MigratedEvents(t, s)
}

// TestMigrationLeavesEarlierProofsWithoutRun: proofs, and the reviews' snapshots of proofs,
// recorded before 00006 ran nothing.
func TestMigrationLeavesEarlierProofsWithoutRun(t *testing.T) {
	ctx := context.Background()
	path := dbtest.NewSQLitePath(t)
	db, err := database.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := database.MigrateSQLite(ctx, db, someMigrations(t, "00001_init.sql", "00002_notifications.sql",
		"00003_gate_evidence.sql", "00004_task_keys.sql", "00005_event_actor_service.sql")); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`INSERT INTO projects VALUES ('r', 'R', '', 'traditional', '', 'ada', 'active', 1, 0, 0)`,
		`INSERT INTO gates VALUES ('r', 1, 'in_progress', '', '', 0, 0, 0)`,
		`INSERT INTO proofs (id, project_id, gate, type, result, summary, produced_by, attested, created_at)
		 VALUES ('old', 'r', 1, 'lint', 'pass', 'ok', 'ada', 1, 0)`,
		`INSERT INTO reviews (id, project_id, gate, decision, reviewer_id, notes, deliverables, proofs, created_at)
		 VALUES ('rv', 'r', 1, 'changes_requested', 'ada', 'more', '[]', '[{"ID":"old","Type":"lint"}]', 0)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.MigratedProofRuns(t, s)
}
