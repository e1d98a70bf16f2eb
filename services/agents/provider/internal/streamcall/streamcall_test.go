package streamcall_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/internal/sse"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/internal/streamcall"
)

// serve starts a server answering every request with handler.
func serve(t *testing.T, handler http.HandlerFunc) *streamcall.Call {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &streamcall.Call{Provider: "test", URL: srv.URL, Body: map[string]bool{"stream": true}, Secret: "secret-key", EndEvent: "end"}
}

func ignore(sse.Event) (bool, error) { return false, nil }

func kindOf(t *testing.T, err error) *provider.Error {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want a *provider.Error", err, err)
	}
	return pe
}

func TestEndlessErrorBodyIsCapped(t *testing.T) {
	written := make(chan int, 1)
	call := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		block, n := []byte(strings.Repeat("x", 32<<10)), 0
		// Stop at 64 MiB so a client without a cap fails instead of hanging.
		for ; n < 64<<20; n += len(block) {
			if _, err := w.Write(block); err != nil {
				break
			}
		}
		written <- n
	})
	err := call.Run(t.Context(), ignore)
	if pe := kindOf(t, err); pe.Kind != provider.Transient || pe.Status != http.StatusBadGateway || pe.Message != "Bad Gateway" {
		t.Fatalf("err = %+v, want a transient 502 named by its status", pe)
	}
	if n := <-written; n >= 64<<20 {
		t.Fatalf("the server wrote all %d bytes: the client read the whole body", n)
	}
}

func TestSilentBeforeHeaders(t *testing.T) {
	call := serve(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices the client leaving only once the body is read
		<-r.Context().Done()
	})
	call.IdleTimeout = 50 * time.Millisecond
	pe := kindOf(t, call.Run(t.Context(), ignore))
	if pe.Kind != provider.Transient || !strings.Contains(pe.Message, "silent for 50ms") {
		t.Fatalf("err = %+v, want transient silence", pe)
	}
}

func TestSlowHandlerIsNotSilence(t *testing.T) {
	call := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("data: 1\n\ndata: 2\n\n"))
	})
	call.IdleTimeout = 20 * time.Millisecond
	n := 0
	err := call.Run(t.Context(), func(sse.Event) (bool, error) {
		n++
		// The time spent here is the caller's, not the server's: it must not trip the timer.
		time.Sleep(40 * time.Millisecond)
		return n == 2, nil
	})
	if err != nil {
		t.Fatalf("err = %v, want the stream read despite a slow handler", err)
	}
}

func TestMalformedEventIsPermanent(t *testing.T) {
	call := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("event: x\ndata: {not json\n\n")) })
	err := call.Run(t.Context(), func(ev sse.Event) (bool, error) {
		var v struct{}
		return false, call.Decode(ev, &v)
	})
	if pe := kindOf(t, err); pe.Kind != provider.Permanent || !strings.Contains(pe.Message, `malformed "x" event`) {
		t.Fatalf("err = %+v, want a permanent malformed event", pe)
	}
}

func TestRequestHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	call := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		w.Write([]byte("data: done\n\n"))
	})
	call.Header = http.Header{"X-Api-Key": {"k"}}
	if err := call.Run(t.Context(), func(sse.Event) (bool, error) { return true, nil }); err != nil {
		t.Fatal(err)
	}
	h := <-got
	if h.Get("X-Api-Key") != "k" || h.Get("Content-Type") != "application/json" || h.Get("Accept") != "text/event-stream" {
		t.Fatalf("headers = %v", h)
	}
	if call.Header.Get("Content-Type") != "" {
		t.Fatal("Run changed the caller's headers")
	}
}

func TestParseError(t *testing.T) {
	for _, tc := range []struct {
		body string
		want streamcall.VendorError
	}{
		{`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, streamcall.VendorError{Type: "overloaded_error", Message: "Overloaded"}},
		{`{"error":{"message":"Bad key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`, streamcall.VendorError{Type: "invalid_request_error", Message: "Bad key", Code: "invalid_api_key"}},
		{`{"error":{"message":"no type","type":null,"code":"rate_limit_exceeded"}}`, streamcall.VendorError{Type: "rate_limit_exceeded", Message: "no type", Code: "rate_limit_exceeded"}},
		{`{"error":"model not found"}`, streamcall.VendorError{Message: "model not found"}},
		{`{"object":"error","message":"bad","type":"BadRequestError","code":400}`, streamcall.VendorError{Type: "BadRequestError", Message: "bad"}},
		{`<html>502</html>`, streamcall.VendorError{}},
		{``, streamcall.VendorError{}},
	} {
		if got := streamcall.ParseError([]byte(tc.body)); got != tc.want {
			t.Errorf("ParseError(%s) = %+v, want %+v", tc.body, got, tc.want)
		}
	}
}

func TestErrorMessagesAreCleaned(t *testing.T) {
	call := &streamcall.Call{Provider: "test", Secret: "sk-123"}
	long := strings.Repeat("a", 498) + "sk-123"
	for _, tc := range []struct{ in, want string }{
		{"key sk-123 is bad", "key [redacted] is bad"},
		{"bell\a and\x1b[31m colour", "bell and[31m colour"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{long, strings.Repeat("a", 498) + "[r…"}, // redacted before it is cut
	} {
		if got := call.Error(provider.Permanent, "", tc.in).Message; got != tc.want {
			t.Errorf("message for %q = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStatusKind(t *testing.T) {
	for status, want := range map[int]provider.Kind{
		400: provider.Permanent, 401: provider.Permanent, 403: provider.Permanent, 404: provider.Permanent,
		413: provider.Permanent, 422: provider.Permanent, 451: provider.Permanent,
		408: provider.Transient, 409: provider.Transient, 429: provider.Transient,
		500: provider.Transient, 503: provider.Transient, 529: provider.Transient,
	} {
		if got := streamcall.StatusKind(status); got != want {
			t.Errorf("StatusKind(%d) = %v, want %v", status, got, want)
		}
	}
}
