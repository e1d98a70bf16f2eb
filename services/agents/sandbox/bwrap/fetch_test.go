package bwrap

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/deps/depstest"
)

// A refused fetch is a failed FetchResult saying why, and no step runs.
func TestRefusedFetchesRunNoStep(t *testing.T) {
	r := testRunner(t)
	for _, c := range []struct {
		fetch sandbox.Fetch
		files []sandbox.File
		want  string
	}{
		{sandbox.Fetch{Kind: sandbox.FetchGo, Dir: "api"}, []sandbox.File{file("api/go.mod", "module m\n\nreplace example.com/x => ../../x\n")}, "local path ../../x"},
		{sandbox.Fetch{Kind: sandbox.FetchGo, Dir: "api"}, []sandbox.File{file("api/main.go", "package main\n")}, "there is no go.mod in api"},
		{sandbox.Fetch{Kind: sandbox.FetchNPM, Dir: "web"}, []sandbox.File{file("web/package.json", `{"dependencies":{"x":"file:/etc"}}`)}, `"x" is "file:/etc"`},
		{sandbox.Fetch{Kind: sandbox.FetchNPM}, []sandbox.File{file("package.json", `{}`), file("package-lock.json", `{"packages":{"node_modules/x":{"version":"1.0.0","resolved":"https://evil.example/x.tgz"}}}`)}, "not the registry"},
		{sandbox.Fetch{Kind: "pip"}, nil, `does not know how to fetch "pip"`},
		{sandbox.Fetch{Kind: sandbox.FetchGo, Dir: "../x"}, nil, "refused"},
	} {
		res, err := r.Run(t.Context(), sandbox.Job{ProjectID: "refused", Files: c.files, Fetch: []sandbox.Fetch{c.fetch},
			Steps: []sandbox.Step{{Name: "never", Command: []string{"true"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Fetches) != 1 || res.Fetches[0].OK || !strings.Contains(string(res.Fetches[0].Log), c.want) || len(res.Steps) != 0 {
			t.Errorf("%+v: %+v, want a failed fetch saying %s and no step", c.fetch, res, c.want)
		}
	}
}

// A lock file cannot have npm ci copy a directory of the host into node_modules, nor download
// from anywhere but the registry: the fetch is refused, naming the entry, before npm runs.
func TestLockFileStaysOnTheRegistry(t *testing.T) {
	// A package on the host, readable by the sandbox uid, which a step would print.
	secret := filepath.Join(testBase, "secret-package")
	if err := os.MkdirAll(secret, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"package.json": `{"name":"foo","version":"1.0.0"}`, "secret.txt": "host secret\n"} {
		if err := os.WriteFile(filepath.Join(secret, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var requests atomic.Int64
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	defer server.Close()

	pkg := file("package.json", `{"name":"x","version":"1.0.0","dependencies":{"foo":"*"}}`)
	for _, version := range []string{"file:" + secret, server.URL + "/foo.tgz"} {
		lock := fmt.Sprintf(`{"name":"x","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{
			"":{"name":"x","version":"1.0.0","dependencies":{"foo":"*"}},"node_modules/foo":{"version":%q}}}`, version)
		res, err := testRunner(t).Run(t.Context(), sandbox.Job{ProjectID: "lock-bypass", Files: []sandbox.File{pkg, file("package-lock.json", lock)},
			Fetch: []sandbox.Fetch{{Kind: sandbox.FetchNPM}},
			Steps: []sandbox.Step{{Name: "leak", Command: []string{"cat", "node_modules/foo/secret.txt"}}}})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`"node_modules/foo" has version %q`, version)
		if len(res.Fetches) != 1 || res.Fetches[0].OK || !strings.Contains(string(res.Fetches[0].Log), want) || len(res.Steps) != 0 {
			t.Errorf("version %s: fetches %+v and %d steps, want a failed fetch saying %s and no step", version, res.Fetches, len(res.Steps), want)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the fetch sent %d requests to a URL of the lock file", n)
	}
}

// An npm fetch installs from the configured registry alone, whatever an .npmrc of the tree says,
// and the steps find the package.
func TestNPMFetchFromTheRegistry(t *testing.T) {
	testRunner(t) // skips without bubblewrap
	var atRegistry, elsewhere atomic.Int64
	registry := depstest.NPMRegistry(t, &atRegistry)
	other := depstest.Elsewhere(t, &elsewhere)
	r, err := New(Config{CacheDir: testBase + "/registry-cache", WorkDir: testBase + "/registry-work", NPMRegistry: registry.URL})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(t.Context(), sandbox.Job{ProjectID: "registry", Files: []sandbox.File{
		file("web/package.json", `{"name":"x","version":"1.0.0","dependencies":{"left-pad":"1.3.0"}}`),
		file("web/.npmrc", "registry="+other.URL+"/\n")},
		Fetch: []sandbox.Fetch{{Kind: sandbox.FetchNPM, Dir: "web"}},
		Steps: []sandbox.Step{{Name: "installed", Dir: "web", Command: []string{"cat", "node_modules/left-pad/package.json"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fetches) != 1 || !res.Fetches[0].OK || len(res.Steps) != 1 || !res.Steps[0].Passed() {
		t.Fatalf("fetches %+v, steps %+v; want left-pad installed and found", res.Fetches, res.Steps)
	}
	if atRegistry.Load() == 0 || elsewhere.Load() != 0 {
		t.Errorf("%d requests at the registry, %d at the .npmrc's; want all at the registry", atRegistry.Load(), elsewhere.Load())
	}
}
