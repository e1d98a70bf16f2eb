package anthropic_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/anthropic"
)

// serveEvents answers every request with the parts, flushed one by one.
func serveEvents(t *testing.T, parts ...string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, p := range parts {
			w.Write([]byte(p))
			w.(http.Flusher).Flush()
			time.Sleep(2 * time.Millisecond)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestWireEdgeCases: events split across reads, CRLF line ends, comments and multi-line data are
// read as one stream; an event type added later, whatever the shape of its fields, is skipped
// (Anthropic asks clients to tolerate new events).
func TestWireEdgeCases(t *testing.T) {
	start := "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-x\",\"usage\":{\"input_tokens\":7,\"output_tokens\":1}}}\r\n\r\n"
	for name, parts := range map[string][]string{
		"crlf split comments multi-line": {": hi\r\n", start[:30], start[30:], "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\r\ndata: \"delta\":{\"type\":\"text_delta\",\"text\":\"he\"}}\r\n\r\n",
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"llo\"}}\n\n",
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n",
			"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"},
		"unknown event with other-shaped fields": {start, "event: future_thing\ndata: {\"type\":\"future_thing\",\"delta\":\"a string\",\"message\":\"text\"}\n\n",
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"hello\"}}\n\n",
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n",
			"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"},
	} {
		url := serveEvents(t, parts...)
		var text string
		resp, err := (&anthropic.Client{APIKey: "k", BaseURL: url, IdleTimeout: time.Second}).Stream(t.Context(),
			provider.Request{Model: "m", Messages: []provider.Message{{Role: "user", Content: "hi"}}, MaxTokens: 10},
			func(s string) error { text += s; return nil })
		if err != nil || text != "hello" || resp.Usage.InputTokens != 7 || resp.Usage.OutputTokens != 5 || resp.Model != "claude-x" {
			t.Errorf("%s: text %q resp %+v err %v", name, text, resp, err)
		}
	}
}
