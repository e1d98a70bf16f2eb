package agents

import (
	"context"

	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// Project is what the agents service knows of a project, as the caller may see it.
type Project struct {
	ID          string
	Name        string
	Description string
	Type        string
	Role        string // the caller's role: owner, editor, viewer
	CurrentGate int
	Completed   bool
}

// WorkflowGate is one gate of a project type's workflow.
type WorkflowGate struct {
	Number       int
	Name         string
	Roles        []string
	Deliverables []string
	Proofs       []string
}

// Gate is a project's gate as it stands.
type Gate struct {
	Number   int
	State    string // pending, in_progress, in_review, approved, changes_requested, blocked
	Revision int
	// MissingDeliverables and MissingProofs are what the gate's current revision still lacks
	// to go to review, as the projects service judges it (the same rule its submit applies):
	// deliverable document types, and proof types without a passing proof that still counts.
	MissingDeliverables []string
	MissingProofs       []string
	// ChangeNotes are the notes of the latest request for changes, if any.
	ChangeNotes string
}

// Gate states, as the projects service names them.
const (
	GatePending          = "pending"
	GateInProgress       = "in_progress"
	GateInReview         = "in_review"
	GateApproved         = "approved"
	GateChangesRequested = "changes_requested"
	GateBlocked          = "blocked"
)

// Projects is what the agents service needs of the projects service. Every call is made as the
// identity in ctx: the person calling, or the service acting for the run's user.
type Projects interface {
	// Authorize checks the caller may read (write=false) or write the project.
	Authorize(ctx context.Context, projectID string, write bool) (Project, error)
	Project(ctx context.Context, projectID string) (Project, error)
	SetDescription(ctx context.Context, projectID, description string) error
	Workflow(ctx context.Context, projectType string) ([]WorkflowGate, error)
	Gates(ctx context.Context, projectID string) ([]Gate, error)
	StartGate(ctx context.Context, projectID string, gate int) error
	SubmitGate(ctx context.Context, projectID string, gate int) error
	BlockGate(ctx context.Context, projectID string, gate int, reason string) error
	RecordProof(ctx context.Context, projectID string, gate int, proofType string, pass bool, summary string) error
	// CreateTasks creates the tasks at once; a repeat with the same key creates nothing more.
	CreateTasks(ctx context.Context, projectID string, tasks []NewTask, idempotencyKey string) (int, error)
	// TaskIDs maps the keys of the project's tasks to their ids (the first task of a key).
	TaskIDs(ctx context.Context, projectID string) (map[string]string, error)
	// OpenTasks lists the tasks not done, at most limit, each as one line: its title, key, gate
	// and owner.
	OpenTasks(ctx context.Context, projectID string, limit int) ([]string, error)
	// AdvanceTasks moves the tasks of the gate owned by the role to status ("in_progress" or
	// "done"), only those with the keys when keys is not empty, and returns how many changed;
	// tasks already there, or past it, stay as they are.
	AdvanceTasks(ctx context.Context, projectID string, gate int, role, status string, keys []string) (int, error)
}

// NewTask is a task a run proposes.
type NewTask struct {
	output.Task
	Gate int
}

// Documents is what the agents service needs of the documents service. Its Sources are the
// project's source tree, which a run's prompt shows.
type Documents interface {
	Sources
	// Latest returns the latest version of the project's documents other than its source
	// files, each cut to perDoc bytes and all to total bytes.
	Latest(ctx context.Context, projectID string, perDoc, total int) ([]provider.ContextDocument, error)
	// Store saves a run's documents (its files as code documents titled with their paths) as
	// new versions of documents of the same type and title, in as few batches as the documents
	// service allows; a repeat with the same key stores nothing more and returns what the first
	// did.
	Store(ctx context.Context, r store.Run, docs []output.Document, idempotencyKey string) ([]store.Document, error)
}
