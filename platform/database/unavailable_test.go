package database_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
)

// TestIsUnavailableOnPostgresOutage: a PostgreSQL server that stops mid-use and one that is not
// there at all are unavailable; once it is back the same pool works again, and a fault of the
// statement is never taken for an outage.
func TestIsUnavailableOnPostgresOutage(t *testing.T) {
	pg := dbtest.NewPrivatePostgres(t)
	ctx := context.Background()
	pool, err := database.OpenPostgres(ctx, pg.URL, "outage")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	// A connection held across the stop meets admin_shutdown or a closed socket.
	held, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}

	for name, err := range map[string]error{
		"syntax error":      execErr(ctx, pool, "SELEC 1"),
		"unique violation":  execErr(ctx, pool, "INSERT INTO t VALUES (1), (1)"),
		"canceled":          canceledErr(pool),
		"no error":          nil,
		"refused login":     connectErr(ctx, fmt.Sprintf("postgres://nobody@%s/postgres?sslmode=disable", hostPort(pool))),
		"missing database":  connectErr(ctx, fmt.Sprintf("postgres://postgres@%s/no_such_db?sslmode=disable", hostPort(pool))),
		"wrapped by caller": fmt.Errorf("load project: %w", execErr(ctx, pool, "SELECT 1/0")),
	} {
		if database.IsUnavailable(err) {
			t.Errorf("%s (%v): IsUnavailable = true while the server is up", name, err)
		}
	}

	pg.Stop()
	_, heldErr := held.Exec(ctx, "SELECT 1")
	held.Release()
	for name, err := range map[string]error{
		"held connection": heldErr,
		"pooled query":    fmt.Errorf("list projects: %w", execErr(ctx, pool, "SELECT 1")),
		"new pool":        connectErr(ctx, pg.URL),
		"ping":            pool.Ping(ctx),
		"opening":         openErr(ctx, pg.URL),
	} {
		if !database.IsUnavailable(err) {
			t.Errorf("%s: IsUnavailable(%v) = false while the server is stopped", name, err)
		}
		t.Logf("%s: %v", name, err)
	}

	pg.Start()
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("the pool did not recover once the server was back: %v", err)
	}
}

// TestIsUnavailableOnSQLiteBusy: a SQLite file locked by another writer past the busy timeout
// is unavailable for now.
func TestIsUnavailableOnSQLiteBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	dsn := "file:" + path + "?_pragma=busy_timeout(10)&_txlock=immediate"
	holder, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	other, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	if _, err := holder.ExecContext(ctx, "CREATE TABLE t (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	tx, err := holder.BeginTx(ctx, nil) // takes the write lock at BEGIN (_txlock=immediate)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()

	_, err = other.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	if !database.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false for a write meeting a held lock", err)
	}
	if _, err := other.ExecContext(ctx, "SELEC 1"); database.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = true for a syntax error", err)
	}
}

func execErr(ctx context.Context, pool *pgxpool.Pool, stmt string) error {
	_, err := pool.Exec(ctx, stmt)
	return err
}

func canceledErr(pool *pgxpool.Pool) error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := pool.Exec(ctx, "SELECT pg_sleep(1)")
	return err
}

func connectErr(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, url)
	if err == nil {
		_ = conn.Close(ctx)
	}
	return err
}

func openErr(ctx context.Context, url string) error {
	pool, err := database.OpenPostgres(ctx, url, "outage")
	if err == nil {
		pool.Close()
	}
	return err
}

func hostPort(pool *pgxpool.Pool) string {
	c := pool.Config().ConnConfig
	return fmt.Sprintf("%s:%d", c.Host, c.Port)
}
