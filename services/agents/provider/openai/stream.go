package openai

import (
	"bytes"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/internal/sse"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/internal/streamcall"
)

// stream turns the chunks of one Chat Completions stream into text and a Response.
type stream struct {
	call   *streamcall.Call
	onText func(string) error
	resp   provider.Response
}

func (s *stream) handle(ev sse.Event) (done bool, err error) {
	if string(bytes.TrimSpace(ev.Data)) == "[DONE]" {
		return true, nil
	}
	var c chunk
	if err := s.call.Decode(ev, &c); err != nil {
		return false, err
	}
	if !streamcall.IsNull(c.Error) {
		return false, s.streamError(ev)
	}
	if s.resp.Model == "" {
		s.resp.Model = c.Model
	}
	if c.Usage != nil {
		s.resp.Usage = provider.Usage{InputTokens: c.Usage.PromptTokens, OutputTokens: c.Usage.CompletionTokens}
	}
	for _, choice := range c.Choices {
		if choice.Index != 0 { // only one completion is asked for
			continue
		}
		if choice.Delta.Content != "" {
			if err := s.onText(choice.Delta.Content); err != nil {
				return false, err
			}
		}
		if choice.FinishReason != "" {
			s.resp.StopReason = choice.FinishReason
		}
		if choice.FinishReason == "content_filter" {
			return false, s.call.Error(provider.Permanent, "content_filter", "the response was withheld by the content filter")
		}
	}
	return false, nil
}

// permanent are the error types and codes that mean the request itself is at fault. Others
// arriving mid-stream (server_error, rate limits, unknown ones) are the service failing, which
// may pass.
var permanent = map[string]bool{
	"invalid_request_error":   true,
	"authentication_error":    true,
	"permission_error":        true,
	"not_found_error":         true,
	"invalid_api_key":         true,
	"insufficient_quota":      true,
	"model_not_found":         true,
	"context_length_exceeded": true,
}

func (s *stream) streamError(ev sse.Event) error {
	ve := streamcall.ParseError(ev.Data)
	kind := provider.Transient
	if permanent[ve.Type] || permanent[ve.Code] {
		kind = provider.Permanent
	}
	if ve.Message == "" {
		ve.Message = "error in the stream"
	}
	return s.call.Error(kind, ve.Type, ve.Message)
}
