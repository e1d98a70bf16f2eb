package github

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

const token = "ghp_0123456789abcdefghijklmnopqrstuvwxyz"

// createdBody is GitHub's 201 response to POST /user/repos, trimmed to the
// fields a real one always has and a few we ignore.
const createdBody = `{
  "id": 1296269,
  "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
  "name": "fuzzyllama-docs",
  "full_name": "octocat/fuzzyllama-docs",
  "owner": {"login": "octocat", "id": 1, "type": "User"},
  "private": true,
  "html_url": "https://github.com/octocat/fuzzyllama-docs",
  "description": "Project documents",
  "clone_url": "https://github.com/octocat/fuzzyllama-docs.git",
  "ssh_url": "git@github.com:octocat/fuzzyllama-docs.git",
  "default_branch": "main",
  "visibility": "private"
}`

// fakeGitHub records the one request it gets and answers with respond.
type fakeGitHub struct {
	method, path string
	header       http.Header
	body         map[string]any
}

func newFakeGitHub(t *testing.T, respond func(w http.ResponseWriter)) (*fakeGitHub, *httptest.Server) {
	t.Helper()
	f := &fakeGitHub{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.method, f.path, f.header = r.Method, r.URL.Path, r.Header.Clone()
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &f.body); err != nil {
			t.Errorf("request body is not JSON: %q", raw)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		respond(w)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func reply(status int, body string, headers ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

var newRepo = NewRepository{Name: "fuzzyllama-docs", Description: "Project documents", Private: true}

func TestCreateRepository(t *testing.T) {
	f, srv := newFakeGitHub(t, reply(http.StatusCreated, createdBody))
	c := &Client{BaseURL: srv.URL}

	got, err := c.CreateRepository(context.Background(), token, newRepo)
	if err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	want := Repository{
		ID: 1296269, Name: "fuzzyllama-docs", FullName: "octocat/fuzzyllama-docs",
		HTMLURL:       "https://github.com/octocat/fuzzyllama-docs",
		CloneURL:      "https://github.com/octocat/fuzzyllama-docs.git",
		DefaultBranch: "main", Owner: "octocat", Private: true,
	}
	if got != want {
		t.Errorf("CreateRepository = %+v\nwant %+v", got, want)
	}

	if f.method != http.MethodPost || f.path != "/user/repos" {
		t.Errorf("request %s %s, want POST /user/repos", f.method, f.path)
	}
	for name, value := range map[string]string{
		"Authorization":        "Bearer " + token,
		"Accept":               "application/vnd.github+json",
		"X-Github-Api-Version": "2022-11-28",
		"Content-Type":         "application/json",
		"User-Agent":           "fuzzyllama",
	} {
		if got := f.header.Get(name); got != value {
			t.Errorf("header %s = %q, want %q", name, got, value)
		}
	}
	wantBody := map[string]any{"name": "fuzzyllama-docs", "description": "Project documents", "private": true, "auto_init": false}
	for k, v := range wantBody {
		if f.body[k] != v {
			t.Errorf("body %s = %#v, want %#v (body %v)", k, f.body[k], v, f.body)
		}
	}
}

func TestCreateRepositoryOnGitHubEnterprise(t *testing.T) {
	for _, base := range []string{"/api/v3", "/api/v3/"} {
		f, srv := newFakeGitHub(t, reply(http.StatusCreated, createdBody))
		c := &Client{BaseURL: srv.URL + base, HTTP: srv.Client()}
		if _, err := c.CreateRepository(context.Background(), token, newRepo); err != nil {
			t.Fatalf("BaseURL %s: %v", base, err)
		}
		if f.path != "/api/v3/user/repos" {
			t.Errorf("BaseURL %s: request path %q, want /api/v3/user/repos", base, f.path)
		}
	}
}

func TestCreateRepositoryErrors(t *testing.T) {
	date := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		respond    func(http.ResponseWriter)
		kind       error // nil: none of the sentinels
		status     int
		mentions   string
		retryAfter time.Duration
	}{
		{
			name:     "bad credentials",
			respond:  reply(401, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`),
			kind:     ErrBadCredentials,
			status:   401,
			mentions: "Bad credentials",
		},
		{
			name: "name exists",
			respond: reply(422, `{"message":"Repository creation failed.","errors":[{"resource":"Repository","code":"custom","field":"name","message":"name already exists on this account"}],`+
				`"documentation_url":"https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user","status":"422"}`),
			kind:     ErrRepositoryExists,
			status:   422,
			mentions: "name already exists on this account",
		},
		{
			name: "other validation failure",
			respond: reply(422, `{"message":"Repository creation failed.","errors":[{"resource":"Repository","code":"custom","field":"description","message":"description control characters are not allowed"}],`+
				`"documentation_url":"https://docs.github.com/rest","status":"422"}`),
			kind:     ErrInvalidRepository,
			status:   422,
			mentions: "description control characters are not allowed",
		},
		{
			name: "primary rate limit",
			respond: reply(403, `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api","status":"403"}`,
				"X-Ratelimit-Limit", "5000", "X-Ratelimit-Remaining", "0",
				"X-Ratelimit-Reset", strconv.FormatInt(date.Add(5*time.Minute).Unix(), 10),
				"Date", date.Format(http.TimeFormat)),
			kind:       ErrRateLimited,
			status:     403,
			mentions:   "API rate limit exceeded",
			retryAfter: 5 * time.Minute,
		},
		{
			name: "secondary rate limit",
			respond: reply(429, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","status":"429"}`,
				"Retry-After", "60"),
			kind:       ErrRateLimited,
			status:     429,
			mentions:   "secondary rate limit",
			retryAfter: 60 * time.Second,
		},
		{
			name:       "secondary rate limit without a wait",
			respond:    reply(403, `{"message":"You have exceeded a secondary rate limit.","status":"403"}`),
			kind:       ErrRateLimited,
			status:     403,
			retryAfter: time.Minute,
		},
		{
			name:     "token lacks scope",
			respond:  reply(403, `{"message":"Resource not accessible by personal access token","documentation_url":"https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user","status":"403"}`, "X-Ratelimit-Remaining", "4999"),
			kind:     ErrForbidden,
			status:   403,
			mentions: "Resource not accessible by personal access token",
		},
		{
			name:     "server error",
			respond:  reply(500, `{"message":"Server Error"}`),
			status:   500,
			mentions: "Server Error",
		},
		{
			name:     "proxy error page",
			respond:  reply(502, `<html><body>Bad Gateway</body></html>`),
			status:   502,
			mentions: "502",
		},
		{
			name:     "echoed token",
			respond:  reply(400, `{"message":"Problems parsing token `+token+`"}`),
			status:   400,
			mentions: "Problems parsing token",
		},
	}
	sentinels := []error{ErrBadCredentials, ErrForbidden, ErrRateLimited, ErrRepositoryExists, ErrInvalidRepository}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := newFakeGitHub(t, tc.respond)
			_, err := (&Client{BaseURL: srv.URL}).CreateRepository(context.Background(), token, newRepo)
			if err == nil {
				t.Fatal("CreateRepository succeeded")
			}
			for _, s := range sentinels {
				if got, want := errors.Is(err, s), s == tc.kind; got != want {
					t.Errorf("errors.Is(%q, %v) = %v, want %v", err, s, got, want)
				}
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status {
				t.Fatalf("error %v is not an *APIError with status %d", err, tc.status)
			}
			var limited *RateLimitError
			if isLimited := errors.As(err, &limited); isLimited != (tc.kind == ErrRateLimited) {
				t.Errorf("errors.As(%q, *RateLimitError) = %v", err, isLimited)
			} else if isLimited && limited.RetryAfter != tc.retryAfter {
				t.Errorf("RetryAfter = %s, want %s", limited.RetryAfter, tc.retryAfter)
			}
			if !strings.Contains(err.Error(), tc.mentions) {
				t.Errorf("error %q does not mention %q", err, tc.mentions)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error contains the token: %q", err)
			}
		})
	}
}

