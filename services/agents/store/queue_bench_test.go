package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// signalWorker tells the benchmark when a run's job reaches a worker.
type signalWorker struct {
	river.WorkerDefaults[store.RunJob]
	started chan string
}

func (w *signalWorker) Work(_ context.Context, job *river.Job[store.RunJob]) error {
	w.started <- job.Args.RunID
	return nil
}

// BenchmarkQueueToStart measures the time from CreateRun (the run and its job committed) to a
// worker starting it, one run at a time, with the poll interval the product defaults to. On
// PostgreSQL the insert notifies the workers (LISTEN/NOTIFY); on SQLite they poll.
func BenchmarkQueueToStart(b *testing.B) {
	for name, open := range map[string]func(q store.QueueConfig) (*store.DB, error){
		"postgres": func(q store.QueueConfig) (*store.DB, error) {
			return store.OpenPostgres(context.Background(), dbtest.NewPostgres(b), q)
		},
		"sqlite": func(q store.QueueConfig) (*store.DB, error) {
			return store.OpenSQLite(context.Background(), dbtest.NewSQLitePath(b), q)
		},
	} {
		b.Run(name, func(b *testing.B) {
			workers := river.NewWorkers()
			w := &signalWorker{started: make(chan string, 1)}
			river.AddWorker(workers, w)
			db, err := open(store.QueueConfig{Workers: workers, MaxWorkers: 4, JobTimeout: time.Minute, RescueAfter: time.Hour,
				PollInterval: 250 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			if err := db.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = db.Stop(context.Background()); cancel(); _ = db.Close() })
			time.Sleep(time.Second) // let the client elect a leader and settle
			b.ResetTimer()
			for i := range b.N {
				r := newRun("p1", 1+i%9, "product_manager")
				r.ProjectID = r.ID // a new (project, gate, role) each time
				if _, _, err := db.CreateRun(ctx, r); err != nil {
					b.Fatal(err)
				}
				if got := <-w.started; got != r.ID {
					b.Fatalf("worker started %s, want %s", got, r.ID)
				}
			}
		})
	}
}
