package specvalidate

import (
	"context"
	"strings"
	"testing"
)

const tinySpec = "openapi: 3.0.3\ninfo: {title: Tiny, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200': {description: ok}\n"

const tinyPass = `OpenAPI 3.0.3 document "Tiny" 1 is valid: 1 path, 1 operation, 0 schemas (kin-openapi v0.153.0)`

func TestFencedMarkdown(t *testing.T) {
	jsonSpec := `{"openapi": "3.0.3", "info": {"title": "Tiny", "version": "1"}, "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}}`
	tests := []struct {
		name    string
		content string
	}{
		{"yaml fence", "# API\n\nThe spec:\n\n```yaml\n" + tinySpec + "```\n\nDone.\n"},
		{"yml fence", "```yml\n" + tinySpec + "```\n"},
		{"openapi fence", "```openapi\n" + tinySpec + "```\n"},
		{"json fence", "Spec:\n```json\n" + jsonSpec + "\n```\n"},
		{"untagged fence", "```\n" + tinySpec + "```\n"},
		{"tilde fence", "~~~yaml\n" + tinySpec + "~~~\n"},
		{"upper-case tag and attributes", "```YAML title=openapi.yaml\n" + tinySpec + "```\n"},
		{"tag followed by a tab", "``` yaml\tx\n" + tinySpec + "```\n"},
		{"longer fence holds a shorter one", "````yaml\n" + tinySpec + "x-note: |\n  ```\n````\n"},
		{"indented fence", "1. The spec:\n\n   ```yaml\n   " + strings.ReplaceAll(strings.TrimSuffix(tinySpec, "\n"), "\n", "\n   ") + "\n   ```\n"},
		{"crlf", strings.ReplaceAll("```yaml\n"+tinySpec+"```\n", "\n", "\r\n")},
		{"unclosed fence", "Spec:\n```yaml\n" + tinySpec},
		{"first block is an example", "Example request:\n```json\n{\"name\": \"x\"}\n```\n\n```yaml\n" + tinySpec + "```\n"},
		{"other languages skipped", "```bash\ncurl localhost\n```\n```yaml\n" + tinySpec + "```\n"},
		{"raw spec with a fenced example in a description", strings.Replace(tinySpec, "title: Tiny,", "title: Tiny, description: \"see below\",", 1) +
			"tags:\n- name: x\n  description: |\n   ```json\n   {\"a\": 1}\n   ```\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := OpenAPI(context.Background(), []byte(tt.content))
			if !r.Pass || r.Summary != tinyPass {
				t.Errorf("got %+v", r)
			}
		})
	}
}

func TestFencedMarkdownFailures(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{
			name:    "first openapi block is the one checked",
			content: "```yaml\nopenapi: 3.0.3\n```\n```yaml\n" + tinySpec + "```\n",
			want:    "invalid OpenAPI document: invalid info: must be an object\ninvalid paths: must be an object",
		},
		{
			name:    "block without an openapi key is still checked",
			content: "```yaml\ninfo: {title: x, version: '1'}\npaths: {}\n```\n",
			want:    "invalid OpenAPI document: value of openapi must be a non-empty string",
		},
		{
			name:    "swagger in a fence",
			content: "```json\n{\"swagger\": \"2.0\", \"info\": {}}\n```\n",
			want:    "invalid OpenAPI document: this is a Swagger 2.0 document; OpenAPI 3.x is required",
		},
		{
			name:    "broken json in a fence",
			content: "```json\n{\"openapi\": \"3.0.3\",, }\n```\n",
			want:    "invalid OpenAPI document: failed to unmarshal data: json error: invalid character ',' looking for beginning of object key string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := OpenAPI(context.Background(), []byte(tt.content))
			if r.Pass || !strings.HasPrefix(r.Summary, tt.want) {
				t.Errorf("got %+v\nwant summary starting %q", r, tt.want)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		doc  string
		want keys
	}{
		{"openapi: 3.0.0\n", keys{openapi: true}},
		{"# comment\n---\n\"openapi\": 3.1.0\n", keys{openapi: true}},
		{"'swagger' : '2.0'\n", keys{swagger: true}},
		{"info:\n  openapi: 3\n", keys{}}, // not top level
		{`{"info": {"openapi": 1}, "swagger": "2.0"}`, keys{swagger: true}},
		{`  {"openapi": "3.0.0"}`, keys{openapi: true}},
		{`{"openapi": "3.0.0",,}`, keys{openapi: true}}, // broken JSON still recognised
		{"{openapi: 3.0.0, info: {}}", keys{openapi: true}},
		{"openapis: 1\n", keys{}},
		{"", keys{}},
	}
	for _, tt := range tests {
		if got := sniff([]byte(tt.doc)); got != tt.want {
			t.Errorf("sniff(%q) = %+v, want %+v", tt.doc, got, tt.want)
		}
	}
}
