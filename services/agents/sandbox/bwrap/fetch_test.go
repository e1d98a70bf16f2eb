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
)

func TestCheckPackageJSON(t *testing.T) {
	ok := []string{
		`{"dependencies":{"react":"^18.3.1","@types/react":"~18.3","lodash":">=4 <5 || 3.x","x":"1.0.0-rc.1","y":"latest","z":"*","e":""}}`,
		`{"devDependencies":{"vite":"^5.4.0"},"overrides":{"foo":"1.2.3","bar@^2":{"baz":"$bar",".":"2.0.0"}}}`,
		`{"name":"no-deps","scripts":{"test":"node test.js"}}`,
	}
	for _, pkg := range ok {
		if err := checkPackageJSON("package.json", []byte(pkg)); err != nil {
			t.Errorf("%s: %v", pkg, err)
		}
	}
	refused := map[string]string{
		`{"dependencies":{"a":"file:../a"}}`:                              `"a" is "file:../a"`,
		`{"dependencies":{"a":"link:../a"}}`:                              `"a" is "link:../a"`,
		`{"devDependencies":{"a":"git+https://example.com/a.git"}}`:       `devDependencies "a" is`,
		`{"dependencies":{"a":"https://example.com/a.tgz"}}`:              `"a" is "https:`,
		`{"dependencies":{"a":"owner/repo"}}`:                             `"a" is "owner/repo"`,
		`{"dependencies":{"a":"owner/repo#main"}}`:                        `"a" is "owner/repo#main"`,
		`{"optionalDependencies":{"a":"workspace:*"}}`:                    `"a" is "workspace:*"`,
		`{"peerDependencies":{"a":"npm:b@1"}}`:                            `"a" is "npm:b@1"`,
		`{"dependencies":{"../a":"1.0.0"}}`:                               `not an npm package name`,
		`{"workspaces":["packages/*"]}`:                                   `declares workspaces`,
		`{"overrides":{"a":"file:../evil"}}`:                              `overrides "a" is "file:../evil"`,
		`{"overrides":{"a":{"b":"github:evil/b"}}}`:                       `overrides "b" is "github:evil/b"`,
		`{"dependencies":["react"]}`:                                      `must map package names`,
		`[1]`:                                                             `not a JSON object`,
		`{"dependencies":{"a":"1.0.0"},"overrides":{"a@file:x":"1.0.0"}}`: `"a" is "file:x"`,
	}
	for pkg, want := range refused {
		err := checkPackageJSON("package.json", []byte(pkg))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to say %s", pkg, err, want)
		}
	}
}

