package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/outage"
)

// quietDuringOutage is the job queue's (River's) log handler. While the database is down River
// reports it at ERROR, again at every poll, listen and cleanup (several lines a second); the
// outage is the process's database outage log's to report, once. So a warning or error that
// is a database outage, or that comes while one is going on, is recorded in that log and
// lowered to DEBUG. Anything else passes unchanged.
type quietDuringOutage struct {
	next     slog.Handler
	database *outage.Log
}

func (h *quietDuringOutage) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *quietDuringOutage) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		if err := outageIn(r); err != nil {
			h.database.Down(ctx, err)
		}
		if h.database.IsDown() {
			r.Level = slog.LevelDebug
			if !h.next.Enabled(ctx, r.Level) {
				return nil
			}
		}
	}
	return h.next.Handle(ctx, r)
}

func (h *quietDuringOutage) WithAttrs(as []slog.Attr) slog.Handler {
	return &quietDuringOutage{next: h.next.WithAttrs(as), database: h.database}
}

func (h *quietDuringOutage) WithGroup(name string) slog.Handler {
	return &quietDuringOutage{next: h.next.WithGroup(name), database: h.database}
}

// outageIn returns the database outage a record reports, if any: an error attribute that
// database.IsUnavailable recognises or, since River reports some errors only as their text,
// an "err" or "error" string in pgx's words for one (a refused or failed connection, an
// administrator or crash shutdown, a server not accepting connections yet).
func outageIn(r slog.Record) (found error) {
	r.Attrs(func(a slog.Attr) bool {
		switch v := a.Value.Any().(type) {
		case error:
			if database.IsUnavailable(v) {
				found = v
			}
		case string:
			if (a.Key == "err" || a.Key == "error") && outageText(v) {
				found = errors.New(v)
			}
		}
		return found == nil
	})
	return found
}

var outageTexts = []string{"failed to connect to", "(SQLSTATE 57P01)", "(SQLSTATE 57P02)", "(SQLSTATE 57P03)", "conn closed", "unexpected EOF"}

func outageText(s string) bool {
	for _, t := range outageTexts {
		if strings.Contains(s, t) {
			return true
		}
	}
	return false
}
