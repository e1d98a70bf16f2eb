package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// OpenSQLite opens (creating it and its directory if needed) the SQLite database file at path.
//
// Every connection runs in WAL mode (readers do not block the writer), with foreign keys enforced,
// synchronous=NORMAL (durable across process crashes; safe in WAL, only a power loss may drop the
// last commits) and a 5 s busy timeout for other processes holding the file.
//
// The pool is limited to one connection. SQLite admits one writer at a time per file: with several
// connections, concurrent writers would contend for the file lock and fail with SQLITE_BUSY
// (instantly, when a deferred transaction cannot upgrade its read lock), whereas one connection
// makes database/sql queue them. The price is that a caller holding a transaction (or rows) must
// not use the *sql.DB itself until it is done, or it waits on itself forever.
func OpenSQLite(path string) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("database: sqlite path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("database: sqlite path %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("database: sqlite directory: %w", err)
	}

	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Transactions take the write lock at BEGIN: a transaction that reads and then writes cannot
	// then fail to upgrade its lock because another process wrote in between.
	q.Set("_txlock", "immediate")
	// A file: URI, so that a path containing '?', '#' or '%' is escaped rather than misread.
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}).String()

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("database: open sqlite %s: %w", abs, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(context.Background()); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("database: open sqlite %s: %w", abs, err)
	}
	return db, nil
}
