package openai_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/openai"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/providertest"
)

func newClient(baseURL, apiKey string, idle time.Duration) provider.Provider {
	return &openai.Client{APIKey: apiKey, BaseURL: baseURL, IdleTimeout: idle}
}

func TestSharedBehaviour(t *testing.T) {
	providertest.ClientSuite{NewServer: providertest.NewOpenAI, NewClient: newClient}.Run(t)
}

func request() provider.Request {
	return provider.Request{Model: "gpt-test", System: "Be brief.", Messages: []provider.Message{{Role: "user", Content: "hi"}}, MaxTokens: 64}
}

func discard(string) error { return nil }

func TestRequestShape(t *testing.T) {
	srv := providertest.NewOpenAI(t, providertest.Script{Text: "ok"})
	req := request()
	req.Messages = append(req.Messages, provider.Message{Role: "assistant", Content: "hello"}, provider.Message{Role: "user", Content: "again"})
	if _, err := newClient(srv.URL+"/", "sk-test", 0).Stream(t.Context(), req, discard); err != nil {
		t.Fatal(err)
	}
	got := srv.Requests()[0]
	if a := got.Header.Get("Authorization"); a != "Bearer sk-test" {
		t.Errorf("Authorization = %q, want the Bearer key", a)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if got.Path != "/v1/chat/completions" || got.Model != req.Model || got.MaxTokens != 64 || !got.Stream || !got.IncludeUsage {
		t.Errorf("request = %s %s, want model, max_tokens, stream and stream_options.include_usage", got.Path, got.Body)
	}
	want := append([]provider.Message{{Role: "system", Content: req.System}}, req.Messages...)
	if !slices.Equal(got.Messages, want) || got.System != req.System {
		t.Errorf("messages = %+v, want the system prompt first as role system", got.Messages)
	}
}

func TestNoAuthorizationWithoutKey(t *testing.T) {
	srv := providertest.NewOpenAI(t)
	if _, err := newClient(srv.URL, "", 0).Stream(t.Context(), request(), discard); err != nil {
		t.Fatal(err)
	}
	if h := srv.Requests()[0].Header; h.Get("Authorization") != "" {
		t.Errorf("Authorization = %q, want none for a keyless local server", h.Get("Authorization"))
	}
}

func TestUsageAndFinishReason(t *testing.T) {
	srv := providertest.NewOpenAI(t, providertest.Script{Text: "abc", Chunks: 3, StopReason: "length", InputTokens: 21, OutputTokens: 3, Model: "gpt-test-0125"})
	resp, err := newClient(srv.URL, "", 0).Stream(t.Context(), request(), discard)
	want := provider.Response{Model: "gpt-test-0125", StopReason: "length", Usage: provider.Usage{InputTokens: 21, OutputTokens: 3}}
	if err != nil || resp != want {
		t.Fatalf("response %+v, err %v; want %+v", resp, err, want)
	}
}

func TestContentFilterIsPermanent(t *testing.T) {
	srv := providertest.NewOpenAI(t, providertest.Script{Text: "partial", StopReason: "content_filter"})
	resp, err := newClient(srv.URL, "", 0).Stream(t.Context(), request(), discard)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Kind != provider.Permanent || pe.Type != "content_filter" || resp.StopReason != "content_filter" {
		t.Fatalf("response %+v, err %v; want a permanent content_filter error", resp, err)
	}
}

func TestInsufficientQuotaIsPermanent(t *testing.T) {
	srv := providertest.NewOpenAI(t, providertest.Script{Status: 429, ErrorType: "insufficient_quota", ErrorCode: "insufficient_quota", ErrorMessage: "You exceeded your current quota."})
	_, err := newClient(srv.URL, "", 0).Stream(t.Context(), request(), discard)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Kind != provider.Permanent || pe.Status != 429 {
		t.Fatalf("err = %v, want a permanent 429: retrying does not refill a quota", err)
	}
}

func TestMidStreamErrorCode(t *testing.T) {
	srv := providertest.NewOpenAI(t, providertest.Script{Text: "ab", Fault: providertest.MidStreamError, ErrorType: "tokens", ErrorCode: "context_length_exceeded", ErrorMessage: "too long"})
	_, err := newClient(srv.URL, "", 0).Stream(t.Context(), request(), discard)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Kind != provider.Permanent || pe.Message != "too long" {
		t.Fatalf("err = %v, want permanent: the code says the request is at fault", err)
	}
}
