package deps

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// An npm dependency may name a version range of a registry package and nothing else: file:,
// link:, git, URL, GitHub "owner/repo" and workspace: specs would bring code from outside the
// registry (or the host's disk) into node_modules.

var (
	npmName = regexp.MustCompile(`^(@[A-Za-z0-9][A-Za-z0-9._~-]*/)?[A-Za-z0-9][A-Za-z0-9._~-]*$`)
	// A semver range ("^1.2.3", ">=1 <2 || 3.x", "1.0.0-rc.1") or a dist-tag ("latest").
	npmRange = regexp.MustCompile(`^[0-9A-Za-z.*^~<>=|+ -]*$`)
)

var npmDependencyFields = []string{"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"}

// CheckPackageJSON refuses a package.json whose dependencies do not all come from the registry.
func CheckPackageJSON(name string, data []byte) error {
	var pkg map[string]json.RawMessage
	if err := json.Unmarshal(data, &pkg); err != nil {
		return fmt.Errorf("%s is not a JSON object: %v", name, err)
	}
	if _, ok := pkg["workspaces"]; ok {
		return fmt.Errorf("%s declares workspaces; the sandbox installs registry packages only (put each package's dependencies in its own package.json)", name)
	}
	for _, field := range npmDependencyFields {
		raw, ok := pkg[field]
		if !ok {
			continue
		}
		var deps map[string]string
		if err := json.Unmarshal(raw, &deps); err != nil {
			return fmt.Errorf("%s: %q must map package names to version ranges", name, field)
		}
		for _, dep := range slices.Sorted(maps.Keys(deps)) {
			if err := checkNPMDependency(dep, deps[dep]); err != nil {
				return fmt.Errorf("%s: %s %v", name, field, err)
			}
		}
	}
	if raw, ok := pkg["overrides"]; ok {
		var overrides any
		if err := json.Unmarshal(raw, &overrides); err != nil {
			return fmt.Errorf("%s: overrides cannot be read: %v", name, err)
		}
		if err := checkOverrides(overrides); err != nil {
			return fmt.Errorf("%s: overrides %v", name, err)
		}
	}
	return nil
}

func checkNPMDependency(dep, spec string) error {
	if !npmName.MatchString(dep) {
		return fmt.Errorf("has %q, which is not an npm package name", dep)
	}
	if !isNPMRange(spec) {
		return fmt.Errorf("%q is %q; only version ranges of registry packages are allowed (no file:, link:, git, URL, owner/repo or workspace: specs)", dep, spec)
	}
	return nil
}

func isNPMRange(spec string) bool {
	return !strings.ContainsAny(spec, ":/\\#@") && npmRange.MatchString(spec)
}

