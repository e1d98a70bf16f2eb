package providertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// maxRequestBody bounds what the fake reads of a request.
const maxRequestBody = 16 << 20

// Server is a running fake vendor server, closed when the test ends.
type Server struct {
	// URL is the base URL to configure the client with (for OpenAI it ends in /v1, like the
	// real one).
	URL string

	dialect dialect
	http    *httptest.Server
	closing chan struct{} // closed first on Close, to release stalled streams
	once    sync.Once

	mu       sync.Mutex
	scripts  []Script
	next     int
	requests []Request
}

// NewAnthropic starts a fake Anthropic Messages API. Each valid request takes the next
// script; the last one repeats. It is closed when the test ends.
func NewAnthropic(t testing.TB, scripts ...Script) *Server {
	return newServer(t, anthropicDialect{}, scripts)
}

// NewOpenAI starts a fake OpenAI Chat Completions API. Each valid request takes the next
// script; the last one repeats. It is closed when the test ends.
func NewOpenAI(t testing.TB, scripts ...Script) *Server {
	return newServer(t, openAIDialect{}, scripts)
}

func newServer(t testing.TB, d dialect, scripts []Script) *Server {
	t.Helper()
	if len(scripts) == 0 {
		scripts = []Script{{Text: defaultText}}
	}
	s := &Server{dialect: d, scripts: scripts, closing: make(chan struct{})}
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.http.URL + d.basePath()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, ending any stalled stream. It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.http.Close()
	})
}

// Requests returns the requests received so far, valid or not, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls returns how many requests were received, valid or not.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return // the client went away
	}
	req, reject := newRequest(r, body), &rejection{status: http.StatusRequestEntityTooLarge, msg: "request body too large"}
	if len(body) <= maxRequestBody {
		req, reject = s.dialect.parse(r, body)
	}
	script := s.record(req, reject == nil)
	if reject != nil {
		s.dialect.writeError(w, reject.status, Script{ErrorType: reject.typ, ErrorMessage: reject.msg})
		return
	}
	for k, v := range script.Header {
		w.Header()[k] = v
	}
	if script.RetryAfter != "" {
		w.Header().Set("Retry-After", script.RetryAfter)
	}
	if script.Status != 0 && script.Status != http.StatusOK {
		s.dialect.writeError(w, script.Status, script)
		return
	}
	s.stream(w, r, script, req)
}

// record keeps the request and, when it is valid, takes its script.
func (s *Server) record(req Request, valid bool) Script {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
	if !valid {
		return Script{}
	}
	script := s.scripts[min(s.next, len(s.scripts)-1)]
	s.next++
	return script
}

// rejection is why the fake refused a request, answered as the vendor would.
type rejection struct {
	status int
	typ    string // "" picks the vendor's type for the status
	msg    string
}

// dialect is what differs between the vendors' fakes.
type dialect interface {
	basePath() string
	parse(r *http.Request, body []byte) (Request, *rejection)
	writeError(w http.ResponseWriter, status int, s Script)
	newStream(ev *eventWriter, s Script, req Request, call int) vendorStream
}

// vendorStream writes one vendor's stream, event by event.
type vendorStream interface {
	begin()            // everything before the first text delta
	text(delta string) // one text delta
	fail(s Script)     // the mid-stream error event
	end(s Script)      // everything after the last text delta
}
