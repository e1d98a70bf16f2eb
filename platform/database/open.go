package database

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
)

// OpenPostgresMigrated opens a pool on the service's schema (OpenPostgres) and applies the goose
// migrations found in dir of fsys (usually an embed.FS of the store package).
func OpenPostgresMigrated(ctx context.Context, url, schema string, fsys fs.FS, dir string) (*pgxpool.Pool, error) {
	pool, err := OpenPostgres(ctx, url, schema)
	if err != nil {
		return nil, err
	}
	if err := MigratePostgresDir(ctx, pool, fsys, dir); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// MigratePostgresDir is MigratePostgres with the migrations found in dir of fsys, for a pool
// opened otherwise than by OpenPostgresMigrated (a tracer, in tests).
func MigratePostgresDir(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, dir string) error {
	migrations, err := fs.Sub(fsys, dir)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return MigratePostgres(ctx, pool, migrations)
}

// OpenSQLiteMigrated opens the SQLite file (OpenSQLite) and applies the goose migrations found
// in dir of fsys.
func OpenSQLiteMigrated(ctx context.Context, path string, fsys fs.FS, dir string) (*sql.DB, error) {
	migrations, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	db, err := OpenSQLite(path)
	if err != nil {
		return nil, err
	}
	if err := MigrateSQLite(ctx, db, migrations); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}