func TestCheckPackageLock(t *testing.T) {
	const registry = "https://registry.npmjs.org/"
	const sha = `"integrity":"sha512-AbC+/9=="`
	good := map[string]string{
		"v3": `{"lockfileVersion":3,"packages":{"":{"dependencies":{"react":"^18"}},
			"node_modules/react":{"version":"18.3.1","resolved":"https://registry.npmjs.org/react/-/react-18.3.1.tgz",` + sha + `,"dependencies":{"loose-envify":"^1.1.0"}},
			"node_modules/react/node_modules/x":{"version":"1.0.0-rc.1","resolved":"https://registry.npmjs.org/x/-/x-1.0.0-rc.1.tgz",` + sha + `},
			"node_modules/react/node_modules/y":{"version":"2.0.0","inBundle":true},
			"node_modules/@s/no-resolved":{"version":"3.0.0",` + sha + `},
			"node_modules/alias":{"name":"@s/real","version":"3.0.0",` + sha + `}}}`,
		"v1": `{"lockfileVersion":1,"dependencies":{"a":{"version":"1.0.0","resolved":"https://registry.npmjs.org/a/-/a-1.0.0.tgz","integrity":"sha1-abc= sha512-def==",
			"dependencies":{"b":{"version":"2.0.0","bundled":true}}}}}`,
	}
	for name, lock := range good {
		if err := checkPackageLock("package-lock.json", []byte(lock), registry); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	const ok = `"resolved":"https://registry.npmjs.org/a/-/a-1.0.0.tgz",` + sha
	for _, c := range []struct{ lock, want string }{
		// No resolved URL: npm ci takes the version as the spec, a directory or a URL.
		{`{"packages":{"node_modules/foo":{"version":"file:/some/dir"}}}`, `"node_modules/foo" has version "file:/some/dir"`},
		{`{"packages":{"node_modules/foo":{"version":"http://any/x.tgz"}}}`, `"node_modules/foo" has version "http://any/x.tgz"`},
		{`{"packages":{"node_modules/foo":{"version":"github:a/b"}}}`, `"node_modules/foo" has version "github:a/b"`},
		{`{"packages":{"node_modules/foo":{"version":"file:/some/dir","inBundle":true}}}`, `has version "file:/some/dir"`},
		{`{"packages":{"node_modules/foo":{"version":"1.0.0"}}}`, `"node_modules/foo" has no integrity hash`},
		{`{"packages":{"node_modules/foo":{"name":"x@file:/etc","version":"1.0.0",` + sha + `}}}`, `"node_modules/foo" is named "x@file:/etc"`},
		{`{"packages":{"node_modules/x@file:/etc":{"version":"1.0.0",` + sha + `}}}`, `"x@file:/etc" is not an npm package name`},
		{`{"packages":{"node_modules/foo":{"version":"1.0.0","resolved":"https://registry.npmjs.org/a/-/a-1.0.0.tgz"}}}`, `"node_modules/foo" has no integrity hash`},
		{`{"packages":{"node_modules/foo":{"version":"1.0.0","resolved":"https://registry.npmjs.org/a/-/a-1.0.0.tgz","integrity":"md5-x"}}}`, `has the integrity "md5-x"`},
		{`{"packages":{"node_modules/a":{"version":"1.0.0","resolved":"https://evil.example/a.tgz",` + sha + `}}}`, `not the registry`},
		{`{"packages":{"node_modules/a":{"version":"1.0.0","resolved":"https://registry.npmjs.org.evil.example/a.tgz",` + sha + `}}}`, `not the registry`},
		{`{"packages":{"node_modules/a":{"version":"1.0.0","resolved":"git+ssh://git@github.com/a/a",` + sha + `}}}`, `not the registry`},
		{`{"packages":{"node_modules/a":{"version":"1.0.0","resolved":"file:../a",` + sha + `}}}`, `not the registry`},
		{`{"packages":{"node_modules/a":{"version":"1.0.0",` + ok + `,"link":true}}}`, `linked from a directory`},
		{`{"packages":{"node_modules/a":{"resolved":"../a","link":true}}}`, `linked from a directory`},
		{`{"packages":{"packages/a":{"version":"1.0.0",` + ok + `}}}`, `not in node_modules`},
		{`{"packages":{"node_modules/../../a":{"version":"1.0.0",` + ok + `}}}`, `not in node_modules`},
		{`{"packages":{"node_modules/a/node_modules/../../../b":{"version":"1.0.0",` + ok + `}}}`, `not in node_modules`},
		{`{"dependencies":{"a":{"version":"file:../a"}}}`, `"a" has version "file:../a"`},
		{`{"dependencies":{"a":{"version":"1.0.0"}}}`, `"a" has no integrity hash`},
		{`{"dependencies":{"../a":{"version":"1.0.0",` + ok + `}}}`, `not an npm package name`},
		{`{"dependencies":{"a":{"version":"1.0.0",` + ok + `,"dependencies":{"b":{"version":"1.0.0","resolved":"http://evil/b.tgz",` + sha + `}}}}}`, `"a > b" is resolved to http://evil/b.tgz, which is not the registry`},
		{`{"dependencies":{"a":{"version":"1.0.0",` + ok + `,"dependencies":{"b":{"version":"http://evil/b.tgz"}}}}}`, `"a > b" has version "http://evil/b.tgz"`},
		{`[]`, `not a lock file`},
	} {
		err := checkPackageLock("package-lock.json", []byte(c.lock), "https://registry.npmjs.org")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to say %s", c.lock, err, c.want)
		}
	}
}

func TestCheckGoMod(t *testing.T) {
	if err := checkGoMod("go.mod", []byte("module m\n\ngo 1.22\n\nrequire golang.org/x/text v0.21.0\n\nreplace golang.org/x/text => golang.org/x/text v0.20.0\n")); err != nil {
		t.Fatal(err)
	}
	for mod, want := range map[string]string{
		"module m\n\nreplace golang.org/x/text => ../text\n":          "replaces golang.org/x/text with the local path ../text",
		"module m\n\nreplace golang.org/x/text v0.1.0 => /etc/text\n": "with the local path /etc/text",
		"module m\n\nrequire (\n":                                     "cannot be read",
	} {
		if err := checkGoMod("go.mod", []byte(mod)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to say %s", mod, err, want)
		}
	}
}

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
