package providertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/internal/sse"
)

// ClientSuite checks the behaviour every vendor client shares (text and usage, error
// classification, Retry-After, dropped, silent and flooding streams, cancellation) against
// one vendor's fake. Each client's tests run it, then check what is particular to the vendor.
type ClientSuite struct {
	// NewServer starts the vendor's fake: NewAnthropic or NewOpenAI.
	NewServer func(t testing.TB, scripts ...Script) *Server
	// NewClient returns the client under test, configured with a fake's URL.
	NewClient func(baseURL, apiKey string, idleTimeout time.Duration) provider.Provider
}

// suiteKey is the API key the suite configures; no error may show it.
const suiteKey = "sk-suite-0123456789abcdef"

// Run runs the suite as subtests of t.
func (cs ClientSuite) Run(t *testing.T) {
	t.Run("StreamsTextAndUsage", cs.streamsTextAndUsage)
	t.Run("ReportsTheServersModel", cs.reportsTheServersModel)
	t.Run("ScriptsInOrderLastRepeats", cs.scriptsInOrder)
	t.Run("RateLimitIsTransientWithRetryAfter", cs.rateLimit)
	t.Run("ServerErrorsAreTransient", cs.serverErrors)
	t.Run("ClientErrorsArePermanent", cs.clientErrors)
	t.Run("ErrorsNeverShowTheKey", cs.errorsNeverShowTheKey)
	t.Run("LongMessagesAreTruncated", cs.longMessages)
	t.Run("MidStreamErrors", cs.midStreamErrors)
	t.Run("BrokenStreamsAreTransient", cs.brokenStreams)
	t.Run("SilentStreamTimesOut", cs.silentStream)
	t.Run("CancellationIsTheCallers", cs.cancellation)
	t.Run("OnTextErrorStopsTheStream", cs.onTextError)
	t.Run("FloodIsRefused", cs.flood)
	t.Run("UnreachableServerIsTransient", cs.unreachable)
	t.Run("ConcurrentStreams", cs.concurrent)
}

// request is the request the suite sends.
var request = provider.Request{
	Model:     "test-model",
	System:    "You are terse.",
	Messages:  []provider.Message{{Role: "user", Content: "Say hello."}},
	MaxTokens: 256,
}

// stream runs one call and returns the text deltas it produced.
func (cs ClientSuite) stream(ctx context.Context, srv *Server, idle time.Duration) ([]string, provider.Response, error) {
	var deltas []string
	resp, err := cs.NewClient(srv.URL, suiteKey, idle).Stream(ctx, request, func(text string) error {
		deltas = append(deltas, text)
		return nil
	})
	return deltas, resp, err
}

// providerError asserts that err is a *provider.Error of the given kind and returns it.
func providerError(t *testing.T, err error, kind provider.Kind) *provider.Error {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want a *provider.Error", err, err)
	}
	if pe.Kind != kind {
		t.Fatalf("err = %v, kind %v, want %v", err, pe.Kind, kind)
	}
	return pe
}

func (cs ClientSuite) streamsTextAndUsage(t *testing.T) {
	srv := cs.NewServer(t, Script{Text: "The quick brown fox", Chunks: 4, Thinking: "Hmm, a fox.", InputTokens: 11, OutputTokens: 7})
	deltas, resp, err := cs.stream(t.Context(), srv, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(deltas, ""); got != "The quick brown fox" || len(deltas) != 4 {
		t.Errorf("deltas = %q, want the text in 4 deltas and no thinking", deltas)
	}
	if resp.Usage != (provider.Usage{InputTokens: 11, OutputTokens: 7}) {
		t.Errorf("usage = %+v, want 11 in, 7 out", resp.Usage)
	}
	if resp.Model != request.Model || resp.StopReason == "" {
		t.Errorf("response = %+v, want model %q and a stop reason", resp, request.Model)
	}
	if srv.Calls() != 1 {
		t.Errorf("calls = %d, want 1", srv.Calls())
	}
}

func (cs ClientSuite) reportsTheServersModel(t *testing.T) {
	srv := cs.NewServer(t, Script{Text: "hi", Model: "test-model-2025-01-01"})
	_, resp, err := cs.stream(t.Context(), srv, 0)
	if err != nil || resp.Model != "test-model-2025-01-01" {
		t.Fatalf("model = %q, err = %v; want the model the server named", resp.Model, err)
	}
}

func (cs ClientSuite) scriptsInOrder(t *testing.T) {
	srv := cs.NewServer(t, Script{Status: http.StatusServiceUnavailable}, Script{Text: "one"}, Script{Text: "two"})
	want := []string{"error", "one", "two", "two"}
	for i, w := range want {
		deltas, _, err := cs.stream(t.Context(), srv, 0)
		got := strings.Join(deltas, "")
		if err != nil {
			got = "error"
		}
		if got != w {
			t.Errorf("call %d: got %q (err %v), want %q", i, got, err, w)
		}
	}
	if srv.Calls() != len(want) {
		t.Errorf("calls = %d, want %d", srv.Calls(), len(want))
	}
}

func (cs ClientSuite) rateLimit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script Script
		want   time.Duration
	}{
		{"seconds", Script{RetryAfter: "7"}, 7 * time.Second},
		{"milliseconds preferred", Script{RetryAfter: "2", Header: http.Header{"Retry-After-Ms": {"1500"}}}, 1500 * time.Millisecond},
		{"none", Script{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.script.Status, tc.script.ErrorMessage = http.StatusTooManyRequests, "Slow down."
			_, _, err := cs.stream(t.Context(), cs.NewServer(t, tc.script), 0)
			pe := providerError(t, err, provider.Transient)
			if pe.Status != http.StatusTooManyRequests || pe.RetryAfter != tc.want || pe.Message != "Slow down." {
				t.Errorf("err = %+v, want status 429, RetryAfter %s, the vendor's message", pe, tc.want)
			}
			if !provider.IsTransient(err) || provider.RetryAfter(err) != tc.want {
				t.Errorf("IsTransient/RetryAfter disagree with the error: %v", err)
			}
		})
	}
}

