// Package github is a minimal GitHub REST client for the one call the
// documents service needs: creating a repository for the authenticated user,
// to export a project's documents into. It is hand-written on net/http
// because one endpoint does not justify a full SDK. It works against
// github.com and GitHub Enterprise Server (BaseURL https://host/api/v3).
package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors CreateRepository returns, usable with errors.Is. Every error
// response from GitHub is an *APIError carrying the status and GitHub's
// messages; a rate limit is a *RateLimitError around one.
var (
	ErrBadCredentials    = errors.New("github: bad credentials")
	ErrForbidden         = errors.New("github: forbidden")
	ErrRateLimited       = errors.New("github: rate limited")
	ErrRepositoryExists  = errors.New("github: repository already exists")
	ErrInvalidRepository = errors.New("github: invalid repository")
)

const (
	defaultBaseURL = "https://api.github.com"
	apiVersion     = "2022-11-28"
	maxBodyBytes   = 1 << 20
	// When GitHub rate-limits without saying for how long, its docs say to
	// wait at least a minute.
	defaultRetryAfter = time.Minute
)

// defaultHTTP is shared so that calls reuse connections.
var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

// Client calls the GitHub REST API. The zero value talks to github.com.
type Client struct {
	BaseURL string       // "https://api.github.com" when empty; GitHub Enterprise: https://host/api/v3
	HTTP    *http.Client // nil: a client with a 30 s timeout
}

// NewRepository is what to create.
type NewRepository struct {
	Name        string
	Description string
	Private     bool
}

// Repository is a repository GitHub created.
type Repository struct {
	ID            int64
	Name          string
	FullName      string // owner/name
	HTMLURL       string
	CloneURL      string // https clone URL, what gitexport pushes to
	DefaultBranch string
	Owner         string // owner login
	Private       bool
}

// APIError is an error response from GitHub. Unwrap gives the matching
// sentinel (ErrBadCredentials, ...), if any.
type APIError struct {
	StatusCode int
	Message    string   // GitHub's "message"
	Details    []string // messages from GitHub's "errors" list

	kind error
}

// RateLimitError is GitHub saying to slow down. It matches ErrRateLimited,
// and errors.As finds the *APIError inside it.
type RateLimitError struct {
	RetryAfter time.Duration // how long to wait before trying again
	Err        *APIError
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s; retry after %s", e.Err, e.RetryAfter)
}

func (e *RateLimitError) Unwrap() error { return e.Err }

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "github: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if len(e.Details) > 0 {
		b.WriteString(" (" + strings.Join(e.Details, "; ") + ")")
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.kind }

// CreateRepository creates a repository owned by the user the token belongs
// to (POST /user/repos). The repository starts empty (no auto-init) so that
// an export can be pushed to it as its first commit. The token is sent only
// in the Authorization header and never appears in an error.
func (c *Client) CreateRepository(ctx context.Context, token string, r NewRepository) (Repository, error) {
	if err := CheckRepositoryName(r.Name); err != nil {
		return Repository{}, err
	}
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return Repository{}, errors.New("github: the token is empty or contains whitespace")
	}
	body, err := json.Marshal(createRequest{
		Name:        r.Name,
		Description: r.Description,
		Private:     r.Private,
		AutoInit:    false,
	})
	if err != nil {
		return Repository{}, fmt.Errorf("github: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/user/repos"), bytes.NewReader(body))
	if err != nil {
		return Repository{}, fmt.Errorf("github: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", apiVersion)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "fuzzyllama")

	res, err := c.httpClient().Do(req)
	if err != nil && ctx.Err() != nil {
		return Repository{}, fmt.Errorf("github: create repository: %w", ctx.Err())
	}
	if err != nil {
		// Transport errors name the URL, never headers; redact anyway in
		// case a proxy or a future change puts the token somewhere visible.
		return Repository{}, fmt.Errorf("github: create repository: %s", redact(err.Error(), token))
	}
	defer res.Body.Close()
	// One byte more than the cap tells a body at the cap from a longer one.
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes+1))
	if err != nil {
		return Repository{}, fmt.Errorf("github: read response: %w", err)
	}

	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
		return Repository{}, apiError(res, raw, token)
	}
	if len(raw) > maxBodyBytes {
		return Repository{}, fmt.Errorf("github: response larger than %d bytes", maxBodyBytes)
	}
	var created createResponse
	if err := json.Unmarshal(raw, &created); err != nil {
		return Repository{}, fmt.Errorf("github: decode response: %w", err)
	}
	return Repository{
		ID:            created.ID,
		Name:          created.Name,
		FullName:      created.FullName,
		HTMLURL:       created.HTMLURL,
		CloneURL:      created.CloneURL,
		DefaultBranch: created.DefaultBranch,
		Owner:         created.Owner.Login,
		Private:       created.Private,
	}, nil
}

