// Package providertest runs fake Anthropic and OpenAI servers for tests. They answer with each
// vendor's real streaming wire format (event names, JSON field names and order, blank-line
// separators), scripted per request, and record what they were sent.
package providertest

import (
	"fmt"
	"net/http"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// Script is what the fake answers one request with. A server given no scripts streams a short
// greeting; the zero Script streams an empty answer.
type Script struct {
	Text   string // the answer's text
	Chunks int    // number of text deltas Text is split into (by runes); 0 means 1
	// Delay is a pause before each text delta after the first, for an answer that takes time.
	Delay time.Duration
	// Thinking, when set, is streamed before the text the way the vendor streams reasoning
	// (Anthropic: a thinking block; OpenAI-compatible servers: delta.reasoning_content), so
	// tests can check it is not taken for text.
	Thinking     string
	Model        string // the model reported; "" echoes the request's
	InputTokens  int64
	OutputTokens int64
	StopReason   string // "" is the vendor's normal stop: "end_turn" or "stop"

	// Status, when neither 0 nor 200, answers with the vendor's error body instead of a
	// stream.
	Status int
	// ErrorType, ErrorMessage and ErrorCode (OpenAI only) fill the error body, and the error
	// event of a MidStreamError; "" picks what the vendor sends for the status.
	ErrorType, ErrorMessage, ErrorCode string
	RetryAfter                         string      // Retry-After header value
	Header                             http.Header // more response headers, e.g. Retry-After-Ms

	// Fault, when set, breaks the stream after FaultAfter text deltas.
	Fault      Fault
	FaultAfter int
}

// Fault is how a scripted stream breaks.
type Fault int

const (
	NoFault        Fault = iota // the stream completes
	MidStreamError              // the vendor's error event, then the end of the response
	Drop                        // the connection is cut without ending the response
	EndEarly                    // the response ends cleanly but without the terminal event
	Stall                       // nothing more is sent until the client goes away
	Flood                       // an endless line, to check the client bounds its memory
)

func (f Fault) String() string {
	switch f {
	case NoFault:
		return "NoFault"
	case MidStreamError:
		return "MidStreamError"
	case Drop:
		return "Drop"
	case EndEarly:
		return "EndEarly"
	case Stall:
		return "Stall"
	case Flood:
		return "Flood"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Request is a request the fake received, decoded.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte // as sent

	Model string
	// System is Anthropic's system field, or for OpenAI the content of a leading "system"
	// message, so that tests can check the system prompt the same way for both.
	System string
	// Messages are the messages as sent; for OpenAI they include the system message.
	Messages     []provider.Message
	MaxTokens    int
	Stream       bool
	IncludeUsage bool // OpenAI stream_options.include_usage
}

// defaultText answers when no Script says otherwise.
const defaultText = "Hello from the fake server."

// createdAt stamps OpenAI chunks; a fixed time keeps the fake's output reproducible.
var createdAt = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
