package sse_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/internal/sse"
)

// readAll returns the events of stream as "name|data" strings, and the error that ended it.
func readAll(stream string, max int) ([]string, error) {
	r := sse.NewReader(strings.NewReader(stream), max)
	var got []string
	for {
		ev, err := r.Next()
		if err != nil {
			return got, err
		}
		got = append(got, ev.Name+"|"+string(ev.Data))
	}
}

func TestReader(t *testing.T) {
	for _, tc := range []struct {
		name, stream string
		want         []string
	}{
		{"named events", "event: ping\ndata: {}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", []string{"ping|{}", `message_stop|{"type":"message_stop"}`}},
		{"data only", "data: a\n\ndata: [DONE]\n\n", []string{"|a", "|[DONE]"}},
		{"crlf", "event: x\r\ndata: 1\r\n\r\n", []string{"x|1"}},
		{"multi-line data", "data: a\ndata: b\ndata:c\n\n", []string{"|a\nb\nc"}},
		{"comments and unknown fields", ": keep-alive\nid: 7\nretry: 100\nfoo\ndata: x\n\n", []string{"|x"}},
		{"no data, not dispatched", "event: lonely\n\ndata: y\n\n", []string{"|y"}},
		{"only one leading space stripped", "data:  two\n\n", []string{"| two"}},
		{"byte order mark", "\uFEFFdata: x\n\n", []string{"|x"}},
		{"unterminated event discarded", "data: complete\n\ndata: {\"cut", []string{"|complete"}},
		{"blank lines between", "\n\n\ndata: z\n\n\n", []string{"|z"}},
	} {
		got, err := readAll(tc.stream, 1<<10)
		if err != io.EOF {
			t.Errorf("%s: err = %v, want io.EOF", tc.name, err)
		}
		if strings.Join(got, ";") != strings.Join(tc.want, ";") {
			t.Errorf("%s: events = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestReaderLimits(t *testing.T) {
	for _, tc := range []struct{ name, stream string }{
		{"long line", "data: " + strings.Repeat("x", 200) + "\n\n"},
		{"long line without end", "data: " + strings.Repeat("x", 10_000)},
		{"many data lines", strings.Repeat("data: 0123456789\n", 20) + "\n"},
	} {
		if _, err := readAll(tc.stream, 100); !errors.Is(err, sse.ErrTooLong) {
			t.Errorf("%s: err = %v, want ErrTooLong", tc.name, err)
		}
	}
	if got, err := readAll("data: "+strings.Repeat("x", 94)+"\n\n", 100); err != io.EOF || len(got) != 1 {
		t.Errorf("a line at the limit: %v, %v; want it read", got, err)
	}
}

func TestReaderPassesReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	r := sse.NewReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b"), errReader{boom}), 100)
	if ev, err := r.Next(); err != nil || string(ev.Data) != "a" {
		t.Fatalf("first event = %q, %v", ev.Data, err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the read error", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
