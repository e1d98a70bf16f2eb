package providertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// floodLimit stops a Flood after this many bytes, so that a client that does not bound its
// memory fails its test rather than exhausting the machine.
const floodLimit = 64 << 20

func (s *Server) stream(w http.ResponseWriter, r *http.Request, script Script, req Request) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	ev := &eventWriter{w: w}
	vs := s.dialect.newStream(ev, script, req, s.Calls())
	vs.begin()

	deltas := split(script.Text, script.Chunks)
	text := func(i int, d string) {
		if i > 0 && script.Delay > 0 {
			select {
			case <-r.Context().Done():
			case <-s.closing:
			case <-time.After(script.Delay):
			}
		}
		vs.text(d)
	}
	if script.Fault == NoFault {
		for i, d := range deltas {
			text(i, d)
		}
		vs.end(script)
		return
	}
	for i, d := range deltas[:min(max(script.FaultAfter, 0), len(deltas))] {
		text(i, d)
	}
	switch script.Fault {
	case MidStreamError:
		vs.fail(script)
	case Drop:
		// ErrAbortHandler makes the server cut the connection without ending the response,
		// which is what a dropped connection looks like to the client.
		panic(http.ErrAbortHandler)
	case EndEarly:
	case Stall:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
	case Flood:
		ev.flood(s.closing)
	}
}

// eventWriter writes server-sent events, flushing each so the client sees it at once.
type eventWriter struct {
	w   http.ResponseWriter
	err error // the first write error: the client went away
}

// send writes one event; name "" writes a data-only event, as OpenAI does.
func (e *eventWriter) send(name, data string) {
	var b strings.Builder
	if name != "" {
		b.WriteString("event: " + name + "\n")
	}
	b.WriteString("data: " + data + "\n\n")
	e.write(b.String())
}

func (e *eventWriter) write(s string) {
	if e.err != nil {
		return
	}
	if _, e.err = e.w.Write([]byte(s)); e.err == nil {
		e.err = http.NewResponseController(e.w).Flush()
	}
}

func (e *eventWriter) flood(closing <-chan struct{}) {
	e.write("data: ")
	block := strings.Repeat("x", 32<<10)
	for written := 0; written < floodLimit && e.err == nil; written += len(block) {
		select {
		case <-closing:
			return
		default:
		}
		e.write(block)
	}
}

// split cuts text into n pieces of about equal length, never inside a UTF-8 sequence.
func split(text string, n int) []string {
	runes := []rune(text)
	n = min(max(n, 1), len(runes))
	parts := make([]string, n)
	for i := range parts {
		parts[i] = string(runes[i*len(runes)/n : (i+1)*len(runes)/n])
	}
	return parts
}

// quote returns s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// textOf reads a content value that is either a string or a list of text blocks, the two
// forms both vendors accept.
func textOf(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &blocks) != nil {
		return "", false
	}
	var b strings.Builder
	for _, bl := range blocks {
		b.WriteString(bl.Text)
	}
	return b.String(), true
}

func newRequest(r *http.Request, body []byte) Request {
	return Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
}
