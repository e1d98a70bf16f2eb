// Package store is the agents service's database: runs, their streamed output, the projects the
// orchestration moves, gate allowances, and the River job queue that executes runs — all in one
// database, so that a run and its job are inserted in one transaction.
//
// Unlike the other services, the store is one SQL implementation over database/sql for both
// PostgreSQL (pgx's stdlib driver, with River's database/sql driver and a pgx listener for
// LISTEN/NOTIFY) and SQLite (modernc, with River's SQLite driver): River's two drivers share the
// transaction type *sql.Tx, and the queries here are plain enough to be the same text on both
// ($n placeholders, times as microseconds). The dialects differ only in their migrations.
package store

import (
	"errors"
	"time"
)

// Run states.
const (
	StateQueued    = "queued"
	StateRunning   = "running"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
)

// Errors the store returns.
var (
	ErrNotFound = errors.New("store: not found")
	// ErrFinished: the run has finished (or was cancelled) and cannot change any more.
	ErrFinished = errors.New("store: run has finished")
)

// Run is one execution of an agent role at a gate.
type Run struct {
	ID           string
	ProjectID    string
	Gate         int
	Role         string
	Revision     int
	State        string
	Priority     int
	Instructions string
	Feedback     string
	UserID       string
	// Automatic runs were started by the orchestration, not by a person.
	Automatic    bool
	Model        string
	Attempt      int
	MaxAttempts  int
	InputTokens  int64
	OutputTokens int64
	CostMicros   int64
	Unpriced     bool
	Offline      bool // the offline provider answered: no model ran, and the usage is zero
	Error        string
	Output       string // filled in by Run, not by lists
	Result       Result
	JobID        int64
	CreatedAt    time.Time
	StartedAt    time.Time // zero until the first attempt starts
	EndedAt      time.Time // zero until the run finishes
	// WaitingSince is when the run began waiting for one of FuzzyLlama's own services to come
	// back; zero when it is not waiting.
	WaitingSince time.Time
	// Rescues counts the times the run was handed on after its worker stopped; RescuedAt is the
	// last (zero if never).
	Rescues   int
	RescuedAt time.Time
}

// Active reports whether the run may still change.
func (r Run) Active() bool { return r.State == StateQueued || r.State == StateRunning }

// Result is what the run's output produced, recorded step by step so that processing the output
// again after a crash repeats no step that was done.
type Result struct {
	Documents    []Document `json:"documents,omitempty"`
	Deliverables []string   `json:"deliverables,omitempty"`
	NextRoles    []string   `json:"nextRoles,omitempty"`
	Notes        string     `json:"notes,omitempty"`
	TasksCreated int        `json:"tasksCreated,omitempty"`
	// Steps done: documents stored, tasks created, proof recorded.
	DocumentsStored bool `json:"documentsStored,omitempty"`
	TasksStored     bool `json:"tasksStored,omitempty"`
	ProofRecorded   bool `json:"proofRecorded,omitempty"`
	TasksAdvanced   bool `json:"tasksAdvanced,omitempty"` // the run's tasks marked done (tasks.go)
}

// Document is a document version a run stored.
type Document struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	Version int    `json:"version"`
}

// Chunk is a piece of an attempt's output.
type Chunk struct {
	Attempt int
	Seq     int64
	Text    string
}

// Work is a project whose gates the orchestration moves, for the user who started it.
type Work struct {
	ProjectID   string
	UserID      string
	CreatedAt   time.Time
	CompletedAt time.Time
}

// Allowance is what a gate had spent, and how many runs each role had, when it was last seen
// blocked: after the owner unblocks it, budgets and re-run caps count from there.
type Allowance struct {
	ProjectID   string
	Gate        int
	TokensSpent int64
	CostSpent   int64
	RoleRuns    map[string]int
	// AcknowledgedAt: runs that ended before it had failed while the owner could see it; once
	// the gate is unblocked, their roles run again.
	AcknowledgedAt time.Time
}

// Totals sums runs' usage.
type Totals struct {
	InputTokens  int64
	OutputTokens int64
	CostMicros   int64
	Runs         int
	Unpriced     int
	Offline      int // runs the offline provider answered: they add no tokens and no cost
}

// Tokens is input plus output tokens.
func (t Totals) Tokens() int64 { return t.InputTokens + t.OutputTokens }

// GroupTotals is the usage of one gate, one role or one model.
type GroupTotals struct {
	Gate  int    // when grouped by gate
	Role  string // when grouped by role
	Model string // when grouped by model
	Totals
}

// RunJob is the job that executes a run.
type RunJob struct {
	RunID string `json:"runId"`
}

// Kind implements river.JobArgs.
func (RunJob) Kind() string { return "agent_run" }

// ReconcileJob brings a project's gates and runs in line with each other (see the service's
// orchestration).
type ReconcileJob struct {
	ProjectID string `json:"projectId"`
}

// Kind implements river.JobArgs.
func (ReconcileJob) Kind() string { return "reconcile_project" }

// SweepJob enqueues a reconcile of every project in progress: the safety net for nudges lost
// on the way (the event bus is not durable).
type SweepJob struct{}

// Kind implements river.JobArgs.
func (SweepJob) Kind() string { return "sweep_projects" }
