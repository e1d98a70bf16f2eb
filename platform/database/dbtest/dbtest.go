// Package dbtest gives each test a database of its own: a fresh, empty PostgreSQL database on the
// server at TEST_DATABASE_URL (by default the local one), dropped when the test ends, or a SQLite
// file path in the test's temporary directory.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the PostgreSQL server used when TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL returns the URL of the PostgreSQL server tests use. Its database is only connected to, to
// create and drop the per-test databases.
func URL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewPostgres creates an empty database named t_<random hex> on the test server and returns its
// URL (the server URL with the database swapped). The database is dropped, even with sessions
// still connected, when the test ends. The test fails at once, with a clear message, if the
// server cannot be reached.
func NewPostgres(t testing.TB) string {
	t.Helper()
	server, err := url.Parse(URL())
	if err != nil || (server.Scheme != "postgres" && server.Scheme != "postgresql") {
		t.Fatal("dbtest: TEST_DATABASE_URL must be a postgres:// URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server.String())
	if err != nil {
		t.Fatalf("tests need PostgreSQL: cannot connect to %s (set TEST_DATABASE_URL to a server where the user may CREATE DATABASE, default %s): %v",
			server.Redacted(), DefaultURL, err)
	}
	defer conn.Close(context.Background())

	name := "t_" + randomHex(8)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("dbtest: create database %s on %s: %v", name, server.Redacted(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server.String())
		if err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		// FORCE ends sessions a test left open (a pool not closed, a leaked connection).
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})

	db := *server
	db.Path = "/" + name
	return db.String()
}

// NewSQLitePath returns the path of a SQLite database file, not yet created, in a directory that
// is removed when the test ends.
func NewSQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "test.db")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Tracer is a pgx tracer that records the statements run on its connections: queries, each
// query of a batch, and preparations (a round trip of their own). Tests set it as a pool's
// ConnConfig.Tracer to count what an operation costs.
type Tracer struct {
	mu         sync.Mutex
	statements []Statement
	prepares   int
}

// Statement is one statement a Tracer saw.
type Statement struct {
	SQL  string
	Args []any
}

// TraceQueryStart implements pgx.QueryTracer.
func (tr *Tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.statements = append(tr.statements, Statement{data.SQL, data.Args})
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (*Tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart implements pgx.BatchTracer.
func (*Tracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer.
func (tr *Tracer) TraceBatchQuery(_ context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.statements = append(tr.statements, Statement{data.SQL, data.Args})
}

// TraceBatchEnd implements pgx.BatchTracer.
func (*Tracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TracePrepareStart implements pgx.PrepareTracer.
func (tr *Tracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.prepares++
	return ctx
}

// TracePrepareEnd implements pgx.PrepareTracer.
func (*Tracer) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// Record returns the statements and preparations fn ran.
func (tr *Tracer) Record(fn func()) (statements []Statement, prepares int) {
	tr.mu.Lock()
	tr.statements, tr.prepares = nil, 0
	tr.mu.Unlock()
	fn()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.statements, tr.prepares
}

// Explain returns the plan PostgreSQL chooses for the statement, with its arguments.
func Explain(t testing.TB, pool *pgxpool.Pool, st Statement) string {
	t.Helper()
	var lines []string
	rows, err := pool.Query(context.Background(), "EXPLAIN (FORMAT TEXT) "+st.SQL, st.Args...)
	if err == nil {
		lines, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", st.SQL, err)
	}
	return strings.Join(lines, "\n")
}

// NewPool returns a pool on a new database (NewPostgres) whose connections use schema, created
// and first on their search_path as in production, after configure has adjusted the pool's
// configuration (a tracer, a connection limit). The pool is closed when the test ends unless
// the caller hands it to something that closes it first (closing twice is harmless).
func NewPool(tb testing.TB, schema string, configure func(*pgxpool.Config)) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(NewPostgres(tb))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	if configure != nil {
		configure(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	if _, err := pool.Exec(context.Background(), "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatal(err)
	}
	return pool
}

// TracedPool is NewPool with one connection (so its statement cache warms up and every
// statement is seen in order) traced by the returned Tracer.
func TracedPool(tb testing.TB, schema string) (*pgxpool.Pool, *Tracer) {
	tb.Helper()
	tr := &Tracer{}
	return NewPool(tb, schema, func(cfg *pgxpool.Config) {
		cfg.MaxConns = 1
		cfg.ConnConfig.Tracer = tr
	}), tr
}
