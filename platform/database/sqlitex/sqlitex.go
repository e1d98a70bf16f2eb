// Package sqlitex is what every service's SQLite store needs beyond database/sql: transactions
// on the store's single connection (see database.OpenSQLite), atomic steps inside them, times
// stored as microseconds, row collection and SQLite's error codes.
//
// Times are stored as INTEGER microseconds since the Unix epoch, so they round-trip exactly as
// PostgreSQL's TIMESTAMPTZ columns do: UTC, to the microsecond.
package sqlitex

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	msqlite "modernc.org/sqlite"
)

// DBTX is what queries run on: *sql.DB or *sql.Tx.
type DBTX interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// InTx runs fn in a transaction of db, committed if fn returns nil and rolled back otherwise.
func InTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // after Commit, a no-op
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Atomically runs fn's statements all or none: in a transaction of its own on a *sql.DB or,
// on a *sql.Tx, under a savepoint, so that a failure undoes them without ending the caller's
// transaction (SQLite, unlike PostgreSQL, carries on after a failed statement).
func Atomically(ctx context.Context, db DBTX, fn func(db DBTX) error) error {
	switch db := db.(type) {
	case *sql.DB:
		return InTx(ctx, db, func(tx *sql.Tx) error { return fn(tx) })
	case *sql.Tx:
		if _, err := db.ExecContext(ctx, `SAVEPOINT atomically`); err != nil {
			return err
		}
		if err := fn(db); err != nil {
			_, _ = db.ExecContext(ctx, `ROLLBACK TO atomically`)
			_, _ = db.ExecContext(ctx, `RELEASE atomically`)
			return err
		}
		_, err := db.ExecContext(ctx, `RELEASE atomically`)
		return err
	default:
		panic(fmt.Sprintf("sqlitex: queries on %T", db))
	}
}

// Micros is how a time is stored.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// ScanTime is a scan destination that reads an INTEGER of microseconds into *t, in UTC.
func ScanTime(t *time.Time) sql.Scanner { return timeScanner{t} }

type timeScanner struct{ t *time.Time }

func (s timeScanner) Scan(src any) error {
	us, ok := src.(int64)
	if !ok {
		return fmt.Errorf("sqlitex: time stored as %T, want INTEGER", src)
	}
	*s.t = time.UnixMicro(us).UTC()
	return nil
}

// Scanner is *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Collect scans every row of a query's result (rows, err) with scan.
func Collect[T any](rows *sql.Rows, err error, scan func(Scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ErrorCode returns the extended SQLite result code of err (see modernc.org/sqlite/lib), or 0
// if err is not a SQLite error.
func ErrorCode(err error) int {
	var e *msqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}
