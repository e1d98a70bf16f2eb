package kubejob

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// What passes between the runner and the driver in the pod (cmd/fuzzyllama-sandbox): the runner
// hands the driver a spec and the tree in the bundle Secret; the driver answers with framed
// lines on its stdout, which the runner reads back from the pod's log.

// Keys of the bundle Secret, mounted at the driver's bundle directory.
const (
	specKey = "spec.json"
	treeKey = "tree.tar.gz"
)

// spec is what the driver does: the fetches (in the fetch pod) or the steps (in the steps pod).
type spec struct {
	Fetches []sandbox.Fetch
	Steps   []sandbox.Step
	Limits  sandbox.Limits
}

// linePrefix starts every line of the driver's protocol. The pod log also holds the driver's
// stderr (a crash's stack), which has other lines; a step's own output never reaches it.
const linePrefix = "fuzzyllama-sandbox "

// line is one line of the protocol: exactly one field is set.
type line struct {
	Fetch *sandbox.FetchResult `json:"fetch,omitempty"`
	// Started is the index of the step the driver is starting, so that a pod stopped during a
	// step (OOM-killed, deadline) says which step it was.
	Started *int                `json:"started,omitempty"`
	Step    *sandbox.StepResult `json:"step,omitempty"`
	// Done ends the protocol: the driver ran all it was given.
	Done bool `json:"done,omitempty"`
}

// encodeLine frames l for the log.
func encodeLine(l line) []byte {
	b, err := json.Marshal(l)
	if err != nil {
		panic(err) // only plain fields: cannot happen
	}
	return append(append([]byte(linePrefix), b...), '\n')
}

// transcript is what a pod's log says it did.
type transcript struct {
	Fetches []sandbox.FetchResult
	Steps   []sandbox.StepResult
	// Running is the index of a step started and never finished (-1 for none).
	Running int
	Done    bool
}

// parseLog reads the driver's lines out of a pod's log. Lines without the prefix are skipped;
// a line with it that does not decode, or results out of order, are errors (the log is not the
// driver's, or was cut).
func parseLog(log []byte) (transcript, error) {
	t := transcript{Running: -1}
	sc := bufio.NewScanner(bytes.NewReader(log))
	// A line carries a step's log, result files and screenshot, base64-encoded.
	sc.Buffer(nil, 64<<20)
	n := 0
	for sc.Scan() {
		n++
		text, ok := strings.CutPrefix(sc.Text(), linePrefix)
		if !ok {
			continue
		}
		if t.Done {
			return t, fmt.Errorf("line %d of the sandbox's log comes after its end", n)
		}
		var l line
		if err := json.Unmarshal([]byte(text), &l); err != nil {
			return t, fmt.Errorf("line %d of the sandbox's log: %w", n, err)
		}
		switch {
		case l.Fetch != nil:
			t.Fetches = append(t.Fetches, *l.Fetch)
		case l.Started != nil:
			if *l.Started != len(t.Steps) || t.Running >= 0 {
				return t, fmt.Errorf("line %d of the sandbox's log starts step %d after %d results", n, *l.Started, len(t.Steps))
			}
			t.Running = *l.Started
		case l.Step != nil:
			if t.Running != len(t.Steps) {
				return t, fmt.Errorf("line %d of the sandbox's log ends a step that was not started", n)
			}
			t.Steps = append(t.Steps, *l.Step)
			t.Running = -1
		case l.Done:
			if t.Running >= 0 {
				return t, fmt.Errorf("line %d of the sandbox's log ends it during step %d", n, t.Running)
			}
			t.Done = true
		default:
			return t, fmt.Errorf("line %d of the sandbox's log says nothing", n)
		}
	}
	if err := sc.Err(); err != nil {
		return t, fmt.Errorf("reading the sandbox's log: %w", err)
	}
	return t, nil
}
