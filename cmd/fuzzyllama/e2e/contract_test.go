package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/fuzzyllama/fuzzyllama/gen"
)

// The published OpenAPI document (gen/api/openapi.json) must describe the wire: every answer
// the suite receives from an API route is checked against it (status declared, headers that
// matter, body), and so is every request the server accepted. A request the server refused
// (4xx) is not checked: the suite sends bad input on purpose.

// contract checks exchanges against the published document.
type contract struct {
	router routers.Router
}

var (
	contractOnce sync.Once
	contractDoc  *contract
	contractErr  error
)

// publishedContract loads the document the gateway serves, once per test binary.
func publishedContract(t *testing.T) *contract {
	t.Helper()
	contractOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(gen.OpenAPI)
		if err != nil {
			contractErr = err
			return
		}
		// The document's server is "/" (the gateway that serves it); a router needs no host.
		doc.Servers = nil
		r, err := gorillamux.NewRouter(doc)
		contractDoc, contractErr = &contract{router: r}, err
	})
	if contractErr != nil {
		t.Fatalf("load the published OpenAPI document: %v", contractErr)
	}
	return contractDoc
}

func init() {
	// Downloads: the archive's bytes are not checked beyond their media type.
	openapi3filter.RegisterBodyDecoder("application/zip", openapi3filter.FileBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/gzip", openapi3filter.FileBodyDecoder)
}

// check returns what in the exchange the document does not allow; nil when it all conforms
// or the route is not an API operation (health, metrics, docs, the WebSocket).
func (c *contract) check(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return nil // not an operation of the document
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	var problems []string
	if status >= 200 && status < 300 {
		r := req.Clone(ctx)
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		in.Request = r
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			problems = append(problems, "the accepted request does not match: "+brief(err))
		}
		in.Request = req
	}
	mediaType, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			// An event stream's body is its events, checked by the live tests' AsyncAPI check.
			ExcludeResponseBody: mediaType == "text/event-stream",
		},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		problems = append(problems, "the answer does not match: "+brief(err))
	}
	if status == http.StatusTooManyRequests && header.Get("Retry-After") == "" {
		problems = append(problems, "a 429 without Retry-After")
	}
	if status == http.StatusUnauthorized && header.Get("WWW-Authenticate") == "" {
		problems = append(problems, "a 401 without WWW-Authenticate")
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s %s → %d breaks the published contract (gen/api/openapi.json):\n  %s\nbody: %.600s",
		req.Method, req.URL.Path, status, strings.Join(problems, "\n  "), body)
}

