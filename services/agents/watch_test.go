package agents

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// openProjects lets every caller read and write every project.
type openProjects struct{ Projects }

func (openProjects) Authorize(_ context.Context, projectID string, _ bool) (Project, error) {
	return Project{ID: projectID, Type: "traditional", Role: "owner"}, nil
}

func sqliteStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), dbtest.NewSQLitePath(t), store.QueueConfig{JobTimeout: time.Minute,
		RescueAfter: time.Hour, PollInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// goroutinesIn counts the goroutines whose stack mentions fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

// TestSlowWatcherFreesItsSubscription: a watcher whose client is slow (its send blocks while the
// run streams) and then goes away frees its bus subscription, though it never read what the
// bus had buffered for it.
func TestSlowWatcherFreesItsSubscription(t *testing.T) {
	rdb, prefix := redistest.New(t)
	bus := &eventbus.Bus{Redis: rdb, Keys: prefix}
	db := sqliteStore(t)
	s := &Service{Store: db, Projects: openProjects{}, Bus: bus, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	r, _, err := db.CreateRun(ctx, store.Run{ID: uuid.NewString(), ProjectID: "p1", Gate: 1, Role: "orchestrator", UserID: "u1",
		Model: "offline", MaxAttempts: 1, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	before := goroutinesIn("eventbus.subscribe")

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	release := make(chan struct{})
	firstSent := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		sent := 0
		done <- s.WatchRun(wctx, "p1", r.ID, func(Watched) error {
			sent++
			if sent == 1 {
				close(firstSent)
				return nil
			}
			<-release // the client reads slowly...
			return errors.New("client went away")
		})
	}()
	<-firstSent
	// The run streams on: 300 chunks (the second one blocks the slow client's send).
	for i := 1; i <= 300; i++ {
		s.publishChunk(ctx, r.ID, store.Chunk{Attempt: 0, Seq: int64(i), Text: "x"})
	}
	time.Sleep(500 * time.Millisecond) // let Redis deliver them
	cancel()
	close(release) // ...and then disconnects
	if err := <-done; err == nil {
		t.Fatal("WatchRun returned nil, want the client's error")
	}
	deadline := time.Now().Add(3 * time.Second)
	for goroutinesIn("eventbus.subscribe") > before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := goroutinesIn("eventbus.subscribe") - before; n > 0 {
		t.Fatalf("%d eventbus subscription goroutine(s) still running after the watcher ended", n)
	}
}