func TestCreateRepositoryTransportErrorHidesToken(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more
	_, err := (&Client{BaseURL: srv.URL}).CreateRepository(context.Background(), token, newRepo)
	if err == nil {
		t.Fatal("CreateRepository against a closed server succeeded")
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error contains the token: %q", err)
	}
}

func TestCreateRepositoryHonoursContext(t *testing.T) {
	_, srv := newFakeGitHub(t, reply(http.StatusCreated, createdBody))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Client{BaseURL: srv.URL}).CreateRepository(ctx, token, newRepo)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateRepository with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestCreateRepositoryRefusesBadInputWithoutCalling(t *testing.T) {
	called := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	t.Cleanup(srv.Close)
	c := &Client{BaseURL: srv.URL}

	if _, err := c.CreateRepository(context.Background(), token, NewRepository{Name: "no spaces"}); !errors.Is(err, ErrInvalidRepository) {
		t.Errorf("bad name: %v, want ErrInvalidRepository", err)
	}
	for _, tok := range []string{"", "ghp_abc\r\nX-Injected: 1"} {
		_, err := c.CreateRepository(context.Background(), tok, newRepo)
		if err == nil {
			t.Errorf("token %q accepted", tok)
		} else if tok != "" && strings.Contains(err.Error(), tok) {
			t.Errorf("error contains the token: %q", err)
		}
	}
	if called {
		t.Error("GitHub was called despite invalid input")
	}
}

func TestCheckRepositoryName(t *testing.T) {
	for _, name := range []string{"docs", "fuzzyllama-docs", "My.Project_2026", "a", ".github", "x.git", strings.Repeat("a", 100)} {
		if err := CheckRepositoryName(name); err != nil {
			t.Errorf("CheckRepositoryName(%q) = %v, want ok", name, err)
		}
	}
	for _, name := range []string{"", ".", "..", "has space", "slash/name", "ümlaut", "semi;colon", "tab\t", strings.Repeat("a", 101)} {
		if err := CheckRepositoryName(name); !errors.Is(err, ErrInvalidRepository) {
			t.Errorf("CheckRepositoryName(%q) = %v, want ErrInvalidRepository", name, err)
		}
	}
}
