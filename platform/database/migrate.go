package database

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// MigratePostgres applies the goose SQL migrations at the root of migrations that pool's database
// has not applied yet. Goose's version table lives in the pool's current schema (the first entry
// of its search_path, see OpenPostgres), so each service tracks its own migrations.
//
// Several processes may migrate the same schema at once: they serialise on a session-level
// advisory lock, and each applies only what is still pending once it holds it.
func MigratePostgres(ctx context.Context, pool *pgxpool.Pool, migrations fs.FS) error {
	// Advisory locks are per database, and services share one: derive the lock id from the schema
	// so that services migrate in parallel and only instances of the same service wait.
	var schema string
	if err := pool.QueryRow(ctx, "SELECT coalesce(current_schema(), '')").Scan(&schema); err != nil {
		return fmt.Errorf("database: migrate postgres: current schema: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("fuzzyllama/goose:" + schema))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64())),
		// Poll every second (goose's default is 5 s) for up to 5 minutes.
		lock.WithLockTimeout(1, 300),
	)
	if err != nil {
		return fmt.Errorf("database: migrate postgres: %w", err)
	}

	// The *sql.DB borrows connections from pool; closing it leaves pool open.
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	if err := migrate(ctx, goose.DialectPostgres, db, migrations, goose.WithSessionLocker(locker)); err != nil {
		return fmt.Errorf("database: migrate postgres schema %s: %w", schema, err)
	}
	return nil
}

// MigrateSQLite applies the goose SQL migrations at the root of migrations that db has not applied
// yet. Unlike MigratePostgres it takes no cross-process lock (goose has none for SQLite): a SQLite
// file belongs to one process, the embedded default, whose *sql.DB has a single connection.
func MigrateSQLite(ctx context.Context, db *sql.DB, migrations fs.FS) error {
	if err := migrate(ctx, goose.DialectSQLite3, db, migrations); err != nil {
		return fmt.Errorf("database: migrate sqlite: %w", err)
	}
	return nil
}

func migrate(ctx context.Context, dialect goose.Dialect, db *sql.DB, migrations fs.FS, opts ...goose.ProviderOption) error {
	// Only the files given: never Go migrations some package registered with goose's globals.
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	p, err := goose.NewProvider(dialect, db, migrations, opts...)
	if err != nil {
		return err
	}
	// p.Close would close db, which belongs to the caller.
	_, err = p.Up(ctx)
	return err
}
