package bwrap

import (
	"encoding/json"
	"fmt"
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

// checkPackageJSON refuses a package.json whose dependencies do not all come from the registry.
func checkPackageJSON(name string, data []byte) error {
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
		for dep, spec := range deps {
			if err := checkNPMDependency(dep, spec); err != nil {
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
	for key, sub := range overrides {
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

// checkPackageLock refuses a lock file with a package not downloaded from registry, or one
// linked from a directory.
func checkPackageLock(name string, data []byte, registry string) error {
	var lock struct {
		Packages     map[string]lockPackage      `json:"packages"`
		Dependencies map[string]lockV1Dependency `json:"dependencies"` // lockfileVersion 1
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return fmt.Errorf("%s is not a lock file: %v", name, err)
	}
	for key, p := range lock.Packages {
		if key == "" {
			continue // the project itself, checked in package.json
		}
		if !strings.HasPrefix(key, "node_modules/") || slices.Contains(strings.Split(key, "/"), "..") {
			return fmt.Errorf("%s installs %q, which is not in node_modules (a workspace or local package)", name, key)
		}
		if err := p.check(key, registry); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	return checkLockV1(name, lock.Dependencies, registry)
}

func checkLockV1(name string, deps map[string]lockV1Dependency, registry string) error {
	for dep, p := range deps {
		if strings.ContainsAny(p.Version, ":/") {
			return fmt.Errorf("%s: %q has version %q; only registry packages are allowed", name, dep, p.Version)
		}
		if err := (lockPackage{Resolved: p.Resolved}).check(dep, registry); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if err := checkLockV1(name, p.Dependencies, registry); err != nil {
			return err
		}
	}
	return nil
}

// lockPackage is an entry of a lock file's "packages" (lockfileVersion 2 and 3).
type lockPackage struct {
	Resolved string `json:"resolved"`
	Link     bool   `json:"link"`
}

// lockV1Dependency is an entry of a version 1 lock file's "dependencies" (nested).
type lockV1Dependency struct {
	Version      string                      `json:"version"`
	Resolved     string                      `json:"resolved"`
	Dependencies map[string]lockV1Dependency `json:"dependencies"`
}

func (p lockPackage) check(key, registry string) error {
	if p.Link {
		return fmt.Errorf("%q is linked from a directory; only registry packages are allowed", key)
	}
	if p.Resolved != "" && !strings.HasPrefix(p.Resolved, registry) {
		return fmt.Errorf("%q is resolved to %s, which is not the registry %s", key, p.Resolved, registry)
	}
	return nil
}