func (cs ClientSuite) serverErrors(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504, 529, 408, 409} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			_, _, err := cs.stream(t.Context(), cs.NewServer(t, Script{Status: status}), 0)
			if pe := providerError(t, err, provider.Transient); pe.Status != status || pe.Type == "" {
				t.Errorf("err = %+v, want status %d and the vendor's type", pe, status)
			}
		})
	}
}

func (cs ClientSuite) clientErrors(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 413, 422, 418} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			msg := fmt.Sprintf("The vendor says no (%d).", status)
			_, _, err := cs.stream(t.Context(), cs.NewServer(t, Script{Status: status, ErrorMessage: msg}), 0)
			pe := providerError(t, err, provider.Permanent)
			if pe.Status != status || pe.Message != msg || pe.Type == "" {
				t.Errorf("err = %+v, want status %d, message %q and the vendor's type", pe, status, msg)
			}
		})
	}
}

func (cs ClientSuite) errorsNeverShowTheKey(t *testing.T) {
	for _, s := range []Script{
		{Status: http.StatusUnauthorized, ErrorMessage: "invalid x-api-key " + suiteKey},
		{Status: http.StatusBadRequest, ErrorType: "invalid_request_error", ErrorMessage: "bad key " + suiteKey + " sent"},
		{Text: "abc", Fault: MidStreamError, ErrorType: "invalid_request_error", ErrorMessage: "key " + suiteKey},
	} {
		_, _, err := cs.stream(t.Context(), cs.NewServer(t, s), 0)
		pe := providerError(t, err, provider.Permanent)
		if strings.Contains(err.Error(), suiteKey) || !strings.Contains(pe.Message, "[redacted]") {
			t.Errorf("err = %q, want the key redacted", err)
		}
	}
}

func (cs ClientSuite) longMessages(t *testing.T) {
	long := strings.Repeat("é", 2000) // 4000 bytes, two per rune
	_, _, err := cs.stream(t.Context(), cs.NewServer(t, Script{Status: http.StatusBadRequest, ErrorMessage: long}), 0)
	pe := providerError(t, err, provider.Permanent)
	if len(pe.Message) > 600 || !strings.HasPrefix(long, strings.TrimSuffix(pe.Message, "…")) {
		t.Errorf("message is %d bytes (%q...), want it cut at a rune boundary to about 500", len(pe.Message), pe.Message[:20])
	}
}

func (cs ClientSuite) midStreamErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		errType string
		want    provider.Kind
	}{
		{"vendor default (overloaded, server error)", "", provider.Transient},
		{"api_error", "api_error", provider.Transient},
		{"invalid_request_error", "invalid_request_error", provider.Permanent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := cs.NewServer(t, Script{Text: "abcd", Chunks: 4, Fault: MidStreamError, FaultAfter: 2, ErrorType: tc.errType})
			deltas, _, err := cs.stream(t.Context(), srv, 0)
			pe := providerError(t, err, tc.want)
			if pe.Status != 0 || pe.Type == "" || pe.Message == "" {
				t.Errorf("err = %+v, want no status and the vendor's type and message", pe)
			}
			if got := strings.Join(deltas, ""); got != "ab" {
				t.Errorf("text before the error = %q, want %q", got, "ab")
			}
		})
	}
}

