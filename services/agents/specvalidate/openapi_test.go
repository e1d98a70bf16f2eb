package specvalidate

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestValidDocuments(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"todo-3.0.yaml", `OpenAPI 3.0.3 document "Todo API" 1.0.0 is valid: 7 paths, 12 operations, 5 schemas (kin-openapi v0.153.0)`},
		{"pets-3.0.json", `OpenAPI 3.0.0 document "Pet Store" 2.1 is valid: 2 paths, 3 operations, 2 schemas (kin-openapi v0.153.0)`},
		{"events-3.1.yaml", `OpenAPI 3.1.0 document "Events" 0.3.0 is valid: 1 path, 1 operation, 2 schemas, 1 webhook (kin-openapi v0.153.0)`},
		{"webhooks-3.1.json", `OpenAPI 3.1.1 document "Hooks only" 1 is valid: 0 paths, 0 operations, 1 schema, 1 webhook (kin-openapi v0.153.0)`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := OpenAPI(context.Background(), readTestdata(t, tt.file))
			if !r.Pass || r.Summary != tt.want {
				t.Errorf("got %+v\nwant summary %s", r, tt.want)
			}
		})
	}
}

func TestInvalidDocuments(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // lines or fragments of the summary, after the prefix
	}{
		{
			name:    "missing info and paths",
			content: "openapi: 3.0.3\n",
			want:    []string{"invalid info: must be an object\ninvalid paths: must be an object"},
		},
		{
			name:    "missing info only",
			content: "openapi: 3.0.3\npaths: {}\n",
			want:    []string{"invalid info: must be an object"},
		},
		{
			name:    "several problems, one a line",
			content: "openapi: 3.0.3\ninfo: {title: x}\npaths:\n  /a:\n    get: {}\n  b: {}\n",
			want: []string{
				"invalid info: value of version must be a non-empty string\n" +
					"invalid paths: invalid path /a: invalid operation GET: value of responses must be an object\n" +
					`invalid paths: path "b" does not start with a forward slash (/)`,
			},
		},
		{
			name:    "no openapi key",
			content: "info: {title: x, version: '1'}\npaths: {}\n",
			want:    []string{"value of openapi must be a non-empty string"},
		},
		{
			name:    "unknown version",
			content: "openapi: 4.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n",
			want:    []string{`openapi version "4.0.0" is not supported`},
		},
		{
			name:    "unresolvable internal ref",
			content: "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n",
			want:    []string{`failed to resolve "B" in fragment in URI: "#/components/schemas/B"`},
		},
		{
			name:    "self reference",
			content: "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/A'}\n",
			want:    []string{`found unresolved ref: "#/components/schemas/A"`},
		},
		{
			name:    "swagger 2.0 yaml",
			content: "swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths: {}\n",
			want:    []string{"Swagger 2.0", "OpenAPI 3.x is required"},
		},
		{
			name:    "swagger 2.0 json",
			content: `{"swagger": "2.0", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"$ref": "#/definitions/A"}}}`,
			want:    []string{"Swagger 2.0", "OpenAPI 3.x is required"},
		},
		{
			name:    "garbage text",
			content: "hello world",
			want:    []string{"failed to unmarshal data"},
		},
		{
			name:    "garbage braces",
			content: "{{{",
			want:    []string{"failed to unmarshal data", "json error", "yaml error"},
		},
		{
			name:    "binary",
			content: "\x00\xff\xfe\x01openapi",
			want:    []string{"failed to unmarshal data"},
		},
		{
			name:    "empty",
			content: "",
			want:    []string{"value of openapi must be a non-empty string"},
		},
		{
			name: "yaml alias bomb",
			content: "a: &a [1,2,3,4,5,6,7,8,9]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
				"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
				"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
			want: []string{"excessive aliasing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := OpenAPI(context.Background(), []byte(tt.content))
			if r.Pass {
				t.Fatalf("passed: %s", r.Summary)
			}
			if !strings.HasPrefix(r.Summary, failPrefix) {
				t.Errorf("summary %q does not start with %q", r.Summary, failPrefix)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Summary, w) {
					t.Errorf("summary %q does not contain %q", r.Summary, w)
				}
			}
		})
	}
}

func TestOversized(t *testing.T) {
	spec := readTestdata(t, "todo-3.0.yaml")
	// Padding in a YAML comment keeps the document valid, so only the size can fail it.
	padded := append(spec, "# "+strings.Repeat("x", maxSize-len(spec)-3)+"\n"...)
	if len(padded) != maxSize {
		t.Fatalf("padded to %d bytes", len(padded))
	}
	if r := OpenAPI(context.Background(), padded); !r.Pass {
		t.Fatalf("a document of exactly 1 MiB must be accepted: %s", r.Summary)
	}
	r := OpenAPI(context.Background(), append(padded, ' '))
	want := "invalid OpenAPI document: the document is 1048577 bytes, over the 1048576-byte (1 MiB) limit"
	if r.Pass || r.Summary != want {
		t.Errorf("got %+v, want %q", r, want)
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := OpenAPI(ctx, readTestdata(t, "todo-3.0.yaml"))
	if want := "OpenAPI validation did not finish: context canceled"; r.Summary != want {
		t.Errorf("got %q, want %q", r.Summary, want)
	}
}

func TestErrorSummaryBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n")
	for i := range 500 {
		b.WriteString("  p" + strconv.Itoa(i) + ": {}\n") // not starting with a slash: one error each
	}
	r := OpenAPI(context.Background(), []byte(b.String()))
	if r.Pass {
		t.Fatal("passed")
	}
	msg := strings.TrimPrefix(r.Summary, failPrefix)
	if len(msg) > maxErrorLen {
		t.Errorf("message is %d bytes, over %d", len(msg), maxErrorLen)
	}
	if !strings.Contains(msg, "does not start with a forward slash") || !strings.Contains(msg, "\n… and ") {
		t.Errorf("message does not look truncated by line:\n%s", msg)
	}
}

func TestKinOpenAPIVersion(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	want := kinOpenAPIModule + " " + kinOpenAPIVersion
	for line := range strings.Lines(string(gomod)) {
		if strings.HasPrefix(strings.TrimSpace(line), kinOpenAPIModule+" ") {
			if got := strings.TrimSpace(line); got != want {
				t.Errorf("go.mod requires %q; update kinOpenAPIVersion (%q)", got, want)
			}
			return
		}
	}
	t.Errorf("go.mod does not require %s", kinOpenAPIModule)
}

func TestConcurrent(t *testing.T) {
	spec := readTestdata(t, "todo-3.0.yaml")
	for i := range 8 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			if r := OpenAPI(context.Background(), spec); !r.Pass {
				t.Error(r.Summary)
			}
		})
	}
}

func TestParserPanicRecovered(t *testing.T) {
	r := recoverPanic(func() Result { panic("boom") })
	if want := "invalid OpenAPI document: parser failed: boom"; r.Pass || r.Summary != want {
		t.Errorf("got %+v, want %q", r, want)
	}
	if r := recoverPanic(func() Result { return Result{Pass: true, Summary: "ok"} }); !r.Pass || r.Summary != "ok" {
		t.Errorf("got %+v without a panic", r)
	}
}
