package kubejob

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// fetchCommands are the commands that download a fetch's dependencies, none of which runs code
// of the project: the Go commands only read go.mod and the sources' imports; npm runs no
// package's scripts.
func fetchCommands(kind sandbox.FetchKind, dir string) [][]string {
	switch kind {
	case sandbox.FetchGo:
		// tidy completes a go.mod the agent left short; -e keeps going past a bad import,
		// which the build will report better.
		return [][]string{{"go", "mod", "download"}, {"go", "mod", "tidy", "-e"}}
	case sandbox.FetchNPM:
		ci := []string{"npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"}
		if hasLockFile(dir) {
			return [][]string{ci}
		}
		return [][]string{{"npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"}, ci}
	}
	return nil
}

func hasLockFile(dir string) bool {
	for _, name := range []string{"package-lock.json", "npm-shrinkwrap.json"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// fetch runs one fetch's commands in tree, stopping at the first that fails.
func (d *driver) fetch(ctx context.Context, tree string, f sandbox.Fetch, limits sandbox.Limits) sandbox.FetchResult {
	dir := filepath.Join(tree, filepath.FromSlash(f.Dir))
	cmds := fetchCommands(f.Kind, dir)
	lines := make([]string, len(cmds))
	for i, c := range cmds {
		lines[i] = strings.Join(c, " ")
	}
	res := sandbox.FetchResult{Kind: f.Kind, Dir: f.Dir, Command: strings.Join(lines, " && ")}
	if f.Dir != "" && f.Dir != "." {
		res.Command = "cd " + shellQuote(f.Dir) + " && " + res.Command
	}
	if f.Kind == sandbox.FetchNPM {
		if err := checkNPMSpecs(filepath.Join(dir, "package.json")); err != nil {
			res.Log = []byte(err.Error() + "\n")
			return res
		}
	}
	var log bytes.Buffer
	start := time.Now()
	res.OK = true
	for _, c := range cmds {
		fmt.Fprintf(&log, "$ %s\n", strings.Join(c, " "))
		exitCode, stopped, _, out := d.runCommand(ctx, dir, c, d.fetchEnv(), limits)
		log.Write(out)
		if exitCode != 0 || stopped != "" {
			if stopped != "" {
				fmt.Fprintf(&log, "[sandbox: %s]\n", stopped)
			}
			res.OK = false
			break
		}
	}
	res.Duration = time.Since(start)
	res.Log = capLog(log.Bytes(), limits.OutputBytes)
	return res
}

// capLog keeps the first limit bytes of b, with a note when it cuts.
func capLog(b []byte, limit int64) []byte {
	c := &cappedBuffer{limit: limit}
	c.Write(b)
	return c.Bytes()
}

// checkNPMSpecs refuses a package.json whose dependencies do not come from the registry: a
// file:, link:, git or URL spec would have npm read outside the tree or fetch from anywhere.
func checkNPMSpecs(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("package.json: %w", err)
	}
	var pkg map[string]json.RawMessage
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return fmt.Errorf("package.json is not a JSON object: %w", err)
	}
	for _, field := range []string{"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"} {
		var deps map[string]string
		if pkg[field] == nil {
			continue
		}
		if err := json.Unmarshal(pkg[field], &deps); err != nil {
			return fmt.Errorf("package.json: %s is not an object of names and versions: %w", field, err)
		}
		for _, name := range slices.Sorted(maps.Keys(deps)) {
			if !registrySpec(deps[name]) {
				return fmt.Errorf("package.json: %s: %q is %q, which is not a version from the registry (file:, link:, git and URL dependencies are not allowed)", field, name, deps[name])
			}
		}
	}
	return nil
}

// registrySpec reports whether a dependency's spec is a version, range or tag of the registry
// (or an npm: alias of one).
func registrySpec(spec string) bool {
	if alias, ok := strings.CutPrefix(spec, "npm:"); ok {
		name, version := alias, ""
		if at := strings.LastIndex(alias, "@"); at > 0 {
			name, version = alias[:at], alias[at+1:]
		}
		return packageName(name) && registrySpec(version)
	}
	spec = strings.TrimSpace(spec)
	return !strings.ContainsAny(spec, ":/\\#") && !strings.HasPrefix(spec, ".")
}

// packageName reports whether name can be a registry package's: "name" or "@scope/name".
func packageName(name string) bool {
	if strings.ContainsAny(name, ":\\#") || strings.HasPrefix(name, ".") {
		return false
	}
	scope, rest, scoped := strings.Cut(name, "/")
	if scoped {
		return strings.HasPrefix(scope, "@") && len(scope) > 1 && packageName(rest) && !strings.HasPrefix(rest, "@")
	}
	return name != ""
}
