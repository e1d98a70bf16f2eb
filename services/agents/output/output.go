// Package output is the contract between an agent and the platform: the format of a model's
// answer (document blocks, file blocks and one handoff block), its parser with the validation
// every answer must pass before anything is stored, and its renderer.
//
// An answer looks like:
//
//	<document type="requirements" title="Product Requirements Document">
//	...markdown, verbatim...
//	</document>
//	<file path="backend/go.mod">
//	module example.com/backend
//	</file>
//	<handoff>
//	{"deliverables":["requirements","code"],"nextRoles":["architect"],"notes":"…","tasks":[]}
//	</handoff>
//
// Tags stand alone on their lines; text outside the blocks (a model's preamble) is ignored.
// Inside a block only its own closing tag, alone on a line (spaces around it allowed), ends it:
// every other line is content, kept verbatim, even one that looks like a tag. So no line of a
// document can be exactly </document> and no line of a file exactly </file>; nothing escapes
// them, as nothing needs to in Markdown or in source code.
//
// A document's content is the text between its tag lines without the line break before
// </document>. A file's content is its lines, each with its line break: a source file ends with
// one, and an empty block is an empty file. A file is stored as a code document titled with its
// path (see platform/sourcetree for what a path may be).
//
// The limits are those of the services the documents and tasks go to, so a parsed answer is
// never refused downstream for its shape.
package output

import (
	"fmt"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
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

// File is one file of the project's source tree, written in full.
type File struct {
	Path    string // relative to the repository root, "/"-separated (sourcetree.CheckPath)
	Content string // verbatim: its lines, each ending with its line break
}

// Output is a parsed answer.
type Output struct {
	Documents []Document
	Files     []File
	Handoff   Handoff
}

// CodeType is the document type of source files: a file is stored as a code document titled
// with its path, and an answer with files delivers "code".
const CodeType = "code"

// AsDocuments returns what the answer stores: its documents, then each file as a code document
// titled with its path.
func (o Output) AsDocuments() []Document {
	out := make([]Document, 0, len(o.Documents)+len(o.Files))
	out = append(out, o.Documents...)
	for _, f := range o.Files {
		out = append(out, Document{Type: CodeType, Title: f.Path, Content: f.Content})
	}
	return out
}

// Limits of an answer. Titles and task fields match what the documents and projects services
// accept.
const (
	MaxDocuments = 20
	// An answer may hold a whole source tree, never more.
	MaxFiles              = sourcetree.MaxFiles
	MaxFileBytes          = sourcetree.MaxFileBytes
	MaxFilesBytes         = sourcetree.MaxTreeBytes // all files of an answer together
	MaxTitleLen           = 200                     // characters, for document and task titles
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
