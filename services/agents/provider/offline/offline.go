// Package offline is the provider used when no language-model vendor is configured: it writes
// every document an agent run asks for from the run's Brief, deterministically and without any
// network, so the whole product works end to end on a laptop.
//
// The documents are real, structured drafts built from the project's name, type and
// description and from the earlier documents (the PRD's features become the user stories, the
// API's resources, the schema's tables and the code's handlers), each marked as offline output.
// The answer follows the output contract (package output) exactly and is checked against it
// before it is streamed.
package offline

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// Name is the provider's name, also reported as the model that answered.
const Name = "offline"

// DefaultChunkSize is the chunk size when Provider.ChunkSize is not set.
const DefaultChunkSize = 512

// Provider is the offline provider. The zero value is ready to use.
type Provider struct {
	// ChunkSize is the size in bytes of the pieces the answer is streamed in (DefaultChunkSize
	// if 0 or less); a piece never splits a UTF-8 character.
	ChunkSize int
	// ChunkDelay is the pause between pieces, to make streaming visible; 0 means none.
	ChunkDelay time.Duration
}

var _ provider.Provider = Provider{}

// Name returns "offline".
func (Provider) Name() string { return Name }

// Stream writes the answer to req.Brief through onText. The answer depends on the Brief only:
// the same Brief gives the same bytes.
func (p Provider) Stream(ctx context.Context, req provider.Request, onText func(text string) error) (provider.Response, error) {
	if req.Brief == nil {
		return provider.Response{}, &provider.Error{Provider: Name, Kind: provider.Permanent, Type: "invalid_request",
			Message: "the offline provider writes its answer from the request's Brief, and the request has none"}
	}
	if err := ctx.Err(); err != nil {
		return provider.Response{}, err
	}
	text, err := answer(*req.Brief)
	if err != nil {
		return provider.Response{}, &provider.Error{Provider: Name, Kind: provider.Permanent, Type: "invalid_request",
			Message: err.Error(), Err: err}
	}
	if err := p.stream(ctx, text, onText); err != nil {
		return provider.Response{}, err
	}
	// No model ran: the answer used no tokens, and the response says so rather than estimating
	// any (an estimate would be charged to budgets as if a model had been called).
	return provider.Response{Model: Name, StopReason: "end_turn", Offline: true}, nil
}

// stream sends text in chunks, stopping when ctx is done or onText fails.
func (p Provider) stream(ctx context.Context, text string, onText func(string) error) error {
	size := p.ChunkSize
	if size <= 0 {
		size = DefaultChunkSize
	}
	var timer *time.Timer
	for first := true; text != ""; first = false {
		if !first && p.ChunkDelay > 0 {
			if timer == nil {
				timer = time.NewTimer(p.ChunkDelay)
				defer timer.Stop()
			} else {
				timer.Reset(p.ChunkDelay)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		n := chunkEnd(text, size)
		if err := onText(text[:n]); err != nil {
			return err
		}
		text = text[n:]
	}
	return nil
}

// chunkEnd is the length of the next chunk: at most size bytes, ending on a character boundary,
// but at least one whole character.
func chunkEnd(text string, size int) int {
	if len(text) <= size {
		return len(text)
	}
	n := size
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	if n == 0 {
		_, n = utf8.DecodeRuneInString(text)
	}
	return n
}
