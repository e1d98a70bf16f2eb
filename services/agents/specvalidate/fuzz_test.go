package specvalidate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzOpenAPI checks that no input makes OpenAPI panic, hang or return an unbounded or
// malformed summary. Inputs that once crashed the parser are kept in testdata/fuzz.
func FuzzOpenAPI(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		tinySpec,
		"```yaml\n" + tinySpec + "```\n",
		"swagger: '2.0'\n",
		"openapi: 3.1.0\ninfo: {title: x, version: '1'}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n    B: {items: {$ref: '#/components/schemas/A'}}\n",
		"openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /a: {$ref: '#/paths/~1b'}\n  /b: {$ref: '#/paths/~1a'}\n",
		"openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A: {type: string, pattern: '(a+)+$', example: aaaaaaaaaaaaaaaaaaaaaaaa!}\n",
		`{"openapi": "3.0.0", "info": {"title": "x", "version": "1"}, "paths": {"/{id}": {"get": {"parameters": [{"$ref": "#/components/parameters/x"}]}}}}`,
		"a: &a [1]\nb: [*a, *a]\n",
		"{{{",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		r := OpenAPI(context.Background(), content)
		if !utf8.ValidString(r.Summary) {
			t.Errorf("summary is not UTF-8: %q", r.Summary)
		}
		switch {
		case r.Pass:
			if !strings.HasPrefix(r.Summary, "OpenAPI ") || !strings.Contains(r.Summary, " is valid: ") {
				t.Errorf("pass summary %q", r.Summary)
			}
		case strings.HasPrefix(r.Summary, failPrefix):
			if n := len(r.Summary) - len(failPrefix); n > maxErrorLen {
				t.Errorf("failure summary is %d bytes", n)
			}
		default:
			// Includes "did not finish": no input this small should take the whole timeout.
			t.Errorf("summary %q", r.Summary)
		}
	})
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", 1500) // 3000 bytes
	tests := []struct {
		name  string
		lines []string
		limit int
		want  string
	}{
		{"fits", []string{"a", " b "}, 10, "a\nb"},
		{"one line each", []string{"a\n  b\tc", "d"}, 10, "a b c\nd"},
		{"schema dump left out", []string{"bad example\nSchema:\n  {}\n\nValue:\n  1\n"}, 100, "bad example"},
		{"invalid UTF-8 replaced", []string{"cut \xf1\xbd"}, 100, "cut \uFFFD"},
		{"exactly", []string{"aaaa", "bbbb"}, 9, "aaaa\nbbbb"},
		{"long first line cut at a rune", []string{long}, 40, strings.Repeat("é", 8) + "…"}, // 20 bytes kept for a note
		{"drops whole lines", []string{strings.Repeat("a", 10), strings.Repeat("b", 10), strings.Repeat("c", 10)}, 30, strings.Repeat("a", 10) + "\n… and 2 more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := truncate(tt.lines, tt.limit)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if len(got) > tt.limit {
				t.Errorf("%d bytes, over %d", len(got), tt.limit)
			}
		})
	}
}
