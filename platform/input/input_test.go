package input

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

// TestCleanPassesCheckText: whatever goes in, what comes out is acceptable text of at most max
// characters, cut on a character boundary.
func TestCleanPassesCheckText(t *testing.T) {
	for _, in := range []string{
		"plain", strings.Repeat("日本語", 500), "nul\x00bell\x07", "bad \xff\xfe utf8", strings.Repeat("é", 1001), "line\nbreak\ttab",
	} {
		out := Clean(in, 1000)
		var v apperr.Violations
		CheckText(&v, "reason", out, false, 1000)
		if err := v.Err(); err != nil || !utf8.ValidString(out) || utf8.RuneCountInString(out) > 1000 {
			t.Errorf("Clean(%.20q) = %.20q: %v", in, out, err)
		}
	}
	if got := Clean("line\nbreak", 100); got != "line\nbreak" {
		t.Errorf("line breaks changed: %q", got)
	}
}
