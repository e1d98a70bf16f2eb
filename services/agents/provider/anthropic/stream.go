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

// handled are the events this client reads; any other (ping, content_block_start/stop, and event
// types added later, whatever their shape) is skipped without decoding its payload.
var handled = map[string]bool{"message_start": true, "content_block_delta": true, "message_delta": true,
	"message_stop": true, "error": true}

func (s *stream) handle(ev sse.Event) (done bool, err error) {
	name := ev.Name
	if name == "" {
		var typed struct {
			Type string `json:"type"`
		}
		if err := s.call.Decode(ev, &typed); err != nil {
			return false, err
		}
		name = typed.Type
	}
	if !handled[name] {
		return false, nil
	}
	if name == "error" {
		return false, s.streamError(ev)
	}
	var e event
	if err := s.call.Decode(ev, &e); err != nil {
		return false, err
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
	}
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
