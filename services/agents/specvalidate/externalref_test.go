package specvalidate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// A schema file that, were it read, would make every document below valid.
const thing = "Thing:\n  type: string\nopenapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    Thing: {type: string}\n"

// TestExternalRefsNotFollowed checks that a $ref to a URL or a file fails the document and
// that nothing is fetched or read: the server counts requests, and the files exist and hold
// what the references point at, so following any of them would have let the document pass.
func TestExternalRefsNotFollowed(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Write([]byte(thing))
	}))
	defer srv.Close()

	dir := t.TempDir()
	abs := filepath.Join(dir, "schemas.yaml")
	if err := os.WriteFile(abs, []byte(thing), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // so that a relative reference would find the file too

	refs := []string{
		srv.URL + "/schemas.yaml#/Thing",
		srv.URL + "/schemas.yaml",
		"schemas.yaml#/Thing",
		"./schemas.yaml#/components/schemas/Thing",
		abs + "#/Thing",
		"file://" + abs + "#/Thing",
		"/etc/passwd",
	}
	// Every kind of object that may be a reference, in turn.
	places := map[string]string{
		"schema":    "components:\n  schemas:\n    A: {$ref: '%s'}\n",
		"property":  "components:\n  schemas:\n    A:\n      type: object\n      properties:\n        b: {$ref: '%s'}\n",
		"allOf":     "components:\n  schemas:\n    A:\n      allOf: [{$ref: '%s'}]\n",
		"parameter": "components:\n  parameters:\n    P: {$ref: '%s'}\n",
		"response":  "components:\n  responses:\n    R: {$ref: '%s'}\n",
		"body":      "components:\n  requestBodies:\n    B: {$ref: '%s'}\n",
		"header":    "components:\n  headers:\n    H: {$ref: '%s'}\n",
		"example":   "components:\n  examples:\n    E: {$ref: '%s'}\n",
		"security":  "components:\n  securitySchemes:\n    S: {$ref: '%s'}\n",
		"link":      "components:\n  links:\n    L: {$ref: '%s'}\n",
		"callback":  "components:\n  callbacks:\n    C: {$ref: '%s'}\n",
	}
	const head = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n"
	for name, place := range places {
		for _, ref := range refs {
			doc := head + "paths: {}\n" + strings.Replace(place, "%s", ref, 1)
			r := OpenAPI(context.Background(), []byte(doc))
			if r.Pass || !strings.Contains(r.Summary, "disallowed external reference") {
				t.Errorf("%s %s: got %+v", name, ref, r)
			}
		}
	}
	for _, ref := range refs {
		doc := head + "paths:\n  /a: {$ref: '" + ref + "'}\n"
		if r := OpenAPI(context.Background(), []byte(doc)); r.Pass || !strings.Contains(r.Summary, "disallowed external reference") {
			t.Errorf("path item %s: got %+v", ref, r)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server was asked %d times", n)
	}
}
