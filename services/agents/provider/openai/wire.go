package openai

import (
	"encoding/json"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// chatRequest is the body of POST /chat/completions.
type chatRequest struct {
	Model     string    `json:"model"`
	Messages  []message `json:"messages"`
	MaxTokens int       `json:"max_tokens,omitempty"` // 0 leaves the limit to the server
	Stream    bool      `json:"stream"`
	// StreamOptions asks for the final usage chunk, without which usage is unknown.
	StreamOptions streamOptions `json:"stream_options"`
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

func newChatRequest(req provider.Request) chatRequest {
	msgs := make([]message, 0, len(req.Messages)+1)
	if req.System != "" {
		msgs = append(msgs, message{Role: "system", Content: req.System})
	}
	for _, m := range req.Messages {
		msgs = append(msgs, message{Role: m.Role, Content: m.Content})
	}
	return chatRequest{
		Model:         req.Model,
		Messages:      msgs,
		MaxTokens:     req.MaxTokens,
		Stream:        true,
		StreamOptions: streamOptions{IncludeUsage: true},
	}
}

// chunk is one chat.completion.chunk, or an error object sent in its place.
type chunk struct {
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"` // null until the last choice chunk
	} `json:"choices"`
	// Usage is null on every chunk but the last, which has no choices.
	Usage *struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}
