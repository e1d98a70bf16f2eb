package anthropic

import "github.com/fuzzyllama/fuzzyllama/services/agents/provider"

// messagesRequest is the body of POST /v1/messages.
type messagesRequest struct {
	Model     string    `json:"model"`
	MaxTokens int       `json:"max_tokens"` // required by the API, so sent even when 0
	System    string    `json:"system,omitempty"`
	Messages  []message `json:"messages"`
	Stream    bool      `json:"stream"`
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func newMessagesRequest(req provider.Request) messagesRequest {
	msgs := make([]message, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = message{Role: m.Role, Content: m.Content}
	}
	return messagesRequest{
		Model:     req.Model,
		MaxTokens: req.MaxTokens,
		System:    req.System,
		Messages:  msgs,
		Stream:    true,
	}
}

// event is the union of the stream's event payloads; each event fills the fields it has.
type event struct {
	Type    string `json:"type"`
	Message struct {
		Model string `json:"model"`
		Usage usage  `json:"usage"`
	} `json:"message"` // message_start
	Delta struct {
		Type       string `json:"type"`        // content_block_delta: "text_delta", "thinking_delta", ...
		Text       string `json:"text"`        // content_block_delta with text_delta
		StopReason string `json:"stop_reason"` // message_delta
	} `json:"delta"`
	Usage usage `json:"usage"` // message_delta
}

// usage counts are pointers because message_delta may omit any of them, and an omitted count
// must not overwrite the one message_start reported.
type usage struct {
	InputTokens  *int64 `json:"input_tokens"`
	OutputTokens *int64 `json:"output_tokens"`
}

func (u usage) addTo(total *provider.Usage) {
	if u.InputTokens != nil {
		total.InputTokens = *u.InputTokens
	}
	if u.OutputTokens != nil {
		total.OutputTokens = *u.OutputTokens // cumulative, so the latest count is the total
	}
}
