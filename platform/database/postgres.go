package database

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// schemaName is what OpenPostgres accepts as a schema: a lower-case identifier that PostgreSQL
// folds to itself, so it means the same thing quoted (CREATE SCHEMA) and unquoted (search_path).
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// OpenPostgres connects a pool to the PostgreSQL database at url (postgres://user:pass@host:port/db
// or keyword/value form), creates schema in it if missing, and makes schema the only entry of
// every pooled connection's search_path, so a service's unqualified table names resolve to its own
// schema. A search_path given in url is overridden.
func OpenPostgres(ctx context.Context, url, schema string) (*pgxpool.Pool, error) {
	if !schemaName.MatchString(schema) || strings.HasPrefix(schema, "pg_") {
		return nil, fmt.Errorf("database: invalid schema name %q: want a lower-case identifier (a-z, 0-9, _), not starting with a digit or pg_, at most 63 characters", schema)
	}
	if strings.TrimSpace(url) == "" {
		// pgx would quietly fall back to PG* environment variables and a local socket.
		return nil, errors.New("database: PostgreSQL URL is empty")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, parseError(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	// A span per query (its SQL, never its arguments), in the trace of the request it serves.
	cfg.ConnConfig.Tracer = otelpgx.NewTracer()

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: postgres pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: ping postgres: %w", err)
	}
	if err := createSchema(ctx, pool, schema); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// createSchema creates schema if it does not exist. Connections already in the pool need no
// refresh: PostgreSQL resolves search_path entries at lookup time, not at SET time.
func createSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	_, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	// IF NOT EXISTS is not atomic: when two processes create the schema at the same moment the
	// loser fails with unique_violation (23505) on the catalog's index, or duplicate_schema
	// (42P06). Either way the schema now exists.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P06") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("database: create schema %s: %w", schema, err)
	}
	return nil
}

// parseError describes why pgx could not parse a connection string without quoting the string:
// pgx masks the password in its message, but only on a best-effort basis for malformed input.
func parseError(err error) error {
	const msg = "database: malformed PostgreSQL URL (want postgres://user:password@host:port/dbname?sslmode=disable)"
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return errors.New(msg)
	}
	// Render pgx's own message with the connection string blanked out; what is left names the
	// malformed part ("invalid port", "sslmode is invalid", ...).
	redacted := *pce
	redacted.ConnString = ""
	reason := strings.TrimPrefix(redacted.Error(), "cannot parse ``: ")
	return fmt.Errorf("%s: %s", msg, reason)
}
