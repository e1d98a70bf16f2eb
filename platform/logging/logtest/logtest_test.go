package logtest

import (
	"log/slog"
	"testing"
)

func TestBufferKeepsJSONRecords(t *testing.T) {
	var b Buffer
	log := slog.New(slog.NewJSONHandler(&b, nil))
	log.Warn("database unavailable", "error", "connection refused")
	log.Info("database available again")
	b.Write([]byte("not json\n"))
	log.Warn("redis unavailable")

	if got := len(b.Records()); got != 3 {
		t.Fatalf("records: %d, want 3 (the line that is not JSON skipped)", got)
	}
	if got := b.Matching("WARN", "database"); len(got) != 1 || got[0]["error"] != "connection refused" {
		t.Fatalf("WARN about the database: %v", got)
	}
	if got := b.Matching("WARN"); len(got) != 2 {
		t.Fatalf("every WARN: %v", got)
	}
	if got := b.Matching("ERROR"); len(got) != 0 {
		t.Fatalf("ERROR: %v", got)
	}
}
