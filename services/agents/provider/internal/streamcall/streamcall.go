// Package streamcall makes the one kind of HTTP call both vendor clients make: a JSON POST
// answered with a stream of server-sent events. It owns what the clients share: size limits,
// the idle timeout, HTTP status and error-body classification, Retry-After, and telling a
// caller's cancellation apart from a provider failure.
package streamcall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/internal/sse"
)

const (
	// MaxErrorBody bounds how much of an error response is read.
	MaxErrorBody = 64 << 10
	// MaxEvent bounds one line, and one event's data, of the stream.
	MaxEvent = 1 << 20
)

// Call is one streaming request to a vendor.
type Call struct {
	Provider string       // names the provider in errors
	Client   *http.Client // nil means http.DefaultClient
	URL      string
	// Header holds the vendor's headers (credentials, API version); Run adds the content
	// negotiation headers.
	Header http.Header
	Body   any // sent as JSON
	// IdleTimeout aborts the call when the server sends nothing for that long; 0 is no limit.
	IdleTimeout time.Duration
	// Secret (the API key) is removed from every message, in case a server echoes it.
	Secret string
	// EndEvent names the event that ends a complete stream, for the dropped-stream message.
	EndEvent string
}

// Handler receives the stream's events in order. It returns done when the event ended the
// stream, or an error to stop it; Run returns that error unchanged.
type Handler func(ev sse.Event) (done bool, err error)

// Run sends the call and feeds the response's events to handle until it is done.
//
// Failures are *provider.Error, except that a cancelled or expired ctx yields ctx.Err() so that
// the caller sees its own decision rather than a provider failure.
func (c *Call) Run(ctx context.Context, handle Handler) error {
	body, err := json.Marshal(c.Body)
	if err != nil {
		return c.Error(provider.Permanent, "", "encoding the request: "+err.Error())
	}
	callCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := newWatchdog(c.IdleTimeout, cancel)
	defer idle.stop()

	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return c.Error(provider.Permanent, "", "invalid request: "+err.Error())
	}
	req.Header = c.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")

	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	idle.arm() // waiting for the response headers counts as silence too
	resp, err := client.Do(req)
	idle.disarm()
	if err != nil {
		return c.interrupted(ctx, callCtx, "request failed", err)
	}
	defer resp.Body.Close()
	r := idle.reader(resp.Body)

	if resp.StatusCode != http.StatusOK {
		return c.statusError(ctx, resp, r)
	}
	events := sse.NewReader(r, MaxEvent)
	for {
		ev, err := events.Next()
		if err != nil {
			return c.interrupted(ctx, callCtx, "stream dropped", err)
		}
		if ctx.Err() != nil { // buffered events must not reach a caller who has given up
			return ctx.Err()
		}
		done, err := handle(ev)
		if err != nil || done {
			return err
		}
	}
}

// Error returns a *provider.Error for this call, with msg made safe to show.
func (c *Call) Error(kind provider.Kind, typ, msg string) *provider.Error {
	return &provider.Error{
		Provider: c.Provider,
		Kind:     kind,
		Type:     clean(typ, c.Secret, maxType),
		Message:  clean(msg, c.Secret, maxMessage),
	}
}

// Decode unmarshals an event's data into v; data that is not the JSON the vendor documents is
// a Permanent failure, since the same server will send it again.
func (c *Call) Decode(ev sse.Event, v any) error {
	if err := json.Unmarshal(ev.Data, v); err != nil {
		e := c.Error(provider.Permanent, "", fmt.Sprintf("malformed %q event: %v", ev.Name, err))
		e.Err = err
		return e
	}
	return nil
}

// interrupted classifies a failure to send the request or to read the stream.
func (c *Call) interrupted(ctx, callCtx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var e *provider.Error
	switch {
	case errors.Is(context.Cause(callCtx), errSilent):
		e = c.Error(provider.Transient, "", fmt.Sprintf("stream was silent for %s", c.IdleTimeout))
	case errors.Is(err, sse.ErrTooLong):
		// A server that sends megabyte lines is broken or hostile; it will do it again.
		e = c.Error(provider.Permanent, "", fmt.Sprintf("stream line or event over %d bytes", MaxEvent))
	case errors.Is(err, io.EOF):
		e = c.Error(provider.Transient, "", "stream ended before "+c.EndEvent)
	default:
		e = c.Error(provider.Transient, "", what+": "+err.Error())
	}
	e.Err = err
	return e
}

// statusError turns a non-200 response into a *provider.Error carrying the vendor's message.
func (c *Call) statusError(ctx context.Context, resp *http.Response, body io.Reader) error {
	// A body cut short (stalled, dropped) still leaves the status to classify, so a read error
	// only matters when it is the caller's cancellation.
	raw, _ := io.ReadAll(io.LimitReader(body, MaxErrorBody))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	ve := ParseError(raw)
	if ve.Message == "" {
		ve.Message = http.StatusText(resp.StatusCode)
	}
	e := c.Error(StatusKind(resp.StatusCode), ve.Type, ve.Message)
	e.Status = resp.StatusCode
	e.RetryAfter = provider.RetryAfterHeader(resp.Header, time.Now())
	return e
}

// StatusKind classifies an HTTP error status: rate limits, timeouts, conflicts and server
// errors (including Anthropic's 529 overloaded) may pass; other statuses will fail again.
func StatusKind(status int) provider.Kind {
	switch {
	case status == http.StatusTooManyRequests,
		status == http.StatusRequestTimeout,
		status == http.StatusConflict,
		status >= 500:
		return provider.Transient
	}
	return provider.Permanent
}
