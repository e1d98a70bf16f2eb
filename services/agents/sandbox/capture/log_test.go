package capture

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLogKeepsWhatFits(t *testing.T) {
	l := NewLog(100)
	l.Write([]byte("hello\n"))
	l.Note("[sandbox: a note]\n")
	if got := string(l.Bytes()); got != "hello\n[sandbox: a note]\n" {
		t.Errorf("log %q", got)
	}
}

// A long output is cut between characters, says how much there was, and keeps its notes, all
// within the limit.
func TestLogCutsWithinTheLimit(t *testing.T) {
	for _, keep := range []int64{0, 10, 90, 200, 4096} {
		l := NewLog(keep)
		for range 1000 {
			l.Write([]byte("ééééé\n"))
		}
		l.Note("[sandbox: the end]\n")
		got := l.Bytes()
		if int64(len(got)) > keep {
			t.Errorf("keep %d: %d bytes", keep, len(got))
		}
		if keep >= 200 && (!bytes.Contains(got, []byte("\n[output cut: 10.7 KiB in all; the first ")) || !bytes.HasSuffix(got, []byte("[sandbox: the end]\n")) || !utf8.Valid(got)) {
			t.Errorf("keep %d: log %q", keep, got)
		}
	}
}

func TestLogStopsAFlood(t *testing.T) {
	reasons := make(chan string, 2)
	l := NewStepLog(10, func(reason string) { reasons <- reason })
	chunk := []byte(strings.Repeat("x", 100))
	for range 7 { // 700 bytes: more than 64 × 10
		l.Write(chunk)
	}
	if got := <-reasons; got != "output limit reached: more than 640 B of output" || !l.Flooded() {
		t.Errorf("reason %q, flooded %v", got, l.Flooded())
	}
	l.Write(chunk)
	select {
	case r := <-reasons:
		t.Errorf("stopped twice (%q)", r)
	default:
	}
	if n := len(l.Bytes()); n > 10 {
		t.Errorf("%d bytes kept", n)
	}
}
