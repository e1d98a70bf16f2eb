// Package logtest keeps what a process or component logged, for tests that assert on it: how
// often an outage was logged, at which level, and that nothing was logged at ERROR.
package logtest

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
)

// Buffer is an io.Writer, safe for concurrent use, that keeps the lines a JSON slog handler (or
// a process's standard error) wrote.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Records returns each line that is a JSON object, decoded; other lines are skipped.
func (b *Buffer) Records() []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(b.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec != nil {
			out = append(out, rec)
		}
	}
	return out
}

// Matching returns the records logged at level (e.g. "WARN") whose message contains any of
// words (any message when words is empty).
func (b *Buffer) Matching(level string, words ...string) []map[string]any {
	var out []map[string]any
	for _, rec := range b.Records() {
		msg, _ := rec["msg"].(string)
		if rec["level"] != level {
			continue
		}
		if len(words) == 0 || containsAny(msg, words) {
			out = append(out, rec)
		}
	}
	return out
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
