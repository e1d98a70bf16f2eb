// Package anthropic streams model calls through Anthropic's Messages API.
package anthropic

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/internal/streamcall"
)

const (
	// DefaultBaseURL is used when Client.BaseURL is empty.
	DefaultBaseURL = "https://api.anthropic.com"
	// APIVersion is the anthropic-version the wire format below was written against.
	APIVersion = "2023-06-01"
)

// Client is a provider.Provider for the Messages API. The zero value (plus an APIKey) works.
type Client struct {
	APIKey  string
	BaseURL string // default DefaultBaseURL; the client appends /v1/messages
	// HTTPClient defaults to http.DefaultClient. Its Timeout, if any, bounds the whole stream.
	HTTPClient *http.Client
	// IdleTimeout fails the call as Transient when the server sends nothing for that long,
	// including while waiting for the response to start; 0 is no limit.
	IdleTimeout time.Duration
}

var _ provider.Provider = (*Client)(nil)

// Name returns "anthropic".
func (c *Client) Name() string { return "anthropic" }

// Stream sends req and passes the text to onText as it arrives. The Response is filled in as
// far as the stream got, so usage is known even when an error is returned.
func (c *Client) Stream(ctx context.Context, req provider.Request, onText func(text string) error) (provider.Response, error) {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	header := http.Header{"Anthropic-Version": {APIVersion}}
	if c.APIKey != "" { // a gateway in front of the API may add the key itself
		header.Set("X-Api-Key", c.APIKey)
	}
	call := &streamcall.Call{
		Provider:    c.Name(),
		Client:      c.HTTPClient,
		URL:         strings.TrimSuffix(base, "/") + "/v1/messages",
		Header:      header,
		Body:        newMessagesRequest(req),
		IdleTimeout: c.IdleTimeout,
		Secret:      c.APIKey,
		EndEvent:    "message_stop",
	}
	s := &stream{call: call, onText: onText}
	err := call.Run(ctx, s.handle)
	return s.resp, err
}
