package database_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
)

func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := database.OpenSQLite(path)
	if err != nil {
		t.Fatalf("OpenSQLite(%q): %v", path, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestOpenSQLite(t *testing.T) {
	t.Parallel()
	// A missing parent directory is created, and URI metacharacters in the path are kept.
	path := filepath.Join(t.TempDir(), "new dir", "a?b#c%20.db")
	db := openSQLite(t, path)
	if _, err := db.Exec("CREATE TABLE t (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at the path given: %v", err)
	}

	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"busy_timeout": "5000",
		"foreign_keys": "1",
		"synchronous":  "1", // NORMAL
	} {
		var got string
		if err := db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if n := db.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", n)
	}
}

func TestMigrateSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := dbtest.NewSQLitePath(t)
	db := openSQLite(t, path)

	for range 2 { // the second run finds nothing to do
		if err := database.MigrateSQLite(ctx, db, migrationsV1); err != nil {
			t.Fatal(err)
		}
	}
	v2 := withMigration(migrationsV1, "00003_more.sql", "-- +goose Up\nINSERT INTO items VALUES (3);\n-- +goose Down\nDELETE FROM items WHERE id = 3;\n")
	if err := database.MigrateSQLite(ctx, db, v2); err != nil {
		t.Fatal(err)
	}
	var n, sum int
	if err := db.QueryRow("SELECT count(*), sum(id) FROM items").Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 2 || sum != 4 {
		t.Errorf("items: %d rows summing to %d, want ids 1 and 3", n, sum)
	}

	// The migrations are in the file, not just in this connection.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openSQLite(t, path)
	if err := database.MigrateSQLite(ctx, db, v2); err != nil {
		t.Fatal(err)
	}
}