func (cs ClientSuite) brokenStreams(t *testing.T) {
	for _, fault := range []Fault{Drop, EndEarly} {
		t.Run(fmt.Sprint(fault), func(t *testing.T) {
			srv := cs.NewServer(t, Script{Text: "abcd", Chunks: 4, Fault: fault, FaultAfter: 1, InputTokens: 3})
			deltas, resp, err := cs.stream(t.Context(), srv, 0)
			if pe := providerError(t, err, provider.Transient); pe.Status != 0 {
				t.Errorf("err = %+v, want no status", pe)
			}
			if len(deltas) != 1 {
				t.Errorf("deltas = %q, want the one sent before the break", deltas)
			}
			if resp.Model == "" {
				t.Errorf("response = %+v, want what the stream reported before the break", resp)
			}
		})
	}
}

func (cs ClientSuite) silentStream(t *testing.T) {
	const idle = 200 * time.Millisecond
	srv := cs.NewServer(t, Script{Text: "abcd", Chunks: 4, Fault: Stall, FaultAfter: 1})
	deltas, _, err := cs.stream(t.Context(), srv, idle)
	pe := providerError(t, err, provider.Transient)
	if !strings.Contains(pe.Message, "silent for 200ms") {
		t.Errorf("message = %q, want it to say the stream was silent for 200ms", pe.Message)
	}
	if len(deltas) != 1 {
		t.Errorf("deltas = %q, want the one sent before the stall", deltas)
	}
}

func (cs ClientSuite) cancellation(t *testing.T) {
	t.Run("mid-stream", func(t *testing.T) {
		srv := cs.NewServer(t, Script{Text: "abcd", Chunks: 4, Fault: Stall, FaultAfter: 2})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		_, err := cs.NewClient(srv.URL, suiteKey, 0).Stream(ctx, request, func(string) error {
			cancel() // the stream then stalls: only the cancellation can end it
			return nil
		})
		if err != context.Canceled {
			t.Fatalf("err = %v (%T), want context.Canceled itself", err, err)
		}
	})
	t.Run("before the call", func(t *testing.T) {
		srv := cs.NewServer(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, _, err := cs.stream(ctx, srv, 0); err != context.Canceled {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		srv := cs.NewServer(t)
		ctx, cancel := context.WithDeadline(t.Context(), time.Now())
		defer cancel()
		if _, _, err := cs.stream(ctx, srv, 0); err != context.DeadlineExceeded {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
	})
}

func (cs ClientSuite) onTextError(t *testing.T) {
	srv := cs.NewServer(t, Script{Text: "abcd", Chunks: 4})
	errStop := errors.New("stop here")
	calls := 0
	_, err := cs.NewClient(srv.URL, suiteKey, 0).Stream(t.Context(), request, func(string) error {
		calls++
		return errStop
	})
	if err != errStop || calls != 1 {
		t.Fatalf("err = %v after %d calls, want onText's own error after 1", err, calls)
	}
}

func (cs ClientSuite) flood(t *testing.T) {
	srv := cs.NewServer(t, Script{Text: "ab", Chunks: 2, Fault: Flood, FaultAfter: 1})
	_, _, err := cs.stream(t.Context(), srv, 0)
	providerError(t, err, provider.Permanent)
	// Reaching the limit, rather than the end of the 64 MiB flood, shows the line was bounded.
	if !errors.Is(err, sse.ErrTooLong) {
		t.Fatalf("err = %v, want it to wrap sse.ErrTooLong", err)
	}
}

func (cs ClientSuite) unreachable(t *testing.T) {
	srv := cs.NewServer(t)
	srv.Close()
	_, _, err := cs.stream(t.Context(), srv, 0)
	if pe := providerError(t, err, provider.Transient); pe.Status != 0 || strings.Contains(err.Error(), suiteKey) {
		t.Fatalf("err = %v, want no status and no key", err)
	}
}

func (cs ClientSuite) concurrent(t *testing.T) {
	const n = 8
	srv := cs.NewServer(t, Script{Text: "same for all", Chunks: 3, InputTokens: 1, OutputTokens: 2})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			deltas, _, err := cs.stream(t.Context(), srv, 0)
			if err == nil && strings.Join(deltas, "") != "same for all" {
				err = fmt.Errorf("text %q", deltas)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if srv.Calls() != n || len(srv.Requests()) != n {
		t.Errorf("calls = %d, requests = %d, want %d", srv.Calls(), len(srv.Requests()), n)
	}
}
