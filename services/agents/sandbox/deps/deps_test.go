package deps

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
		if err := CheckPackageJSON("package.json", []byte(pkg)); err != nil {
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
		err := CheckPackageJSON("package.json", []byte(pkg))
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
		if err := CheckPackageLock("package-lock.json", []byte(lock), registry); err != nil {
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
		err := CheckPackageLock("package-lock.json", []byte(c.lock), "https://registry.npmjs.org")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to say %s", c.lock, err, c.want)
		}
	}
}

func TestCheckGoMod(t *testing.T) {
	if err := CheckGoMod("go.mod", []byte("module m\n\ngo 1.22\n\nrequire golang.org/x/text v0.21.0\n\nreplace golang.org/x/text => golang.org/x/text v0.20.0\n")); err != nil {
		t.Fatal(err)
	}
	for mod, want := range map[string]string{
		"module m\n\nreplace golang.org/x/text => ../text\n":          "replaces golang.org/x/text with the local path ../text",
		"module m\n\nreplace golang.org/x/text v0.1.0 => /etc/text\n": "with the local path /etc/text",
		"module m\n\nrequire (\n":                                     "cannot be read",
	} {
		if err := CheckGoMod("go.mod", []byte(mod)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to say %s", mod, err, want)
		}
	}
}

// treeOf reads files from a map, as a runner reads its tree.
func treeOf(files map[string]string) ReadFile {
	return func(p string) ([]byte, bool) {
		data, ok := files[p]
		return []byte(data), ok
	}
}

func TestNewPlan(t *testing.T) {
	const registry = DefaultNPMRegistry
	tree := treeOf(map[string]string{
		"api/go.mod": "module m\n\ngo 1.22\n", "api/go.sum": "sum\n", "api/go.work": "go 1.22\nuse ../evil\n",
		"web/package.json": `{"dependencies":{"react":"^18"}}`, "web/.npmrc": "registry=http://evil.example/\n",
		"locked/package.json": `{}`, "locked/package-lock.json": `{"lockfileVersion":3,"packages":{}}`,
		"package.json": `{}`, "package-lock.json": `{"packages":{"node_modules/foo":{"version":"file:/etc"}}}`,
		"bad/go.mod": "module m\n\nreplace x => ../x\n",
	})
	for _, c := range []struct {
		kind    sandbox.FetchKind
		dir     string
		files   []string
		command string
	}{
		{sandbox.FetchGo, "api", []string{"go.mod", "go.sum"}, "go mod download"},
		{sandbox.FetchNPM, "web", []string{"package.json"}, "npm install --package-lock-only --ignore-scripts --no-audit --no-fund && npm ci --ignore-scripts --no-audit --no-fund"},
		{sandbox.FetchNPM, "locked/", []string{"package-lock.json", "package.json"}, "npm ci --ignore-scripts --no-audit --no-fund"},
	} {
		p, err := NewPlan(c.kind, c.dir, tree, registry)
		if err != nil {
			t.Errorf("%s in %s: %v", c.kind, c.dir, err)
			continue
		}
		// Only the manifests go into the scratch directory: no go.work, no .npmrc.
		if names := slices.Sorted(maps.Keys(p.Files)); !slices.Equal(names, c.files) || sandbox.CommandLine(".", p.Commands...) != c.command {
			t.Errorf("%s in %s: files %v, command %q; want %v, %q", c.kind, c.dir, names, sandbox.CommandLine(".", p.Commands...), c.files, c.command)
		}
	}
	for _, c := range []struct {
		kind      sandbox.FetchKind
		dir, want string
	}{
		{sandbox.FetchGo, "web", "there is no go.mod in web"},
		{sandbox.FetchNPM, "", `package-lock.json: "node_modules/foo" has version "file:/etc"`},
		{sandbox.FetchNPM, "api", "there is no package.json in api"},
		{sandbox.FetchGo, "bad", "bad/go.mod replaces x with the local path ../x"},
		{"pip", ".", `does not know how to fetch "pip"`},
	} {
		if _, err := NewPlan(c.kind, c.dir, tree, registry); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s in %q: err = %v, want it to say %s", c.kind, c.dir, err, c.want)
		}
	}
}

// The lock file npm makes is checked before npm ci installs from it.
func TestRunChecksTheLockNPMMade(t *testing.T) {
	p, err := NewPlan(sandbox.FetchNPM, ".", treeOf(map[string]string{"package.json": `{"dependencies":{"foo":"*"}}`}), DefaultNPMRegistry)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lock string // what the first command leaves; "" for nothing
		ok   bool
		want string
	}{
		{`{"packages":{"node_modules/foo":{"version":"1.0.0","resolved":"https://registry.npmjs.org/foo/-/foo-1.0.0.tgz","integrity":"sha512-AA=="}}}`, true, "$ npm ci"},
		{`{"packages":{"node_modules/foo":{"version":"1.0.0","resolved":"http://evil.example/foo.tgz","integrity":"sha512-AA=="}}}`, false, "the package-lock.json npm made: \"node_modules/foo\" is resolved to http://evil.example/foo.tgz"},
		{"", false, "npm made no package-lock.json"},
	} {
		scratch := t.TempDir()
		var ran [][]string
		var log bytes.Buffer
		ok, err := p.Run(scratch, &log, func(argv []string) (bool, error) {
			ran = append(ran, argv)
			if len(ran) == 1 && c.lock != "" {
				return true, os.WriteFile(filepath.Join(scratch, "package-lock.json"), []byte(c.lock), 0o644)
			}
			return true, nil
		})
		if err != nil || ok != c.ok || !strings.Contains(log.String(), c.want) || c.ok != (len(ran) == 2) {
			t.Errorf("lock %q: ok %v err %v, ran %q, log %q; want ok %v and a log saying %s", c.lock, ok, err, ran, log.String(), c.ok, c.want)
		}
	}
}

// A command that fails ends the fetch.
func TestRunStopsAtAFailure(t *testing.T) {
	p, err := NewPlan(sandbox.FetchNPM, ".", treeOf(map[string]string{"package.json": `{}`}), DefaultNPMRegistry)
	if err != nil {
		t.Fatal(err)
	}
	runs := 0
	ok, err := p.Run(t.TempDir(), &bytes.Buffer{}, func([]string) (bool, error) { runs++; return false, nil })
	if ok || err != nil || runs != 1 {
		t.Errorf("ok %v err %v after %d commands; want a failure after one", ok, err, runs)
	}
}
