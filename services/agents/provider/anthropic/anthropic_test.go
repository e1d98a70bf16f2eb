package anthropic_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/anthropic"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/providertest"
)

func newClient(baseURL, apiKey string, idle time.Duration) provider.Provider {
	return &anthropic.Client{APIKey: apiKey, BaseURL: baseURL, IdleTimeout: idle}
}

func TestSharedBehaviour(t *testing.T) {
	providertest.ClientSuite{NewServer: providertest.NewAnthropic, NewClient: newClient}.Run(t)
}

func TestRequestShape(t *testing.T) {
	srv := providertest.NewAnthropic(t, providertest.Script{Text: "ok"})
	req := provider.Request{
		Model:     "claude-test",
		System:    "You are a product manager.",
		Messages:  []provider.Message{{Role: "user", Content: "Write the requirements."}, {Role: "assistant", Content: "Draft"}, {Role: "user", Content: "More."}},
		MaxTokens: 1024,
	}
	c := &anthropic.Client{APIKey: "sk-ant-test", BaseURL: srv.URL + "/"}
	if _, err := c.Stream(t.Context(), req, func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	got := srv.Requests()[0]
	for header, want := range map[string]string{
		"X-Api-Key":         "sk-ant-test",
		"Anthropic-Version": "2023-06-01",
		"Content-Type":      "application/json",
		"Accept":            "text/event-stream",
	} {
		if v := got.Header.Get(header); v != want {
			t.Errorf("%s = %q, want %q", header, v, want)
		}
	}
	if got.Path != "/v1/messages" || got.Model != req.Model || got.MaxTokens != 1024 || !got.Stream {
		t.Errorf("request = %s %s, want /v1/messages with model, max_tokens and stream:true", got.Path, got.Body)
	}
	if got.System != req.System || !slices.Equal(got.Messages, req.Messages) {
		t.Errorf("system %q, messages %+v; want the system prompt in system, not among the messages", got.System, got.Messages)
	}
}

func TestNoSystemFieldWithoutSystemPrompt(t *testing.T) {
	srv := providertest.NewAnthropic(t)
	req := provider.Request{Model: "m", Messages: []provider.Message{{Role: "user", Content: "hi"}}, MaxTokens: 10}
	if _, err := newClient(srv.URL, "k", 0).Stream(t.Context(), req, func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if body := srv.Requests()[0].Body; bytes.Contains(body, []byte(`"system"`)) {
		t.Errorf("body = %s, want no system field", body)
	}
}

func TestStopReason(t *testing.T) {
	for _, tc := range []struct{ scripted, want string }{{"", "end_turn"}, {"max_tokens", "max_tokens"}} {
		srv := providertest.NewAnthropic(t, providertest.Script{Text: "ok", StopReason: tc.scripted, InputTokens: 4, OutputTokens: 9})
		resp, err := newClient(srv.URL, "k", 0).Stream(t.Context(), request(), func(string) error { return nil })
		if err != nil || resp.StopReason != tc.want || resp.Usage.OutputTokens != 9 {
			t.Errorf("response %+v, err %v; want stop reason %q and the final output count", resp, err, tc.want)
		}
	}
}

func TestRefusalIsPermanent(t *testing.T) {
	srv := providertest.NewAnthropic(t, providertest.Script{Text: "I can't", StopReason: "refusal", OutputTokens: 3})
	resp, err := newClient(srv.URL, "k", 0).Stream(t.Context(), request(), func(string) error { return nil })
	if provider.IsTransient(err) || err == nil || resp.StopReason != "refusal" || resp.Usage.OutputTokens != 3 {
		t.Fatalf("response %+v, err %v; want a permanent refusal with the usage", resp, err)
	}
}

func TestMissingKeyIsPermanent(t *testing.T) {
	srv := providertest.NewAnthropic(t)
	_, err := newClient(srv.URL, "", 0).Stream(t.Context(), request(), func(string) error { return nil })
	if pe, ok := err.(*provider.Error); !ok || pe.Kind != provider.Permanent || pe.Status != 401 || pe.Type != "authentication_error" {
		t.Fatalf("err = %v, want a permanent 401 authentication_error", err)
	}
}

func request() provider.Request {
	return provider.Request{Model: "m", System: "s", Messages: []provider.Message{{Role: "user", Content: "hi"}}, MaxTokens: 10}
}
