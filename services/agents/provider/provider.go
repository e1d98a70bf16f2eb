// Package provider is the one interface the agents service uses to call a language model, with
// the error model every implementation shares. Implementations: anthropic (Messages API), openai
// (Chat Completions, and any OpenAI-compatible server such as Ollama, vLLM or llama.cpp) and
// offline (deterministic, no network).
package provider

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Message is one turn of the conversation sent to the model.
type Message struct {
	Role    string // "user" or "assistant"
	Content string
}

// Request is one model call.
type Request struct {
	Model     string
	System    string
	Messages  []Message
	MaxTokens int
	// Brief is the structured form of what the prompt says. Vendor clients ignore it; the
	// offline provider builds its output from it.
	Brief *Brief
}

// Brief is what an agent run is asked to do, as data.
type Brief struct {
	Role        string // agent role word, e.g. "product_manager"
	RoleName    string // e.g. "Product Manager"
	Gate        int
	GateName    string
	Revision    int // 0 on a gate's first run; n after n requests for changes
	ProjectName string
	ProjectType string // "traditional", "ai_ml", "hybrid", "enhancement"
	Description string // the user's description of what they want built
	// Required are the documents the run must produce, with the titles to use.
	Required []DocSpec
	// Documents are the latest versions of the project's documents the run may build on
	// (bounded in size by the caller), its source files apart.
	Documents []ContextDocument
	// Files are the project's source tree, by path: every file, with the contents the caller's
	// budget had room for.
	Files []SourceFile
	// OpenTasks are the titles of the project's open tasks.
	OpenTasks []string
	// Feedback is the reviewer's requested changes, on a re-run.
	Feedback string
	// Instructions are extra instructions given by the person who started the run.
	Instructions string
	// NextRoles are the roles that work after this one, for the handoff.
	NextRoles []string
}

// DocSpec names a document to produce, or says the run writes source files.
type DocSpec struct {
	Type  string // document type word, e.g. "requirements"
	Title string // "" for any title, and for Files
	// Files: the deliverable is source files (file blocks of the output contract, at least
	// one), each stored as a document of Type (code) titled with its path.
	Files bool
}

// ContextDocument is an existing document given to the model.
type ContextDocument struct {
	Type    string
	Title   string
	Version int
	Content string // possibly truncated by the caller
}

// SourceFile is a file of the project's source tree given to the model.
type SourceFile struct {
	Path    string
	Version int
	Size    int64  // bytes of the latest version
	Shown   bool   // Content is given; the budget had no room for the others
	Content string // possibly cut by the caller
}

// Usage is the token usage the provider reported.
type Usage struct {
	InputTokens  int64
	OutputTokens int64
}

// Response is what a completed stream reported besides its text.
type Response struct {
	Model      string // the model that answered, as the provider names it
	StopReason string // e.g. "end_turn", "stop", "max_tokens", "length"
	Usage      Usage
	// Offline: no language model answered (the offline provider wrote the answer itself), so
	// the call used no tokens and cost nothing, and Usage is zero.
	Offline bool
}

// Provider streams one model call. onText receives the text as it arrives, in order; an error
// from onText stops the stream and is returned. Errors are *Error when the provider (or the
// network to it) failed.
type Provider interface {
	Name() string
	Stream(ctx context.Context, req Request, onText func(text string) error) (Response, error)
}

// Kind says whether trying again can help.
type Kind int

const (
	// Transient failures (rate limits, overload, 5xx, timeouts, dropped or silent streams) may
	// succeed if retried later.
	Transient Kind = iota + 1
	// Permanent failures (bad request, bad credentials, content refusal) will fail again.
	Permanent
)

func (k Kind) String() string {
	switch k {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a failed model call.
type Error struct {
	Provider string // "anthropic", "openai", "offline"
	Kind     Kind
	// Status is the HTTP status of the response, 0 when there was none (network, stream).
	Status int
	// Type is the vendor's error type, e.g. "rate_limit_error", "overloaded_error".
	Type string
	// Message is the vendor's own message, safe to show to the user (never a credential).
	Message string
	// RetryAfter is how long the vendor asked to wait (Retry-After header), 0 if it did not.
	RetryAfter time.Duration
	Err        error // underlying cause, if any
}

func (e *Error) Error() string {
	s := e.Provider + ": " + e.Kind.String()
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// IsTransient reports whether err is worth retrying: a transient *Error, or a deadline exceeded
// on the call. Any other error is treated as permanent.
func IsTransient(err error) bool {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind == Transient
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// RetryAfter returns the wait the provider asked for, 0 if none.
func RetryAfter(err error) time.Duration {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.RetryAfter
	}
	return 0
}
