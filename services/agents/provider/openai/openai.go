// Package openai streams model calls through the OpenAI Chat Completions API, or any server
// that speaks it (Ollama, vLLM, llama.cpp, LM Studio).
package openai

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/internal/streamcall"
)

// DefaultBaseURL is used when Client.BaseURL is empty.
const DefaultBaseURL = "https://api.openai.com/v1"

// Client is a provider.Provider for Chat Completions. The zero value works against OpenAI with
// an APIKey, or against a local server with only a BaseURL such as http://localhost:11434/v1.
type Client struct {
	APIKey  string // sent as a Bearer token; omitted when empty, as local servers need none
	BaseURL string // default DefaultBaseURL; the client appends /chat/completions
	// HTTPClient defaults to http.DefaultClient. Its Timeout, if any, bounds the whole stream.
	HTTPClient *http.Client
	// IdleTimeout fails the call as Transient when the server sends nothing for that long,
	// including while waiting for the response to start (a local server loading a model may
	// take a while); 0 is no limit.
	IdleTimeout time.Duration
}

var _ provider.Provider = (*Client)(nil)

// Name returns "openai".
func (c *Client) Name() string { return "openai" }

// Stream sends req and passes the text to onText as it arrives. The Response is filled in as
// far as the stream got, so usage is known even when an error is returned.
func (c *Client) Stream(ctx context.Context, req provider.Request, onText func(text string) error) (provider.Response, error) {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	header := http.Header{}
	if c.APIKey != "" {
		header.Set("Authorization", "Bearer "+c.APIKey)
	}
	call := &streamcall.Call{
		Provider:    c.Name(),
		Client:      c.HTTPClient,
		URL:         strings.TrimSuffix(base, "/") + "/chat/completions",
		Header:      header,
		Body:        newChatRequest(req),
		IdleTimeout: c.IdleTimeout,
		Secret:      c.APIKey,
		EndEvent:    "[DONE]",
	}
	s := &stream{call: call, onText: onText}
	err := call.Run(ctx, s.handle)
	return s.resp, quotaIsPermanent(err)
}

// quotaIsPermanent reclassifies OpenAI's 429 insufficient_quota: it is a billing state, not a
// rate limit, and retrying will not clear it.
func quotaIsPermanent(err error) error {
	var pe *provider.Error
	if errors.As(err, &pe) && pe.Status == http.StatusTooManyRequests && pe.Type == "insufficient_quota" {
		pe.Kind = provider.Permanent
	}
	return err
}
