package providertest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// anthropicDialect fakes POST /v1/messages with stream:true.
type anthropicDialect struct{}

func (anthropicDialect) basePath() string { return "" }

func (anthropicDialect) parse(r *http.Request, body []byte) (Request, *rejection) {
	req := newRequest(r, body)
	invalid := func(format string, args ...any) (Request, *rejection) {
		return req, &rejection{status: http.StatusBadRequest, typ: "invalid_request_error", msg: fmt.Sprintf(format, args...)}
	}
	var wire struct {
		Model     string          `json:"model"`
		MaxTokens int             `json:"max_tokens"`
		System    json.RawMessage `json:"system"`
		Messages  []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Stream bool `json:"stream"`
	}
	if r.Method != http.MethodPost {
		return invalid("method %s not allowed; use POST", r.Method)
	}
	if r.URL.Path != "/v1/messages" {
		return invalid("unknown path %s; use /v1/messages", r.URL.Path)
	}
	if r.Header.Get("X-Api-Key") == "" {
		return req, &rejection{status: http.StatusUnauthorized, typ: "authentication_error", msg: "x-api-key header is required"}
	}
	if r.Header.Get("Anthropic-Version") == "" {
		return invalid("anthropic-version: header is required")
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return invalid("content-type must be application/json, not %q", r.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return invalid("the request body is not valid JSON: %v", err)
	}
	req.Model, req.MaxTokens, req.Stream = wire.Model, wire.MaxTokens, wire.Stream
	if len(wire.System) > 0 {
		system, ok := textOf(wire.System)
		if !ok {
			return invalid("system: must be a string or a list of text blocks")
		}
		req.System = system
	}
	for i, m := range wire.Messages {
		content, ok := textOf(m.Content)
		if !ok {
			return invalid("messages.%d.content: must be a string or a list of content blocks", i)
		}
		req.Messages = append(req.Messages, provider.Message{Role: m.Role, Content: content})
		if m.Role != "user" && m.Role != "assistant" {
			return invalid("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		if content == "" {
			return invalid("messages.%d: all messages must have non-empty content", i)
		}
	}
	switch {
	case req.Model == "":
		return invalid("model: Field required")
	case req.MaxTokens <= 0:
		return invalid("max_tokens: Field required, and must be at least 1")
	case len(req.Messages) == 0:
		return invalid("messages: at least one message is required")
	case !req.Stream:
		return invalid("stream: this fake only serves streaming requests")
	}
	return req, nil
}

func (anthropicDialect) writeError(w http.ResponseWriter, status int, s Script) {
	typ, msg := s.ErrorType, s.ErrorMessage
	if typ == "" {
		typ = anthropicErrorType(status)
	}
	if msg == "" {
		msg = http.StatusText(status)
		if status == 529 {
			msg = "Overloaded"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":"error","error":{"type":%s,"message":%s},"request_id":"req_fake"}`, quote(typ), quote(msg))
}

// anthropicErrorType is the error type Anthropic documents for each status.
func anthropicErrorType(status int) string {
	switch status {
	case 400:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 402:
		return "billing_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 504:
		return "timeout_error"
	case 529:
		return "overloaded_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

func (anthropicDialect) newStream(ev *eventWriter, s Script, req Request, call int) vendorStream {
	model := s.Model
	if model == "" {
		model = req.Model
	}
	return &anthropicStream{ev: ev, script: s, model: model, id: fmt.Sprintf("msg_fake%d", call)}
}

// anthropicStream writes the events of a Messages stream as the API documents them.
type anthropicStream struct {
	ev     *eventWriter
	script Script
	model  string
	id     string
	index  int // of the text content block
}

func (a *anthropicStream) begin() {
	a.ev.send("message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":%s,"type":"message","role":"assistant","model":%s,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":%d,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":%d}}}`,
		quote(a.id), quote(a.model), a.script.InputTokens, min(a.script.OutputTokens, 1)))
	if a.script.Thinking != "" {
		a.ev.send("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`)
		a.ev.send("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":%s}}`, quote(a.script.Thinking)))
		a.ev.send("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"ZmFrZSBzaWduYXR1cmU="}}`)
		a.ev.send("content_block_stop", `{"type":"content_block_stop","index":0}`)
		a.index = 1
	}
	a.ev.send("content_block_start", fmt.Sprintf(`{"type":"content_block_start","index":%d,"content_block":{"type":"text","text":""}}`, a.index))
	a.ev.send("ping", `{"type": "ping"}`)
}

func (a *anthropicStream) text(delta string) {
	a.ev.send("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":%s}}`, a.index, quote(delta)))
}

func (a *anthropicStream) fail(s Script) {
	typ, msg := s.ErrorType, s.ErrorMessage
	if typ == "" {
		typ, msg = "overloaded_error", "Overloaded"
	}
	if msg == "" {
		msg = "The request failed."
	}
	a.ev.send("error", fmt.Sprintf(`{"type":"error","error":{"type":%s,"message":%s}}`, quote(typ), quote(msg)))
}

func (a *anthropicStream) end(s Script) {
	stop := s.StopReason
	if stop == "" {
		stop = "end_turn"
	}
	a.ev.send("content_block_stop", fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, a.index))
	a.ev.send("message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":%s,"stop_sequence":null},"usage":{"output_tokens":%d}}`, quote(stop), s.OutputTokens))
	a.ev.send("message_stop", `{"type":"message_stop"}`)
}
