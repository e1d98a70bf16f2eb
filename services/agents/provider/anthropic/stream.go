package anthropic

import (
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/internal/sse"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/internal/streamcall"
)

// stream turns the events of one Messages stream into text and a Response.
type stream struct {
	call   *streamcall.Call
	onText func(string) error
	resp   provider.Response
}

func (s *stream) handle(ev sse.Event) (done bool, err error) {
	var e event
	if err := s.call.Decode(ev, &e); err != nil {
		return false, err
	}
	name := ev.Name
	if name == "" {
		name = e.Type
	}
	switch name {
	case "message_start":
		s.resp.Model = e.Message.Model
		e.Message.Usage.addTo(&s.resp.Usage)
	case "content_block_delta":
		// Thinking, signature and tool-input deltas are not part of the answer's text.
		if e.Delta.Type == "text_delta" && e.Delta.Text != "" {
			return false, s.onText(e.Delta.Text)
		}
	case "message_delta":
		e.Usage.addTo(&s.resp.Usage)
		if e.Delta.StopReason != "" {
			s.resp.StopReason = e.Delta.StopReason
		}
		if e.Delta.StopReason == "refusal" {
			return false, s.call.Error(provider.Permanent, "refusal", "the model declined to answer")
		}
	case "message_stop":
		return true, nil
	case "error":
		return false, s.streamError(ev)
	}
	// ping, content_block_start, content_block_stop and event types added later carry nothing
	// this client needs.
	return false, nil
}

// permanentTypes are the error types that mean the request itself is at fault. Other types
// (overloaded_error, api_error, rate_limit_error, timeout_error, new ones) arriving mid-stream
// are the service failing, which may pass.
var permanentTypes = map[string]bool{
	"invalid_request_error": true,
	"authentication_error":  true,
	"permission_error":      true,
	"not_found_error":       true,
	"request_too_large":     true,
	"billing_error":         true,
}

func (s *stream) streamError(ev sse.Event) error {
	ve := streamcall.ParseError(ev.Data)
	kind := provider.Transient
	if permanentTypes[ve.Type] {
		kind = provider.Permanent
	}
	if ve.Message == "" {
		ve.Message = "error event in the stream"
	}
	return s.call.Error(kind, ve.Type, ve.Message)
}