// CheckRepositoryName validates a name as GitHub does: 1 to 100 letters,
// digits, '.', '_' or '-', and not "." or "..". Its errors wrap
// ErrInvalidRepository.
func CheckRepositoryName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: the repository name %q %s", ErrInvalidRepository, name, why)
	}
	switch {
	case name == "":
		return fmt.Errorf("%w: the repository name is empty", ErrInvalidRepository)
	case len(name) > 100:
		return bad("is longer than 100 characters")
	case name == "." || name == "..":
		return bad("is reserved")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return bad("may only contain letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

func (c *Client) url(path string) string {
	base := c.BaseURL
	if base == "" {
		base = defaultBaseURL
	}
	return strings.TrimRight(base, "/") + path
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

type createRequest struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Private     bool   `json:"private"`
	AutoInit    bool   `json:"auto_init"`
}

type createResponse struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	FullName      string `json:"full_name"`
	Private       bool   `json:"private"`
	HTMLURL       string `json:"html_url"`
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`
	Owner         struct {
		Login string `json:"login"`
	} `json:"owner"`
}

// errorResponse is GitHub's error body. Entries of "errors" are usually
// objects, but GitHub documents that some are plain strings.
type errorResponse struct {
	Message string            `json:"message"`
	Errors  []json.RawMessage `json:"errors"`
}

type errorDetail struct {
	Resource string `json:"resource"`
	Field    string `json:"field"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

// apiError turns a non-success response into an *APIError of the right
// kind, inside a *RateLimitError when GitHub is rate-limiting.
func apiError(res *http.Response, raw []byte, token string) error {
	e := &APIError{StatusCode: res.StatusCode}
	var body errorResponse
	if json.Unmarshal(raw, &body) == nil {
		e.Message = redact(body.Message, token)
	}
	nameTaken := false
	for _, item := range body.Errors {
		var d errorDetail
		var text string
		switch {
		case json.Unmarshal(item, &d) == nil:
			text = d.Message
			if text == "" {
				text = strings.TrimSpace(d.Field + " " + d.Code)
			}
			nameTaken = nameTaken || d.Code == "already_exists" ||
				d.Field == "name" && strings.Contains(strings.ToLower(d.Message), "already exists")
		case json.Unmarshal(item, &text) == nil:
		}
		if text != "" {
			e.Details = append(e.Details, redact(text, token))
		}
	}

	// GitHub answers a rate limit with 429 or 403: the primary limit sets
	// x-ratelimit-remaining to 0, a secondary one says so in the message
	// and may send retry-after.
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusForbidden &&
		(res.Header.Get("X-Ratelimit-Remaining") == "0" || res.Header.Get("Retry-After") != "" ||
			strings.Contains(strings.ToLower(e.Message), "rate limit")) {
		e.kind = ErrRateLimited
		return &RateLimitError{RetryAfter: retryAfter(res.Header), Err: e}
	}
	switch res.StatusCode {
	case http.StatusUnauthorized:
		e.kind = ErrBadCredentials
	case http.StatusForbidden:
		e.kind = ErrForbidden
	case http.StatusUnprocessableEntity:
		if nameTaken {
			e.kind = ErrRepositoryExists
		} else {
			e.kind = ErrInvalidRepository
		}
	}
	return e
}

// retryAfter follows GitHub's guidance: retry-after (seconds) if present,
// else x-ratelimit-reset (UTC epoch seconds), else a minute. The reset time
// is measured against the response's Date header when there is one, so a
// skewed local clock does not distort the wait.
func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	reset, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64)
	if err != nil {
		return defaultRetryAfter
	}
	now := time.Now()
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date
	}
	return max(time.Unix(reset, 0).Sub(now), 0)
}

// redact cuts the token out of text that ends up in an error.
func redact(text, token string) string {
	return strings.ReplaceAll(text, token, "[REDACTED]")
}
