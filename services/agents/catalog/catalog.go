// Package catalog is the agent catalog as data: the specialised roles that carry a project
// through the nine gates, with the gates and project types each serves, the documents each must
// produce at each gate (with the canonical titles that make a re-run add a version instead of a
// duplicate), its system prompt, default model and queue priority.
//
// The gate and deliverable rules themselves belong to the projects service
// (services/projects/workflow); this package mirrors the part the agents need, and its tests
// check the mirror against a copy of that table.
package catalog

import (
	"slices"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// Role is one specialised agent.
type Role struct {
	ID           string // role word, e.g. "product_manager" (commonv1.AgentRole without prefix)
	Name         string // e.g. "Product Manager"
	Summary      string // one line on what the role does
	SystemPrompt string // complete: the role's instructions followed by OutputContract
	Gates        []int  // the gates the role works at, ascending
	ProjectTypes []string
	// Outputs maps a gate to the documents the role must produce there, with canonical titles
	// (a developer's code is source files: a spec with Files).
	Outputs map[int][]provider.DocSpec
	// SourceDir is the directory of the repository a developer's files go under unless the
	// architecture lays the repository out otherwise ("" for the roles that write no code).
	SourceDir    string
	DefaultModel string
	MaxTokens    int
	Priority     int // PriorityCritical … PriorityLow; orders the run queue
}

// Run priorities, most urgent first.
const (
	PriorityCritical = 1
	PriorityHigh     = 2
	PriorityMedium   = 3
	PriorityLow      = 4
)

// Project types, as the words of commonv1.ProjectType.
const (
	Traditional = "traditional"
	AIML        = "ai_ml"
	Hybrid      = "hybrid"
	Enhancement = "enhancement"
)

// ProjectTypes lists every project type.
func ProjectTypes() []string { return []string{Traditional, AIML, Hybrid, Enhancement} }

// GateCount is the number of gates of every workflow.
const GateCount = 9

var gateNames = [GateCount + 1]string{1: "Scope", "PRD", "Architecture", "Design", "Development",
	"Testing", "Security", "Staging", "Production"}

// GateName returns the name of gate n (1-9), "" for any other n.
func GateName(n int) string {
	if n < 1 || n > GateCount {
		return ""
	}
	return gateNames[n]
}

// All returns every role in a stable order (the orchestrator first, then in the order the
// roles first work). The roles are copies: changing them does not change the catalog.
func All() []Role {
	out := make([]Role, len(roles))
	for i, r := range roles {
		out[i] = r.clone()
	}
	return out
}

// Get returns the role with the given word.
func Get(id string) (Role, bool) {
	i := slices.IndexFunc(roles, func(r Role) bool { return r.ID == id })
	if i < 0 {
		return Role{}, false
	}
	return roles[i].clone(), true
}

// Serves reports whether the role works at the gate for the project type.
func (r Role) Serves(gate int, projectType string) bool {
	return slices.Contains(r.Gates, gate) && slices.Contains(r.ProjectTypes, projectType)
}

// OutputsFor returns the documents the role must produce at the gate (nil if none), as a copy.
func (r Role) OutputsFor(gate int) []provider.DocSpec {
	return slices.Clone(r.Outputs[gate])
}

func (r Role) clone() Role {
	c := r
	c.Gates = slices.Clone(r.Gates)
	c.ProjectTypes = slices.Clone(r.ProjectTypes)
	c.Outputs = make(map[int][]provider.DocSpec, len(r.Outputs))
	for g, specs := range r.Outputs {
		c.Outputs[g] = slices.Clone(specs)
	}
	return c
}
