package database_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
)

func openPostgres(t *testing.T, url, schema string) *pgxpool.Pool {
	t.Helper()
	pool, err := database.OpenPostgres(context.Background(), url, schema)
	if err != nil {
		t.Fatalf("OpenPostgres(%q): %v", schema, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestOpenPostgresIsolatesSchemas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewPostgres(t)
	a := openPostgres(t, url, "svc_a")
	b := openPostgres(t, url, "svc_b")

	if _, err := a.Exec(ctx, "CREATE TABLE items (id int); INSERT INTO items VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	var pgErr *pgconn.PgError
	if _, err := b.Exec(ctx, "SELECT * FROM items"); !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
		t.Fatalf("svc_b sees svc_a's table: err = %v, want undefined_table", err)
	}
	// The same name is free in the other schema.
	if _, err := b.Exec(ctx, "CREATE TABLE items (id int)"); err != nil {
		t.Fatal(err)
	}
	for pool, want := range map[*pgxpool.Pool]int{a: 1, b: 0} {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("count = %d, want %d", n, want)
		}
	}

	// Every pooled connection has the search_path, not just the first one.
	var conns []*pgxpool.Conn
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range 3 {
		c, err := a.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var schema string
		if err := c.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			t.Fatal(err)
		}
		if schema != "svc_a" {
			t.Errorf("connection %d: current_schema = %q, want svc_a", len(conns), schema)
		}
	}

	// Opening an existing schema again is fine.
	openPostgres(t, url, "svc_a")
}

func TestOpenPostgresRejectsBadSchema(t *testing.T) {
	t.Parallel()
	for _, schema := range []string{"", "Auth", "a-b", "1a", "pg_auth", `a"b`, "a b", strings.Repeat("a", 64)} {
		// Validation comes first: the URL need not point at a server.
		_, err := database.OpenPostgres(context.Background(), "postgres://u@127.0.0.1:1/db", schema)
		if err == nil || !strings.Contains(err.Error(), "invalid schema name") {
			t.Errorf("schema %q: err = %v, want invalid schema name", schema, err)
		}
	}
}

func TestOpenPostgresBadURL(t *testing.T) {
	t.Parallel()
	const password = "hunter2"
	for _, tc := range []struct{ url, want string }{
		{"", "URL is empty"},
		{"postgres://u:" + password + "@127.0.0.1:notaport/db", "invalid port"},
		{"postgres://u:" + password + "@127.0.0.1/db?sslmode=bogus", "sslmode is invalid"},
		{"postgres://u:" + password + "@ho st/db", "unexpected spaces"},
		{"postgres://u:" + password + "@x@127.0.0.1:x/db", "invalid port"},
		{"host=x password='" + password + `\' x' port=abc`, "invalid port"},
		{"mysql://u:" + password + "@host/db", "malformed PostgreSQL URL"},
		// Well-formed but nothing listens there.
		{"postgres://u:" + password + "@127.0.0.1:1/db?connect_timeout=5", "ping postgres"},
	} {
		_, err := database.OpenPostgres(context.Background(), tc.url, "svc")
		if err == nil {
			t.Errorf("%q: no error", tc.url)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %q, want it to contain %q", tc.url, err, tc.want)
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("%q: err = %q echoes the password", tc.url, err)
		}
	}
}

var migrationsV1 = fstest.MapFS{
	// Neither statement may run twice: a second application would fail or duplicate the row.
	"00001_items.sql": {Data: []byte(`-- +goose Up
CREATE TABLE items (id int PRIMARY KEY);
INSERT INTO items VALUES (1);

-- +goose Down
DROP TABLE items;
`)},
	"00002_tags.sql": {Data: []byte(`-- +goose Up
CREATE TABLE tags (name text PRIMARY KEY);

-- +goose Down
DROP TABLE tags;
`)},
}

func withMigration(fsys fstest.MapFS, name, sql string) fstest.MapFS {
	out := fstest.MapFS{name: {Data: []byte(sql)}}
	for k, v := range fsys {
		out[k] = v
	}
	return out
}

func TestMigratePostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewPostgres(t)
	pool := openPostgres(t, url, "svc")

	for range 2 { // the second run finds nothing to do
		if err := database.MigratePostgres(ctx, pool, migrationsV1); err != nil {
			t.Fatal(err)
		}
	}
	v2 := withMigration(migrationsV1, "00003_more.sql", "-- +goose Up\nINSERT INTO items VALUES (3);\n-- +goose Down\nDELETE FROM items WHERE id = 3;\n")
	if err := database.MigratePostgres(ctx, pool, v2); err != nil {
		t.Fatal(err)
	}
	var ids []int32
	rows, _ := pool.Query(ctx, "SELECT id FROM items ORDER BY id")
	for rows.Next() {
		var id int32
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != 1 || ids[1] != 3 {
		t.Errorf("items = %v, want [1 3]", ids)
	}

	// Goose's bookkeeping is per schema too: another service migrates from scratch.
	other := openPostgres(t, url, "other")
	if err := database.MigratePostgres(ctx, other, migrationsV1); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM other.items").Scan(&n); err != nil || n != 1 {
		t.Errorf("other.items: count = %d, err = %v; want 1 row", n, err)
	}
}

func TestMigratePostgresConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewPostgres(t)

	// Several instances of one service start at once on a fresh database.
	const instances = 4
	var wg sync.WaitGroup
	errs := make(chan error, instances)
	for range instances {
		wg.Go(func() {
			pool, err := database.OpenPostgres(ctx, url, "svc")
			if err != nil {
				errs <- err
				return
			}
			defer pool.Close()
			errs <- database.MigratePostgres(ctx, pool, migrationsV1)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	pool := openPostgres(t, url, "svc")
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&n); err != nil || n != 1 {
		t.Errorf("items: count = %d, err = %v; want 1 row", n, err)
	}
}
