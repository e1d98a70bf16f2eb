// Package sse reads server-sent events (the text/event-stream format both vendors stream in),
// with a limit on line and event size so that a hostile or broken server cannot exhaust memory.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrTooLong is returned when a line or an event's data exceeds the reader's limit.
var ErrTooLong = errors.New("sse: line or event too long")

// Event is one dispatched server-sent event.
type Event struct {
	// Name is the event field ("message_start"), "" when the server sent none, as OpenAI does.
	Name string
	// Data is the event's data lines joined by "\n". It is only valid until the next call to
	// Next, which reuses the buffer.
	Data []byte
}

// Reader reads events from a stream. Lines may end in "\n" or "\r\n"; a bare "\r" line ending,
// which no vendor sends, is not recognised.
type Reader struct {
	lines     *bufio.Scanner
	max       int
	firstLine bool
	name      string
	data      []byte
	hasData   bool
}

// NewReader returns a Reader that refuses lines and event data longer than max bytes.
func NewReader(r io.Reader, max int) *Reader {
	lines := bufio.NewScanner(r)
	// The scanner needs room for the line terminator beyond the longest accepted line.
	lines.Buffer(make([]byte, 0, min(4096, max+2)), max+2)
	return &Reader{lines: lines, max: max, firstLine: true}
}

// Next returns the next event. At the end of the stream it returns io.EOF, discarding an event
// that was not terminated by a blank line, as the format requires: a stream cut mid-event must
// not look like a complete event.
func (r *Reader) Next() (Event, error) {
	r.name, r.data, r.hasData = "", r.data[:0], false
	for r.lines.Scan() {
		line := r.lines.Bytes()
		if r.firstLine {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
			r.firstLine = false
		}
		if len(line) > r.max {
			return Event{}, ErrTooLong
		}
		if len(line) == 0 {
			if r.hasData {
				return Event{Name: r.name, Data: r.data}, nil
			}
			r.name = "" // an event without data is not dispatched
			continue
		}
		if err := r.field(line); err != nil {
			return Event{}, err
		}
	}
	if err := r.lines.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Event{}, ErrTooLong
		}
		return Event{}, err
	}
	return Event{}, io.EOF
}

// field applies one "name: value" line to the event being built.
func (r *Reader) field(line []byte) error {
	if line[0] == ':' {
		return nil // a comment, sent by some servers as a keep-alive
	}
	name, value, _ := bytes.Cut(line, []byte(":"))
	value = bytes.TrimPrefix(value, []byte(" "))
	switch string(name) {
	case "event":
		r.name = string(value)
	case "data":
		if r.hasData {
			r.data = append(r.data, '\n')
		}
		if len(r.data)+len(value) > r.max {
			return fmt.Errorf("%w: event data over %d bytes", ErrTooLong, r.max)
		}
		r.data = append(r.data, value...)
		r.hasData = true
	}
	// id and retry only matter to a reconnecting browser; other fields are ignored by the spec.
	return nil
}