// checkOverrides checks package.json's overrides, nested or not: keys are package names
// (optionally "name@range") or "." (the package the object overrides), values version ranges
// or "$dep", which refers to a dependency's own range.
func checkOverrides(v any) error {
	overrides, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("must be an object of version ranges")
	}
	for _, key := range slices.Sorted(maps.Keys(overrides)) {
		sub := overrides[key]
		if key != "." {
			name, rng, _ := strings.Cut(strings.TrimPrefix(key, "@"), "@")
			if strings.HasPrefix(key, "@") {
				name = "@" + name
			}
			if err := checkNPMDependency(name, rng); err != nil {
				return err
			}
		}
		switch sub := sub.(type) {
		case string:
			if ref, isRef := strings.CutPrefix(sub, "$"); isRef && npmName.MatchString(ref) {
				continue
			}
			if !isNPMRange(sub) {
				return fmt.Errorf("%q is %q; only version ranges of registry packages are allowed", key, sub)
			}
		default:
			if err := checkOverrides(sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// A lock file says where npm ci takes each package from, whatever package.json says: an entry's
// "version" may be a file: path or a URL, "resolved" a directory or any host, "name" (an alias's
// package) a spec of its own. Only entries naming an exact version of a registry package, with
// its integrity hash, are allowed; "resolved", when there (npm leaves it out with
// omit-lockfile-registry-resolved), must be on the registry. Packages bundled in a registry
// package's tarball have no integrity of their own.

var (
	// An exact semver version: "1.2.3", "1.0.0-rc.1", "2.0.0+build.5".
	exactVersion  = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	integrityHash = regexp.MustCompile(`^sha(1|256|384|512)-[A-Za-z0-9+/]+={0,2}$`)
)

// CheckPackageLock refuses a lock file with a package that npm would not download from
// registry: one linked or copied from a directory, fetched from a URL or cloned with git.
func CheckPackageLock(name string, data []byte, registry string) error {
	var lock struct {
		Packages     map[string]lockPackage      `json:"packages"`
		Dependencies map[string]lockV1Dependency `json:"dependencies"` // lockfileVersion 1
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return fmt.Errorf("%s is not a lock file: %v", name, err)
	}
	if !strings.HasSuffix(registry, "/") {
		registry += "/"
	}
	for _, key := range slices.Sorted(maps.Keys(lock.Packages)) {
		if key == "" {
			continue // the project itself, checked in package.json
		}
		p := lock.Packages[key]
		if err := checkLockKey(key); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if p.Link {
			return fmt.Errorf("%s: %q is linked from a directory; only registry packages are allowed", name, key)
		}
		if p.Name != "" && !npmName.MatchString(p.Name) {
			return fmt.Errorf("%s: %q is named %q, which is not an npm package name", name, key, p.Name)
		}
		if err := checkLockEntry(key, p.Version, p.Resolved, p.Integrity, p.InBundle, registry); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	return checkLockV1(name, "", lock.Dependencies, registry)
}

// checkLockKey refuses a "packages" key that is not a place in node_modules:
// "node_modules/a/node_modules/@s/b".
func checkLockKey(key string) error {
	rest, ok := strings.CutPrefix(key, "node_modules/")
	if !ok {
		return fmt.Errorf("%q is not in node_modules (a workspace or local package); only registry packages are allowed", key)
	}
	for _, pkg := range strings.Split(rest, "/node_modules/") {
		if !npmName.MatchString(pkg) {
			return fmt.Errorf("%q is not in node_modules: %q is not an npm package name", key, pkg)
		}
	}
	return nil
}

// checkLockV1 checks a version 1 lock file's nested dependencies; parent names where they are.
func checkLockV1(name, parent string, deps map[string]lockV1Dependency, registry string) error {
	for _, dep := range slices.Sorted(maps.Keys(deps)) {
		p, where := deps[dep], parent+dep
		if !npmName.MatchString(dep) {
			return fmt.Errorf("%s: %q is not an npm package name", name, where)
		}
		if err := checkLockEntry(where, p.Version, p.Resolved, p.Integrity, p.Bundled, registry); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if err := checkLockV1(name, where+" > ", p.Dependencies, registry); err != nil {
			return err
		}
	}
	return nil
}

// checkLockEntry checks one package of a lock file: an exact version, with its integrity unless
// it comes bundled in its parent's tarball, and resolved, if at all, on the registry.
func checkLockEntry(key, version, resolved, integrity string, bundled bool, registry string) error {
	if !exactVersion.MatchString(version) {
		return fmt.Errorf("%q has version %q; only exact versions of registry packages are allowed (no file:, link:, git or URL)", key, version)
	}
	if resolved != "" && !strings.HasPrefix(resolved, registry) {
		return fmt.Errorf("%q is resolved to %s, which is not the registry %s", key, resolved, registry)
	}
	if bundled {
		return nil
	}
	if strings.TrimSpace(integrity) == "" {
		return fmt.Errorf("%q has no integrity hash; npm writes one for every registry package (make the lock file again with npm install)", key)
	}
	for _, h := range strings.Fields(integrity) {
		if !integrityHash.MatchString(h) {
			return fmt.Errorf("%q has the integrity %q, which is not a hash npm writes", key, integrity)
		}
	}
	return nil
}

// lockPackage is an entry of a lock file's "packages" (lockfileVersion 2 and 3).
type lockPackage struct {
	Name      string `json:"name"` // the package an alias installs
	Version   string `json:"version"`
	Resolved  string `json:"resolved"`
	Integrity string `json:"integrity"`
	Link      bool   `json:"link"`
	// InBundle: the package comes inside its parent's tarball, which npm writes no URL for.
	InBundle bool `json:"inBundle"`
}

// lockV1Dependency is an entry of a version 1 lock file's "dependencies" (nested).
type lockV1Dependency struct {
	Version      string                      `json:"version"`
	Resolved     string                      `json:"resolved"`
	Integrity    string                      `json:"integrity"`
	Bundled      bool                        `json:"bundled"`
	Dependencies map[string]lockV1Dependency `json:"dependencies"`
}
