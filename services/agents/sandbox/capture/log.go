// Package capture is what both sandbox runners keep of a step: the head of its output, within
// Limits.OutputBytes whatever it prints, and the result files it leaves, read without following
// a symbolic link.
package capture

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// floodFactor is how many times Limits.OutputBytes a step may print before it is stopped: the
// log keeps only the first OutputBytes, so printing much more is a loop gone wrong, and draining
// it would only spend the wall clock.
const floodFactor = 64

// Log keeps the head of a command's combined stdout and stderr and counts the rest. It never
// holds more than keep bytes of output, however much is written. It is safe for concurrent use.
type Log struct {
	mu      sync.Mutex
	buf     []byte
	keep    int
	total   int64
	notes   []string
	flood   int64
	onFlood func(reason string)
	flooded bool
}

// NewLog returns a Log that keeps keep bytes.
func NewLog(keep int64) *Log {
	return &Log{keep: int(keep)}
}

// NewStepLog returns a Log that keeps keep bytes (a step's Limits.OutputBytes) and, once the
// step has printed far more, calls stop once, in a goroutine of its own, with the reason to
// stop the step, a StepResult.Stopped.
func NewStepLog(keep int64, stop func(reason string)) *Log {
	return &Log{keep: int(keep), flood: floodFactor * keep, onFlood: stop}
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total += int64(len(p))
	if room := l.keep - len(l.buf); room > 0 {
		l.buf = append(l.buf, p[:min(room, len(p))]...)
	}
	if l.flood > 0 && l.total > l.flood && !l.flooded {
		l.flooded = true
		if l.onFlood != nil {
			go l.onFlood(fmt.Sprintf("output limit reached: more than %s of output", sandbox.FormatBytes(l.flood)))
		}
	}
	return len(p), nil
}

// Note adds a line of the runner's (one ending in "\n") after the output, kept whatever the
// output was.
func (l *Log) Note(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notes = append(l.notes, line)
}

// Flooded reports whether the step printed so much that it was stopped.
func (l *Log) Flooded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flooded
}

// Bytes is the log: the output when it fits, else its head and a line saying how much was left
// out, then the notes, together at most keep bytes.
func (l *Log) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	notes := strings.Join(l.notes, "")
	if l.total+int64(len(notes)) <= int64(l.keep) {
		return append(append([]byte(nil), l.buf...), notes...)
	}
	cut := func(kept int) string {
		return fmt.Sprintf("\n[output cut: %s in all; the first %s are kept above]\n",
			sandbox.FormatBytes(l.total), sandbox.FormatBytes(int64(kept)))
	}
	// The cut line's length varies by a few bytes with the numbers in it; 8 bytes of slack keep
	// the whole within keep.
	head := l.buf
	kept := max(0, l.keep-len(notes)-len(cut(len(head)))-8)
	for kept > 0 && kept < len(head) && !utf8.RuneStart(head[kept]) {
		kept-- // cut between characters, not inside one
	}
	out := append([]byte(nil), head[:min(kept, len(head))]...)
	out = append(append(out, cut(kept)...), notes...)
	return out[:min(len(out), max(l.keep, 0))]
}
