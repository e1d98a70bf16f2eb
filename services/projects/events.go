package projects

// Timeline event types and their payloads (stored as JSON, served as the typed oneof of
// fuzzyllama.projects.v1.Event).
const (
	EventProjectChanged      = "project_changed"
	EventMemberChanged       = "member_changed"
	EventGateChanged         = "gate_changed"
	EventDeliverableRecorded = "deliverable_recorded"
	EventProofRecorded       = "proof_recorded"
	EventTasksChanged        = "tasks_changed"
)

// ProjectChanged: created, updated, archived or completed.
type ProjectChanged struct {
	Change string `json:"change"`
	Status string `json:"status"`
}

// Member changes (MemberChanged.Change, served as fuzzyllama.projects.v1.MemberChange).
const (
	MemberAdded       = "added"
	MemberRoleChanged = "role_changed"
	MemberRemoved     = "removed"
)

// MemberChanged: a member was added, changed role, or removed (Role empty). Change says which;
// events stored before it was recorded have none (and may have Added, true for an addition,
// which nothing reads any more).
type MemberChanged struct {
	UserID string `json:"userId"`
	Role   string `json:"role,omitempty"`
	Change string `json:"change,omitempty"`
}

// GateChanged: a gate moved from one state to another.
type GateChanged struct {
	Gate   int    `json:"gate"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
}

// DeliverableRecorded: a document version was recorded for a gate.
type DeliverableRecorded struct {
	Gate         int    `json:"gate"`
	DocumentType string `json:"documentType"`
	DocumentID   string `json:"documentId"`
	Version      int    `json:"version"`
}

// ProofRecorded: evidence was recorded for a gate.
type ProofRecorded struct {
	Gate   int    `json:"gate"`
	Type   string `json:"type"`
	Result string `json:"result"`
}

// TasksChanged: tasks were created or changed status.
type TasksChanged struct {
	TaskIDs []string `json:"taskIds"`
	Change  string   `json:"change"`
	Status  string   `json:"status,omitempty"`
}
