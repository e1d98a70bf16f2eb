package bwrap

import (
	"fmt"
	"sync"
	"unicode/utf8"
)

// floodFactor is how many times Limits.OutputBytes a step may print before it is stopped: the
// log keeps only the first OutputBytes, so printing much more is a loop gone wrong, and draining
// it would only spend the wall clock.
const floodFactor = 64

// outputLog keeps the head of a step's combined stdout and stderr and counts the rest. It never
// holds more than keep bytes, however much is written; past flood bytes it calls onFlood once.
type outputLog struct {
	mu      sync.Mutex
	buf     []byte
	keep    int
	total   int64
	flood   int64
	onFlood func()
	flooded bool
}

func newOutputLog(keep, flood int64, onFlood func()) *outputLog {
	return &outputLog{keep: int(keep), flood: flood, onFlood: onFlood}
}

func (l *outputLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total += int64(len(p))
	if room := l.keep - len(l.buf); room > 0 {
		l.buf = append(l.buf, p[:min(room, len(p))]...)
	}
	if l.flood > 0 && l.total > l.flood && !l.flooded {
		l.flooded = true
		if l.onFlood != nil {
			go l.onFlood()
		}
	}
	return len(p), nil
}

// Flooded reports whether more than the flood threshold was written.
func (l *outputLog) Flooded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flooded
}

// Bytes is the log: everything written when it fit, else its head and a note saying how much
// was left out, together at most keep bytes.
func (l *outputLog) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total <= int64(l.keep) {
		return append([]byte(nil), l.buf...)
	}
	head := l.buf
	note := func(kept int) string {
		return fmt.Sprintf("\n[output cut: %s in all; the first %s are kept above]\n",
			formatBytes(l.total), formatBytes(int64(kept)))
	}
	// The note's length varies by a few bytes with the number in it; 8 bytes of slack keep the
	// whole within keep.
	kept := max(0, l.keep-len(note(len(head)))-8)
	for kept > 0 && kept < len(head) && !utf8.RuneStart(head[kept]) {
		kept-- // cut between characters, not inside one
	}
	out := append([]byte(nil), head[:min(kept, len(head))]...)
	return append(out, note(kept)...)
}

// formatBytes writes n the way limits are spoken of: "256 MiB", "1.5 GiB", "900 B".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	suffix := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}[exp]
	if n%div == 0 {
		return fmt.Sprintf("%d %s", n/div, suffix)
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
