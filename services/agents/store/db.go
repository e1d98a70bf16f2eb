package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"

	"github.com/fuzzyllama/fuzzyllama/platform/database"
)

//go:embed migrations
var migrations embed.FS

// Schema is the agents service's PostgreSQL schema.
const Schema = "agents"

// QueueConfig configures the job queue.
type QueueConfig struct {
	// Workers holds the job workers; they may be added after Open, before Start.
	Workers *river.Workers
	// MaxWorkers is how many jobs this process works at once.
	MaxWorkers int
	// JobTimeout bounds one job; a run that takes longer is cancelled and retried.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before it is taken to belong to a dead
	// worker and given to another.
	RescueAfter time.Duration
	// PollInterval is how often workers look for new jobs when no notification arrives
	// (always, on SQLite).
	PollInterval time.Duration
	// SweepInterval is how often the leader enqueues a SweepJob.
	SweepInterval time.Duration
	Logger        *slog.Logger
}

// DB is the agents store.
type DB struct {
	db    *sql.DB
	queue *river.Client[*sql.Tx]
	close func() error
	loops []func(context.Context)
}

// OpenPostgres opens the store on PostgreSQL, in its own schema, migrating River's tables and
// the store's.
func OpenPostgres(ctx context.Context, url string, q QueueConfig) (*DB, error) {
	pool, err := database.OpenPostgres(ctx, url, Schema)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDBFromPool(pool)
	closeAll := func() error { _ = db.Close(); pool.Close(); return nil }
	d, err := open(ctx, db, riverdatabasesql.NewWithPgxListener(db, pool), q, func(ctx context.Context) error {
		return database.MigratePostgres(ctx, pool, mustSub(migrations, "migrations/postgres"))
	})
	if err != nil {
		_ = closeAll()
		return nil, err
	}
	d.close = closeAll
	return d, nil
}

// OpenSQLite opens the store on the SQLite file at path, migrating River's tables and the
// store's.
func OpenSQLite(ctx context.Context, path string, q QueueConfig) (*DB, error) {
	db, err := database.OpenSQLite(path)
	if err != nil {
		return nil, err
	}
	d, err := open(ctx, db, riversqlite.New(db), q, func(ctx context.Context) error {
		return database.MigrateSQLite(ctx, db, mustSub(migrations, "migrations/sqlite"))
	})
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	d.close = db.Close
	return d, nil
}

func open(ctx context.Context, db *sql.DB, driver riverdriver.Driver[*sql.Tx], q QueueConfig, migrate func(context.Context) error) (*DB, error) {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: q.Logger})
	if err != nil {
		return nil, fmt.Errorf("agents store: river migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("agents store: river migrations: %w", err)
	}
	if err := migrate(ctx); err != nil {
		return nil, fmt.Errorf("agents store: %w", err)
	}
	cfg := &river.Config{
		Logger:               q.Logger,
		JobTimeout:           q.JobTimeout,
		RescueStuckJobsAfter: q.RescueAfter,
		FetchPollInterval:    q.PollInterval,
		// After a notification, workers fetch at most this often: short, since a run waits for it.
		FetchCooldown: min(q.PollInterval, 10*time.Millisecond),
		// Runs count their own attempts (a transient provider failure snoozes the job); River's
		// limit only ends jobs that keep crashing their worker.
		MaxAttempts: 25,
		Workers:     q.Workers,
		// Spans for inserts and work, with the enqueuing request's trace context carried in the
		// job's metadata, so that a run's work links back to the request that started it.
		Plugins: []rivertype.Plugin{otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
			EnableTracePropagation: true, EnableWorkSpanJobKindSuffix: true})},
	}
	if q.Workers != nil {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(q.MaxWorkers, 1)}}
		if q.SweepInterval > 0 {
			cfg.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(q.SweepInterval),
				func() (river.JobArgs, *river.InsertOpts) { return SweepJob{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})}
		}
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("agents store: job queue: %w", err)
	}
	return &DB{db: db, queue: client}, nil
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// WhileWorking adds work that runs beside the queue's workers, from Start until ctx given to
// Start ends (e.g. the rescuer of runs whose worker died). Call it before Start.
func (d *DB) WhileWorking(loop func(context.Context)) { d.loops = append(d.loops, loop) }

// Start starts working jobs, and what WhileWorking added.
func (d *DB) Start(ctx context.Context) error {
	if err := d.queue.Start(ctx); err != nil {
		return err
	}
	for _, loop := range d.loops {
		go loop(ctx)
	}
	return nil
}

// Stop stops working jobs, waiting for running ones until ctx ends, then cancelling them (they
// are retried by another worker: runs are idempotent).
func (d *DB) Stop(ctx context.Context) error {
	soft, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.queue.Stop(soft); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return d.queue.StopAndCancel(ctx)
}

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.db.PingContext(ctx) }

// Close releases the database. Stop the queue first.
func (d *DB) Close() error { return d.close() }

// inTx runs fn in a transaction, committed if it returns nil.
func (d *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
