// Package output is the contract between an agent and the platform: the format of a model's
// answer (document blocks and one handoff block), its parser with the validation every answer
// must pass before anything is stored, and its renderer.
//
// An answer looks like:
//
//	<document type="requirements" title="Product Requirements Document">
//	...markdown, verbatim...
//	</document>
//	<handoff>
//	{"deliverables":["requirements"],"nextRoles":["architect"],"notes":"…","tasks":[]}
//	</handoff>
//
// Tags stand alone on their lines; text outside the blocks (a model's preamble) is ignored. The
// limits are those of the services the documents and tasks go to, so a parsed answer is never
// refused downstream for its shape.
package output

import (
	"fmt"
	"strings"
)

// Document is one document of an answer.
type Document struct {
	Type    string // document type word, e.g. "requirements"
	Title   string
	Content string // verbatim
}

// Task is one task of a handoff's decomposition. DependsOn names keys of other tasks of the
// same handoff. Gate (0: not named) and OwnerRole ("": not named) say where the task is worked
// on and by whom; the agents service places a task that leaves them out.
type Task struct {
	Key         string   `json:"key"`
	Gate        GateRef  `json:"gate,omitempty"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	OwnerRole   string   `json:"ownerRole"`
	Priority    string   `json:"priority"`
	DependsOn   []string `json:"dependsOn"`
}

// Handoff is what the agent hands to the platform and to the agents after it.
type Handoff struct {
	Deliverables []string `json:"deliverables"` // document types of this answer the agent considers complete
	NextRoles    []string `json:"nextRoles"`    // role words
	Notes        string   `json:"notes"`
	Tasks        []Task   `json:"tasks"`
	// DoneTasks, when present, are the keys of the agent's open tasks (those of its gate and
	// role) that this answer completes: exactly those are marked done, an empty list none.
	// Absent (nil), every task of the agent's gate and role is done when its run succeeds.
	DoneTasks *[]string `json:"doneTasks,omitempty"`
}

// Output is a parsed answer.
type Output struct {
	Documents []Document
	Handoff   Handoff
}

// Limits of an answer. Titles and task fields match what the documents and projects services
// accept.
const (
	MaxDocuments          = 20
	MaxTitleLen           = 200 // characters, for document and task titles
	MaxContentBytes       = 512 << 10
	MaxNotesLen           = 4000 // characters
	MaxTasks              = 100
	MaxTaskDescriptionLen = 4000 // characters
	MaxTaskKeyLen         = 128  // characters: a key may end up where a task id would
	MaxDoneTasks          = 500  // keys in doneTasks: the projects service's bound
	GateCount             = 9
)

// Task priorities; an empty priority means PriorityMedium.
const (
	PriorityLow      = "low"
	PriorityMedium   = "medium"
	PriorityHigh     = "high"
	PriorityCritical = "critical"
)

// Error is a rejected answer, with every problem found (up to a bound), each naming where it is.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0]
	}
	return fmt.Sprintf("%d problems: %s", len(e.Problems), strings.Join(e.Problems, "; "))
}

// maxProblems bounds an Error, so that a huge broken answer gives a readable error in bounded
// time instead of a message as large as the answer.
const maxProblems = 30

// problems collects the problems of one answer.
type problems struct {
	list    []string
	dropped int
}

func (p *problems) add(format string, args ...any) {
	if len(p.list) >= maxProblems {
		p.dropped++
		return
	}
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	list := p.list
	if p.dropped > 0 {
		list = append(list, fmt.Sprintf("… and %d more problems", p.dropped))
	}
	return &Error{Problems: list}
}
