package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/fuzzyllama/fuzzyllama/platform/database/sqlitex"
)

// IsUnavailable reports whether err means the database cannot be reached right now, as opposed
// to a fault of the query or of the data: the caller should then answer Unavailable (try again
// shortly), not Internal. It is true for
//
//   - a failed PostgreSQL connection attempt (refused, unreachable, timed out, the server
//     starting up or shutting down), except a refused login or a missing database, which are
//     configuration faults that retrying does not mend;
//   - a connection lost mid-use (network errors, an unexpected EOF, pgx's "conn closed");
//   - PostgreSQL's connection_exception class (08), admin_shutdown, crash_shutdown and
//     cannot_connect_now (57P01–57P03), and too_many_connections (53300);
//   - database/sql's bad or closed connections;
//   - SQLite's busy and locked (the file stayed locked past the busy timeout).
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableSQLState(pgErr.Code)
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true // a PgError inside (a refused login) was handled above
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller's own deadline or hang-up, whatever the database's state
	}
	switch sqlitex.ErrorCode(err) & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone)
}

// unavailableSQLState reports whether a PostgreSQL error code means the server cannot serve
// now rather than that the statement is wrong.
func unavailableSQLState(code string) bool {
	switch code {
	case "57P01", // admin_shutdown: the server is stopping (or the connection was terminated)
		"57P02", // crash_shutdown: another backend crashed, the server restarts
		"57P03", // cannot_connect_now: starting up, shutting down, or in recovery
		"53300": // too_many_connections
		return true
	}
	return len(code) == 5 && code[:2] == "08" // connection_exception and its subclasses
}
