package bwrap

import (
	"strings"
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
	good := `{"lockfileVersion":3,"packages":{"":{"dependencies":{"react":"^18"}},
		"node_modules/react":{"version":"18.3.1","resolved":"https://registry.npmjs.org/react/-/react-18.3.1.tgz","dependencies":{"loose-envify":"^1.1.0"}},
		"node_modules/react/node_modules/x":{"version":"1.0.0","resolved":"https://registry.npmjs.org/x/-/x-1.0.0.tgz"}}}`
	if err := checkPackageLock("package-lock.json", []byte(good), registry); err != nil {
		t.Fatal(err)
	}
	refused := map[string]string{
		`{"packages":{"node_modules/a":{"resolved":"https://evil.example/a.tgz"}}}`:                                          `not the registry`,
		`{"packages":{"node_modules/a":{"resolved":"git+ssh://git@github.com/a/a"}}}`:                                        `not the registry`,
		`{"packages":{"node_modules/a":{"resolved":"../a","link":true}}}`:                                                    `linked from a directory`,
		`{"packages":{"packages/a":{"version":"1.0.0"}}}`:                                                                    `not in node_modules`,
		`{"packages":{"node_modules/../../a":{"version":"1.0.0"}}}`:                                                          `not in node_modules`,
		`{"dependencies":{"a":{"version":"file:../a"}}}`:                                                                     `has version "file:../a"`,
		`{"dependencies":{"a":{"version":"1.0.0","dependencies":{"b":{"version":"1.0.0","resolved":"http://evil/b.tgz"}}}}}`: `not the registry`,
	}
	for lock, want := range refused {
		err := checkPackageLock("package-lock.json", []byte(lock), registry)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to say %s", lock, err, want)
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
		{sandbox.Fetch{Kind: sandbox.FetchNPM}, []sandbox.File{file("package.json", `{}`), file("package-lock.json", `{"packages":{"node_modules/x":{"resolved":"https://evil.example/x.tgz"}}}`)}, "not the registry"},
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