// brief is err's message without the schema and value kin-openapi appends to it.
func brief(err error) string {
	var lines []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if strings.HasPrefix(l, "Schema:") || strings.HasPrefix(l, "Value:") {
			break
		}
		lines = append(lines, l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// TestContractCatchesWhatItShould shows the check fails an answer the document does not
// declare: a status, a missing envelope field, a wrong type, an undeclared error status.
func TestContractCatchesWhatItShould(t *testing.T) {
	c := publishedContract(t)
	req := func(method, path, body string) (*http.Request, []byte) {
		r, _ := http.NewRequest(method, "http://gateway"+path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer token")
		return r, []byte(body)
	}
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	meta := `"meta":{"timestamp":"2026-12-07T10:00:00Z","requestId":"r1"}`
	user := `{"id":"u1","email":"ann@example.com","name":"Ann","createTime":"2026-12-07T10:00:00Z"}`
	registered := `{"success":true,"data":{"user":` + user + `,"accessToken":"a","refreshToken":"r","tokenType":"Bearer","expiresIn":900},` + meta + `}`
	register := `{"email":"ann@example.com","password":"correct horse 1","name":"Ann"}`

	r, b := req(http.MethodPost, "/api/v1/auth/register", register)
	if err := c.check(r, b, http.StatusCreated, jsonHeader, []byte(registered)); err != nil {
		t.Fatalf("a conforming answer was refused (fix the sample if RegisterResponse changed): %v", err)
	}
	cases := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		header http.Header
		answer string
	}{
		{"undeclared success status", http.MethodPost, "/api/v1/auth/register", register, http.StatusOK, jsonHeader, registered},
		{"undeclared error status", http.MethodPost, "/api/v1/auth/register", register, http.StatusTeapot, jsonHeader,
			`{"success":false,"error":{"code":"INTERNAL","message":"x"},` + meta + `}`},
		{"bare data, no envelope", http.MethodPost, "/api/v1/auth/register", register, http.StatusCreated, jsonHeader,
			strings.TrimSuffix(strings.TrimPrefix(registered, `{"success":true,"data":`), `,`+meta+`}`)},
		{"an error without its code", http.MethodGet, "/api/v1/projects/p1", "", http.StatusNotFound, jsonHeader,
			`{"success":false,"error":{"message":"x"},` + meta + `}`},
		{"a field of the wrong type", http.MethodPost, "/api/v1/auth/register", register, http.StatusCreated, jsonHeader,
			strings.Replace(registered, `"name":"Ann"`, `"name":7`, 1)},
		{"a 429 without Retry-After", http.MethodGet, "/api/v1/projects", "", http.StatusTooManyRequests, jsonHeader,
			`{"success":false,"error":{"code":"RESOURCE_EXHAUSTED","message":"slow down"},` + meta + `}`},
		{"an accepted request the contract refuses", http.MethodPost, "/api/v1/auth/register", `{"email":"ann@example.com"}`, http.StatusCreated, jsonHeader, registered},
	}
	// Over HTTP: a handler that answers a creation with 200 instead of its declared 201.
	t.Run("a handler answering an undeclared status", func(t *testing.T) {
		h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = io.WriteString(w, registered) // 200
		}))
		defer h.Close()
		r, _ := http.NewRequest(http.MethodPost, h.URL+"/api/v1/auth/register", strings.NewReader(register))
		r.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := c.check(r, []byte(register), resp.StatusCode, resp.Header, body); err == nil || !strings.Contains(err.Error(), "→ 200") || !strings.Contains(err.Error(), "status is not supported") {
			t.Fatalf("the check passed a 200 the contract does not declare: %v", err)
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, b := req(tc.method, tc.path, tc.body)
			if err := c.check(r, b, tc.status, tc.header, []byte(tc.answer)); err == nil {
				t.Fatal("the check passed an exchange the contract does not allow")
			} else {
				t.Log(err)
			}
		})
	}
}

// checkStream checks the opening of an event stream (status and headers), and returns a check of
// its events' data against the schema the document names for each event type (x-sse-events).
func (s *server) checkStream(req *http.Request, resp *http.Response) (checkEvent func(event string, data []byte)) {
	s.t.Helper()
	c := publishedContract(s.t)
	if err := c.check(req, nil, resp.StatusCode, resp.Header, nil); err != nil {
		s.t.Error(err)
	}
	route, _, err := c.router.FindRoute(req)
	if err != nil {
		s.t.Fatalf("%s is not in the published contract", req.URL.Path)
	}
	events := map[string]*openapi3.Schema{}
	if ok := route.Operation.Responses.Value("200"); ok != nil {
		if mt := ok.Value.Content.Get("text/event-stream"); mt != nil {
			byEvent, _ := mt.Extensions["x-sse-events"].(map[string]any)
			for name, ref := range byEvent {
				r, _ := ref.(map[string]any)["$ref"].(string)
				if schema := route.Spec.Components.Schemas[strings.TrimPrefix(r, "#/components/schemas/")]; schema != nil {
					events[name] = schema.Value
				}
			}
		}
	}
	if len(events) == 0 {
		s.t.Fatalf("%s declares no event types", req.URL.Path)
	}
	return func(event string, data []byte) {
		s.t.Helper()
		if event == "" {
			event = "message" // the SSE default
		}
		schema, ok := events[event]
		if !ok {
			s.t.Errorf("%s sent an event %q the contract does not declare", req.URL.Path, event)
			return
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			s.t.Errorf("%s: event %q is not JSON: %v", req.URL.Path, event, err)
			return
		}
		if err := schema.VisitJSON(v, openapi3.DisableSchemaErrorDetails()); err != nil {
			s.t.Errorf("%s: event %q does not match the contract: %v\ndata: %.400s", req.URL.Path, event, err, data)
		}
	}
}
