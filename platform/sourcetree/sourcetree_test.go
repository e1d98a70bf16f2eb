package sourcetree

import (
	"strings"
	"testing"
)

func TestCheckPath(t *testing.T) {
	for _, ok := range []string{"go.mod", "backend/cmd/server/main.go", "frontend/src/App.test.tsx", "a/b@c+d_e-f.g", ".github/workflows/ci.yml"} {
		if err := CheckPath(ok); err != nil {
			t.Errorf("CheckPath(%q) = %v", ok, err)
		}
	}
	for path, want := range map[string]string{
		"":                              "empty",
		"/etc/passwd":                   "absolute",
		"../x.go":                       `".." segment`,
		"a/./b.go":                      `"." segment`,
		"a//b.go":                       "empty segment",
		"a/":                            "empty segment",
		`a\b.go`:                        "backslash",
		"a b.go":                        "character",
		"-rf":                           "starting with -",
		".git/config":                   ".git segment",
		"web/.GIT/hooks/pre-commit":     ".git segment",
		"é.go":                          "character",
		strings.Repeat("a", 201):        "at most 200",
		strings.Repeat("a", 101) + "/b": "longer than 100",
	} {
		if err := CheckPath(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckPath(%q) = %v, want an error saying %q", path, err, want)
		}
	}
}

func TestHashIsOrderFreeAndContentBound(t *testing.T) {
	a := []Entry{{"a.go", ContentHash([]byte("x"))}, {"b.go", ContentHash([]byte("y"))}}
	b := []Entry{a[1], a[0]}
	if Hash(a) != Hash(b) || !strings.HasPrefix(Hash(a), "sha256:") {
		t.Fatalf("the order changed the hash: %s %s", Hash(a), Hash(b))
	}
	changed := []Entry{a[0], {"b.go", ContentHash([]byte("z"))}}
	moved := []Entry{a[0], {"c.go", a[1].ContentHash}}
	if Hash(changed) == Hash(a) || Hash(moved) == Hash(a) || Hash(nil) != "" {
		t.Fatal("a changed content or path kept the hash, or an empty tree has one")
	}
}

func TestIsHash(t *testing.T) {
	if h := Hash([]Entry{{Path: "a", ContentHash: ContentHash([]byte("x"))}}); !IsHash(h) || !IsHash(ContentHash(nil)) {
		t.Fatalf("IsHash(%q) is false", h)
	}
	for _, bad := range []string{"", "sha256:", "sha256:abc", "md5:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("A", 64),
		"sha256:" + strings.Repeat("g", 64), "sha256:" + strings.Repeat("a", 65)} {
		if IsHash(bad) {
			t.Errorf("IsHash(%q) is true", bad)
		}
	}
}
