// Package store is the persistence boundary of the projects service: projects, members, gates
// with their deliverables, proofs and reviews, tasks with dependencies, the event timeline, and
// the users' notifications made from it.
// Two implementations satisfy Store — postgres (pgx/v5, production) and sqlite (modernc, the
// embedded default) — and both must pass the storetest conformance suite.
//
// Values are plain Go types; enumerations are stored as the lower-case strings of the constants
// below. The store enforces identity and referential integrity; every other rule (who may do
// what, which transitions are legal) belongs to the domain service.
package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound: the row does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: a row with the same key exists.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrConflict: a compare-and-set found a different state than expected (a lost race).
	ErrConflict = errors.New("store: conflict")
)

// Project statuses.
const (
	StatusActive    = "active"
	StatusCompleted = "completed"
	StatusArchived  = "archived"
)

// Member roles.
const (
	RoleOwner  = "owner"
	RoleEditor = "editor"
	RoleViewer = "viewer"
)

// Project is a project. Type is "traditional", "ai_ml", "hybrid" or "enhancement".
type Project struct {
	ID            string
	Name          string
	Description   string
	Type          string
	RepositoryURL string
	OwnerID       string
	Status        string
	CurrentGate   int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ProjectWithRole is a project as one member sees it.
type ProjectWithRole struct {
	Project
	Role string
}

// Member is a user's role in a project.
type Member struct {
	ProjectID string
	UserID    string
	Role      string
	CreatedAt time.Time
}

// Gate is one of a project's gates (Number 1-9). State is one of the domain's gate states
// ("pending", "in_progress", "in_review", "approved", "changes_requested", "blocked");
// BlockedFrom is the state a blocked gate returns to when unblocked.
type Gate struct {
	ProjectID     string
	Number        int
	State         string
	BlockedReason string
	BlockedFrom   string
	// Revision counts the requests for changes.
	Revision  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Deliverable is the latest recorded version of one document for a gate: a gate has one
// deliverable per producing document (the frontend's and the backend's code are two).
type Deliverable struct {
	ProjectID    string
	Gate         int
	DocumentType string
	DocumentID   string
	Version      int
	ContentHash  string
	Complete     bool
	RecordedBy   string
	UpdatedAt    time.Time
	// Revision is the gate's revision when it was recorded.
	Revision int
}

// Proof is evidence recorded for a gate. Result is "pass", "fail" or "warning".
type Proof struct {
	ID         string
	ProjectID  string
	Gate       int
	Type       string
	Result     string
	Summary    string
	ProducedBy string
	// Attested: recorded by a person, not produced by a tool.
	Attested  bool
	CreatedAt time.Time
	// Revision is the gate's revision when it was recorded.
	Revision int
	// DeliverablesHash is the digest of the gate's deliverables of that revision when it was
	// recorded: the content it speaks for. Empty for proofs recorded before proofs were bound
	// to content.
	DeliverablesHash string
	// Run is how a FuzzyLlama service obtained the proof by running the project's code; nil for
	// a person's attestation and for a check that ran nothing.
	Run *ProofRun
}

// ProofRun is a command run on a source tree, as the service that ran it reported it. It is kept
// as given, as JSON with these names (in its column and in review snapshots).
type ProofRun struct {
	// TreeHash is the content hash of the source tree that ran ("sha256:…").
	TreeHash string `json:"tree_hash"`
	Command  string `json:"command"`
	// ExitCode is the first failing command's, 0 when all passed, -1 when the sandbox stopped it.
	ExitCode   int   `json:"exit_code"`
	DurationMS int64 `json:"duration_ms"`
	// Artifacts are what the run left to look at (its log, a screenshot), served by the agents
	// service.
	Artifacts []ProofArtifact `json:"artifacts"`
	// Runner is which runner ran it ("local", "kubernetes").
	Runner string `json:"runner"`
}

// ProofArtifact is a file a run left. Kind is "log" or "screenshot".
type ProofArtifact struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	MediaType string `json:"media_type"`
	SizeBytes int64  `json:"size_bytes"`
}

// Review is the immutable record of a decision on a gate ("approved" or
// "changes_requested"), with a snapshot of what was reviewed.
type Review struct {
	ID           string
	ProjectID    string
	Gate         int
	Decision     string
	ReviewerID   string
	Notes        string
	Deliverables []Deliverable
	Proofs       []Proof
	CreatedAt    time.Time
	// Revision is the gate's revision that was reviewed.
	Revision int
}

// Task is a unit of work. Status is "todo", "in_progress", "done" or "blocked"; Priority is
// "low", "medium", "high" or "critical"; DependsOn holds ids of tasks of the same project.
type Task struct {
	ID        string
	ProjectID string
	// Key is the key it was created with, unique within its batch only ("" for none).
	Key         string
	Gate        int
	Title       string
	Description string
	OwnerRole   string
	Status      string
	Priority    string
	DependsOn   []string
	// Position is its place in the project's task list: insertion order; opaque to clients.
	// Filled in by Tasks and Task; CreateTasks ignores it.
	Position  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TaskFilter narrows Tasks.
type TaskFilter struct {
	// Gate, when non-zero, keeps the tasks of that gate.
	Gate int
	// ReadyOnly keeps tasks that can be worked on now: not done, not blocked, and whose
	// dependencies are all done.
	ReadyOnly bool
	// After, when non-zero, keeps the tasks listed after the task at this Position (0 = from the
	// start).
	After int64
	// Limit, when non-zero, returns at most that many tasks.
	Limit int
}

// TaskSelection names the tasks of one gate that SetTasksStatus changes.
type TaskSelection struct {
	Gate int
	// OwnerRole, when not empty, keeps the tasks it owns.
	OwnerRole string
	// Keys, when not nil, keeps the tasks with one of these keys.
	Keys []string
	// From keeps the tasks in one of these statuses.
	From []string
}

// TaskCounts count a project's tasks.
type TaskCounts struct {
	Total, Done int
}

// Event is one entry of a project's timeline. Type names the payload's kind; Payload is its
// JSON encoding, which the store keeps as given.
type Event struct {
	ID        int64
	ProjectID string
	// ActorID is the user who made the change; ActorService the FuzzyLlama service that made it
	// for them with a delegated token ("agents", "documents"), empty when they acted in person.
	ActorID      string
	ActorService string
	Type         string
	Payload      []byte
	CreatedAt    time.Time
}

// Notification is news for one user about a project, made from one of its timeline events
// (EventID). Kind is one of the domain's notification kinds ("gate_ready_for_review", ...).
type Notification struct {
	ID        int64
	UserID    string
	ProjectID string
	// ProjectName is the project's name when the notification was made.
	ProjectName string
	Kind        string
	Message     string
	// Gate is the gate it is about, 0 when it is about none.
	Gate      int
	EventID   int64
	CreatedAt time.Time
	// ReadAt is when the user marked it read; zero while it is unread.
	ReadAt time.Time
}

// EventFilter narrows and orders Events.
type EventFilter struct {
	// NewestFirst lists in descending id order (a timeline read back from its end); otherwise in
	// id order (a client catching up).
	NewestFirst bool
	// After and Before, when non-zero, keep the events with a greater, and a smaller, id.
	After, Before int64
	// Limit is the most to return; 0 returns none.
	Limit int
}

// NotificationFilter narrows and orders Notifications.
type NotificationFilter struct {
	// OldestFirst lists in id order (a client catching up); otherwise newest first.
	OldestFirst bool
	// After and Before, when non-zero, keep the notifications with a greater, and a smaller, id.
	After, Before int64
	// UnreadOnly keeps the unread ones.
	UnreadOnly bool
	// Limit is the most to return; 0 returns none.
	Limit int
}

// ProjectCursor marks a position in the newest-first list of projects.
type ProjectCursor struct {
	CreatedAt time.Time
	ID        string
}

// Queries are the operations of the store. Used through Store they run on their own; through
// InTx they run in one transaction.
type Queries interface {
	// CreateProject inserts p. ErrAlreadyExists if the id is taken.
	CreateProject(ctx context.Context, p Project) error
	// ProjectForMember returns the project and the user's role in it, in one query: this is the
	// hottest read of the service. ErrNotFound if the project does not exist or the user is not
	// a member (callers must not be able to tell which). In a transaction on PostgreSQL it locks
	// the project row and shares the membership row, so changes of one project are serialised
	// and a membership cannot be removed under a change in flight (SQLite serialises writers).
	ProjectForMember(ctx context.Context, projectID, userID string) (ProjectWithRole, error)
	// UpdateProject overwrites the mutable fields of p (name, description, repository URL,
	// status, current gate, updated time). ErrNotFound if it does not exist.
	UpdateProject(ctx context.Context, p Project) error
	// DeleteProject deletes the project and everything it owns. ErrNotFound if it does not exist.
	DeleteProject(ctx context.Context, id string) error
	// ProjectsForMember lists the user's projects newest first (created time, then id, both
	// descending), starting after the cursor when one is given, at most limit of them.
	ProjectsForMember(ctx context.Context, userID string, after *ProjectCursor, limit int) ([]ProjectWithRole, error)

	// AddMember inserts m. ErrAlreadyExists if the user is already a member.
	AddMember(ctx context.Context, m Member) error
	// SetMemberRole changes a member's role. ErrNotFound if not a member.
	SetMemberRole(ctx context.Context, projectID, userID, role string) error
	// RemoveMember deletes a membership. ErrNotFound if not a member.
	RemoveMember(ctx context.Context, projectID, userID string) error
	// Members lists a project's members, oldest first.
	Members(ctx context.Context, projectID string) ([]Member, error)

	// CreateGate inserts g. ErrAlreadyExists if the project has that gate.
	CreateGate(ctx context.Context, g Gate) error
	// Gate returns one gate. In a transaction on PostgreSQL it locks the row (FOR UPDATE), so
	// concurrent transitions of one gate are serialised. ErrNotFound if it does not exist.
	Gate(ctx context.Context, projectID string, number int) (Gate, error)
	// Gates lists a project's gates, G1 first.
	Gates(ctx context.Context, projectID string) ([]Gate, error)
	// UpdateGate overwrites state, blocked reason and origin, revision and updated time of g,
	// only if the stored state is still fromState; otherwise ErrConflict (ErrNotFound if there
	// is no such gate).
	UpdateGate(ctx context.Context, g Gate, fromState string) error
	// PutDeliverable inserts or replaces the deliverable of (project, gate, document id).
	// ErrNotFound if the gate does not exist.
	PutDeliverable(ctx context.Context, d Deliverable) error
	// Deliverables lists a gate's deliverables ordered by document type, then document id.
	Deliverables(ctx context.Context, projectID string, gate int) ([]Deliverable, error)
	// AddProof inserts p.
	AddProof(ctx context.Context, p Proof) error
	// Proofs lists a gate's proofs in the order they were added (not by their times, which come
	// from clocks that may disagree).
	Proofs(ctx context.Context, projectID string, gate int) ([]Proof, error)
	// AddReview inserts r with its snapshot. Reviews are never changed or deleted (except with
	// their project).
	AddReview(ctx context.Context, r Review) error
	// Reviews lists a gate's reviews in the order they were added.
	Reviews(ctx context.Context, projectID string, gate int) ([]Review, error)

	// CreateTasks inserts the tasks and their dependencies in a single round trip to the
	// database, whatever their number. ErrAlreadyExists if an id is taken; ErrNotFound if a
	// dependency names no task of the project (neither among these nor already stored).
	CreateTasks(ctx context.Context, tasks []Task) error
	// Tasks lists a project's tasks matching the filter in insertion order (by Position; tasks
	// created together in the order given), with their dependencies.
	Tasks(ctx context.Context, projectID string, f TaskFilter) ([]Task, error)
	// Task returns one task with its dependencies. ErrNotFound if it does not exist.
	Task(ctx context.Context, projectID, id string) (Task, error)
	// SetTaskStatus changes a task's status and updated time. ErrNotFound if it does not exist.
	SetTaskStatus(ctx context.Context, projectID, id, status string, at time.Time) error
	// SetTasksStatus sets status and updated time of the project's tasks that sel selects, in one
	// statement, and returns the ids of those it changed in insertion order.
	SetTasksStatus(ctx context.Context, projectID string, sel TaskSelection, status string, at time.Time) ([]string, error)
	// CountTasks counts the project's tasks and those done.
	CountTasks(ctx context.Context, projectID string) (TaskCounts, error)

	// AppendEvents appends events to their projects' timelines and returns them with their ids
	// set; ids increase in the order given.
	AppendEvents(ctx context.Context, events []Event) ([]Event, error)
	// Events lists a project's events as f says: in id order, or newest first.
	Events(ctx context.Context, projectID string, f EventFilter) ([]Event, error)

	// AddNotifications inserts notifications, unread, in a single round trip to the database
	// whatever their number, and returns them with their ids set; ids increase across all
	// users, in the order given. ErrNotFound if one names no project.
	AddNotifications(ctx context.Context, ns []Notification) ([]Notification, error)
	// Notifications lists a user's notifications matching the filter, in its order.
	Notifications(ctx context.Context, userID string, f NotificationFilter) ([]Notification, error)
	// MarkNotificationsRead marks the user's unread notifications with an id up to upTo (0: all
	// of them) as read at at. Notifications already read keep their time.
	MarkNotificationsRead(ctx context.Context, userID string, upTo int64, at time.Time) error
	// UnreadNotifications counts the user's unread notifications.
	UnreadNotifications(ctx context.Context, userID string) (int, error)
}

// Store is the projects service's database.
type Store interface {
	Queries
	// InTx runs fn in one transaction, committed if fn returns nil and rolled back otherwise.
	// fn must use only the Queries it is given: on SQLite the store has a single connection.
	InTx(ctx context.Context, fn func(q Queries) error) error
	// Ping checks the database answers (readiness).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
