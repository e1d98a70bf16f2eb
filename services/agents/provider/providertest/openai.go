package providertest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// openAIDialect fakes POST /v1/chat/completions with stream:true. It does not require an
// Authorization header, since local OpenAI-compatible servers do not.
type openAIDialect struct{}

func (openAIDialect) basePath() string { return "/v1" }

func (openAIDialect) parse(r *http.Request, body []byte) (Request, *rejection) {
	req := newRequest(r, body)
	invalid := func(format string, args ...any) (Request, *rejection) {
		return req, &rejection{status: http.StatusBadRequest, typ: "invalid_request_error", msg: fmt.Sprintf(format, args...)}
	}
	var wire struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		MaxTokens     int  `json:"max_tokens"`
		Stream        bool `json:"stream"`
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if r.Method != http.MethodPost {
		return invalid("method %s not allowed; use POST", r.Method)
	}
	if r.URL.Path != "/v1/chat/completions" {
		return invalid("Invalid URL (%s %s)", r.Method, r.URL.Path)
	}
	if auth := r.Header.Get("Authorization"); auth != "" && !strings.HasPrefix(auth, "Bearer ") {
		return req, &rejection{status: http.StatusUnauthorized, msg: "Authorization must be a Bearer token"}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return invalid("content-type must be application/json, not %q", r.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return invalid("We could not parse the JSON body of your request: %v", err)
	}
	req.Model, req.MaxTokens, req.Stream = wire.Model, wire.MaxTokens, wire.Stream
	if wire.StreamOptions != nil {
		req.IncludeUsage = wire.StreamOptions.IncludeUsage
	}
	for i, m := range wire.Messages {
		content, ok := textOf(m.Content)
		if !ok {
			return invalid("messages[%d].content: must be a string or a list of content parts", i)
		}
		req.Messages = append(req.Messages, provider.Message{Role: m.Role, Content: content})
		switch m.Role {
		case "system", "developer", "user", "assistant":
		default:
			return invalid("messages[%d].role: must be one of system, developer, user, assistant", i)
		}
	}
	if len(req.Messages) > 0 && req.Messages[0].Role == "system" {
		req.System = req.Messages[0].Content
	}
	switch {
	case req.Model == "":
		return invalid("you must provide a model parameter")
	case len(req.Messages) == 0:
		return invalid("messages: must contain at least one message")
	case wire.StreamOptions != nil && !req.Stream:
		return invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.")
	case !req.Stream:
		return invalid("stream: this fake only serves streaming requests")
	}
	return req, nil
}

func (openAIDialect) writeError(w http.ResponseWriter, status int, s Script) {
	typ, code, msg := s.ErrorType, s.ErrorCode, s.ErrorMessage
	if typ == "" {
		typ, code = openAIErrorType(status, code)
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%s,"type":%s,"param":null,"code":%s}}`, quote(msg), quote(typ), nullable(code))
}

// openAIErrorType is the type, and code unless one is given, OpenAI sends for a status.
func openAIErrorType(status int, code string) (string, string) {
	typ := "invalid_request_error"
	switch {
	case status == 401 && code == "":
		code = "invalid_api_key"
	case status == 429:
		typ = "requests"
		if code == "" {
			code = "rate_limit_exceeded"
		}
	case status >= 500:
		typ = "server_error"
	}
	return typ, code
}

func (openAIDialect) newStream(ev *eventWriter, s Script, req Request, call int) vendorStream {
	model := s.Model
	if model == "" {
		model = req.Model
	}
	o := &openAIStream{ev: ev, script: s, includeUsage: req.IncludeUsage}
	o.prefix = fmt.Sprintf(`{"id":"chatcmpl-fake%d","object":"chat.completion.chunk","created":%d,"model":%s,"system_fingerprint":"fp_fake","choices":`, call, createdAt, quote(model))
	return o
}

// openAIStream writes the chunks of a Chat Completions stream as the API sends them.
type openAIStream struct {
	ev           *eventWriter
	script       Script
	includeUsage bool
	prefix       string // each chunk's fields before choices
}

// chunk sends one chunk with a single choice.
func (o *openAIStream) chunk(delta, finishReason string) {
	choices := fmt.Sprintf(`[{"index":0,"delta":%s,"logprobs":null,"finish_reason":%s}]`, delta, nullable(finishReason))
	usage := ""
	if o.includeUsage { // usage is null on every chunk but the last, and only when asked for
		usage = `,"usage":null`
	}
	o.ev.send("", o.prefix+choices+usage+"}")
}

func (o *openAIStream) begin() {
	o.chunk(`{"role":"assistant","content":"","refusal":null}`, "")
	if o.script.Thinking != "" {
		o.chunk(fmt.Sprintf(`{"reasoning_content":%s}`, quote(o.script.Thinking)), "")
	}
}

func (o *openAIStream) text(delta string) {
	o.chunk(fmt.Sprintf(`{"content":%s}`, quote(delta)), "")
}

func (o *openAIStream) fail(s Script) {
	typ, msg := s.ErrorType, s.ErrorMessage
	if typ == "" {
		typ, msg = "server_error", "The server had an error while processing your request. Sorry about that!"
	}
	if msg == "" {
		msg = "The request failed."
	}
	o.ev.send("", fmt.Sprintf(`{"error":{"message":%s,"type":%s,"param":null,"code":%s}}`, quote(msg), quote(typ), nullable(s.ErrorCode)))
}

func (o *openAIStream) end(s Script) {
	stop := s.StopReason
	if stop == "" {
		stop = "stop"
	}
	o.chunk(`{}`, stop)
	if o.includeUsage {
		o.ev.send("", o.prefix+fmt.Sprintf(`[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}`,
			s.InputTokens, s.OutputTokens, s.InputTokens+s.OutputTokens))
	}
	o.ev.send("", "[DONE]")
}

// nullable returns s as a JSON string, or null when it is empty.
func nullable(s string) string {
	if s == "" {
		return "null"
	}
	return quote(s)
}
