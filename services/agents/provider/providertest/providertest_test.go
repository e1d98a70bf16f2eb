package providertest_test

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/providertest"
)

const (
	anthropicBody = `{"model":"m","max_tokens":10,"system":"s","messages":[{"role":"user","content":"hi"}],"stream":true}`
	openAIBody    = `{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`
)

// post sends body to url and returns the status and response body.
func post(t *testing.T, method, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var anthropicHeaders = map[string]string{"Content-Type": "application/json", "X-Api-Key": "k", "Anthropic-Version": "2023-06-01"}

func TestAnthropicStreamShape(t *testing.T) {
	srv := providertest.NewAnthropic(t, providertest.Script{Text: "Hi there", Chunks: 2, InputTokens: 5, OutputTokens: 2})
	status, body := post(t, http.MethodPost, srv.URL+"/v1/messages", anthropicBody, anthropicHeaders)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var names []string
	for _, block := range strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n") {
		name, data, ok := strings.Cut(block, "\n")
		var payload struct{ Type string }
		if !ok || !strings.HasPrefix(name, "event: ") || !strings.HasPrefix(data, "data: ") || json.Unmarshal([]byte(data[len("data: "):]), &payload) != nil {
			t.Fatalf("malformed event %q", block)
		}
		if name = strings.TrimPrefix(name, "event: "); payload.Type != name {
			t.Errorf("event %s carries type %q", name, payload.Type)
		}
		names = append(names, name)
	}
	want := "message_start content_block_start ping content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("events = %s\nwant     %s", got, want)
	}
}

// TestDelay: a script's Delay paces its text deltas (the first comes at once).
func TestDelay(t *testing.T) {
	srv := providertest.NewAnthropic(t, providertest.Script{Text: "one two three", Chunks: 3, Delay: 50 * time.Millisecond})
	start := time.Now()
	status, body := post(t, http.MethodPost, srv.URL+"/v1/messages", anthropicBody, anthropicHeaders)
	if took := time.Since(start); status != http.StatusOK || strings.Count(body, "event: content_block_delta") != 3 || took < 100*time.Millisecond {
		t.Fatalf("status %d, %d deltas in %v", status, strings.Count(body, "event: content_block_delta"), took)
	}
}

func TestOpenAIStreamShape(t *testing.T) {
	srv := providertest.NewOpenAI(t, providertest.Script{Text: "Hi there", Chunks: 2, InputTokens: 5, OutputTokens: 2})
	status, body := post(t, http.MethodPost, srv.URL+"/chat/completions", openAIBody, map[string]string{"Content-Type": "application/json"})
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	blocks := strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n")
	if len(blocks) != 6 || blocks[5] != "data: [DONE]" {
		t.Fatalf("want role, 2 content, finish, usage chunks and [DONE]; got %q", blocks)
	}
	for _, b := range blocks[:5] {
		if !regexp.MustCompile(`^data: \{"id":"chatcmpl-\w+","object":"chat.completion.chunk",`).MatchString(b) {
			t.Errorf("chunk %q is not a chat.completion.chunk", b)
		}
	}
	if !strings.Contains(blocks[4], `"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7`) {
		t.Errorf("last chunk = %q, want the usage", blocks[4])
	}
}

// vendor is what TestInvalidRequestsAreRefused needs to know of a fake.
type vendor struct {
	newServer func(testing.TB, ...providertest.Script) *providertest.Server
	path      string // a valid request's path below the server's URL
	body      string
	header    map[string]string
	errShape  *regexp.Regexp // the vendor's error body
}

var (
	anthropic = vendor{providertest.NewAnthropic, "/v1/messages", anthropicBody, anthropicHeaders,
		regexp.MustCompile(`^\{"type":"error","error":\{"type":"\w+","message":".+"\}`)}
	openAI = vendor{providertest.NewOpenAI, "/chat/completions", openAIBody, map[string]string{"Content-Type": "application/json"},
		regexp.MustCompile(`^\{"error":\{"message":".+","type":"\w+"`)}
)

func TestInvalidRequestsAreRefused(t *testing.T) {
	without := func(h map[string]string, key string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			if k != key {
				out[k] = v
			}
		}
		return out
	}
	for _, tc := range []struct {
		name         string
		vendor       vendor
		method, path string
		body         string
		header       map[string]string
		status       int
	}{
		{"anthropic GET", anthropic, http.MethodGet, "", anthropicBody, nil, 400},
		{"anthropic path", anthropic, "", "/v1/complete", anthropicBody, nil, 400},
		{"anthropic no key", anthropic, "", "", anthropicBody, without(anthropicHeaders, "X-Api-Key"), 401},
		{"anthropic no version", anthropic, "", "", anthropicBody, without(anthropicHeaders, "Anthropic-Version"), 400},
		{"anthropic not JSON", anthropic, "", "", "{", nil, 400},
		{"anthropic not streaming", anthropic, "", "", strings.Replace(anthropicBody, `"stream":true`, `"stream":false`, 1), nil, 400},
		{"anthropic no max_tokens", anthropic, "", "", strings.Replace(anthropicBody, `"max_tokens":10`, `"max_tokens":0`, 1), nil, 400},
		{"anthropic system role", anthropic, "", "", strings.Replace(anthropicBody, `"role":"user"`, `"role":"system"`, 1), nil, 400},
		{"openai content type", openAI, "", "", openAIBody, map[string]string{"Content-Type": "text/plain"}, 400},
		{"openai path", openAI, "", "/completions", openAIBody, nil, 400},
		{"openai not streaming", openAI, "", "", strings.Replace(openAIBody, `"stream":true,`, ``, 1), nil, 400},
		{"openai no model", openAI, "", "", strings.Replace(openAIBody, `"model":"m"`, `"model":""`, 1), nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.vendor
			method, path, header := cmp.Or(tc.method, http.MethodPost), cmp.Or(tc.path, v.path), tc.header
			if header == nil {
				header = v.header
			}
			srv := v.newServer(t, providertest.Script{Text: "first"}, providertest.Script{Text: "second"})
			status, body := post(t, method, srv.URL+path, tc.body, header)
			if status != tc.status || !v.errShape.MatchString(body) {
				t.Errorf("got %d %s, want %d with a vendor-shaped error", status, body, tc.status)
			}
			if srv.Calls() != 1 || len(srv.Requests()) != 1 {
				t.Errorf("calls = %d, want the refused request recorded", srv.Calls())
			}
			// A refused request does not use up a script.
			if status, body = post(t, http.MethodPost, srv.URL+v.path, v.body, v.header); status != http.StatusOK || !strings.Contains(body, `"first"`) {
				t.Errorf("next request got %d %s, want the first script", status, body)
			}
		})
	}
}
