package postgres_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store/postgres"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store/storetest"
)

func open(tb testing.TB) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), dbtest.NewPostgres(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// openTraced returns a store on a pool of one connection, traced, and the pool.
func openTraced(t *testing.T) (*postgres.Store, *dbtest.Tracer, *pgxpool.Pool) {
	t.Helper()
	pool, tr := dbtest.TracedPool(t, postgres.Schema)
	s, err := postgres.New(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, tr, pool
}

// seed fills the tables with enough rows, of realistic shape, for the planner to prefer indexes
// where they pay: 200 projects of 50 documents with 3 versions each, and 50 idempotency keys.
func seed(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for _, sql := range []string{
		`INSERT INTO documents (id, project_id, gate, type, title, title_key, created_by, created_at, latest_version)
		 SELECT 'd' || p || '-' || d, 'p' || p, 1 + d % 9, (ARRAY['architecture','api_spec','code','design'])[1 + d % 4],
		        'Title ' || d, 'title ' || d, 'ada', now(), 3
		 FROM generate_series(1, 200) p, generate_series(1, 50) d`,
		`INSERT INTO versions (document_id, number, project_id, content, content_hash, size, author_user_id, agent_run_id, agent_role,
		        change_note, created_at)
		 SELECT 'd' || p || '-' || d, v, 'p' || p, convert_to(repeat('content ', 50), 'UTF8'), 'sha256:x', 400, 'ada', '', '', '', now()
		 FROM generate_series(1, 3) v, generate_series(1, 200) p, generate_series(1, 50) d ORDER BY v, p, d`,
		// An agent run leaves a key per batch it stores.
		`INSERT INTO idempotency_keys (project_id, key, request_hash, result, created_at)
		 SELECT 'p' || p, 'run-' || r, 'hash', convert_to('{}', 'UTF8'), now() FROM generate_series(1, 200) p, generate_series(1, 50) r`,
		`ANALYZE`,
	} {
		if _, err := pool.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

func TestQueryPlansUseIndexes(t *testing.T) {
	s, tr, pool := openTraced(t)
	ctx := t.Context()
	seed(t, pool)
	const project = "p7"
	for _, tc := range []struct {
		name    string
		call    func() error
		indexes []string
	}{
		{"Documents", func() error { _, err := s.Documents(ctx, project, store.DocumentFilter{Limit: 21}); return err },
			[]string{"documents_project_type_title_key", "versions_pkey"}},
		{"Documents(after)", func() error {
			_, err := s.Documents(ctx, project, store.DocumentFilter{After: &store.DocumentCursor{Type: "code", TitleKey: "title 3"}, Limit: 21})
			return err
		}, []string{"documents_project_type_title_key"}},
		{"Documents(gate)", func() error {
			_, err := s.Documents(ctx, project, store.DocumentFilter{Gate: 3, Limit: 21})
			return err
		},
			[]string{"documents_project_gate_idx"}},
		// The filter is on the latest version each listed document joins anyway.
		{"Documents(changedSince)", func() error {
			_, err := s.Documents(ctx, project, store.DocumentFilter{ChangedSince: time.Now().Add(-time.Minute), Limit: 21})
			return err
		}, []string{"documents_project_type_title_key", "versions_pkey"}},
		{"DocumentsByKey", func() error {
			_, err := s.DocumentsByKey(ctx, project, []store.DocumentKey{{Type: "code", TitleKey: "title 2"}, {Type: "design", TitleKey: "title 3"}})
			return err
		}, []string{"documents_project_type_title_key"}},
		{"Document", func() error { _, err := s.Document(ctx, project, "d7-3", true); return err }, []string{"documents_pkey", "versions_pkey"}},
		{"Version", func() error { _, err := s.Version(ctx, project, "d7-3", 2); return err }, []string{"versions_pkey"}},
		{"Versions", func() error { _, err := s.Versions(ctx, project, "d7-3", 3, 10); return err }, []string{"versions_pkey"}},
		{"History", func() error { _, err := s.History(ctx, project, 100, 0, 16); return err }, []string{"versions_project_seq_idx"}},
		{"Contents", func() error {
			_, err := s.Contents(ctx, project, []store.VersionRef{{DocumentID: "d7-3", Number: 1}, {DocumentID: "d7-4", Number: 3}})
			return err
		}, []string{"versions_pkey"}},
		{"Idempotent", func() error { _, err := s.Idempotent(ctx, project, "k"); return err }, []string{"idempotency_keys_pkey"}},
	} {
		var err error
		statements, _ := tr.Record(func() { err = tc.call() })
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(statements) != 1 {
			t.Fatalf("%s ran %d statements, want 1", tc.name, len(statements))
		}
		plan := dbtest.Explain(t, pool, statements[0])
		t.Logf("%s:\n%s", tc.name, plan)
		if strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s reads a whole table:\n%s", tc.name, plan)
		}
		for _, index := range tc.indexes {
			scan := regexp.MustCompile(`(Index|Index Only|Bitmap Index) Scan( Backward)? (using|on) ` + regexp.QuoteMeta(index) + `\b`)
			if !scan.MatchString(plan) {
				t.Errorf("%s does not scan %s:\n%s", tc.name, index, plan)
			}
		}
	}
}
