package gitexport

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"
)

func TestBuildIsDeterministic(t *testing.T) {
	t.Parallel()
	vs := docVersions()
	a, _ := build(t, vs)
	b, _ := build(t, vs)
	if a.Head() != b.Head() {
		t.Fatalf("two builds of the same versions: heads %s and %s", a.Head(), b.Head())
	}

	// The same instant in another zone is the same export.
	inUTC := append([]Version(nil), vs...)
	for i := range inUTC {
		inUTC[i].Time = inUTC[i].Time.UTC()
	}
	if c, _ := build(t, inUTC); c.Head() != a.Head() {
		t.Errorf("the same times in UTC gave head %s, want %s", c.Head(), a.Head())
	}

	changes := map[string]func(*Version){
		"time":    func(v *Version) { v.Time = v.Time.Add(time.Second) },
		"content": func(v *Version) { v.Content = append([]byte("edited "), v.Content...) },
		"message": func(v *Version) { v.Message += "!" },
		"author":  func(v *Version) { v.AuthorName = "someone-else" },
	}
	for name, change := range changes {
		changed := append([]Version(nil), vs...)
		change(&changed[4])
		if c, _ := build(t, changed); c.Head() == a.Head() {
			t.Errorf("changing one version's %s left the head at %s", name, a.Head())
		}
	}
}

func TestBuildKeepsACommitPerVersionEvenWithoutChanges(t *testing.T) {
	t.Parallel()
	vs := docVersions()[:2]
	again := vs[1]
	again.Message = "Re-save without changes"
	again.Time = again.Time.Add(time.Minute)
	repo, dir := build(t, append(vs, again))

	if repo.Commits() != 3 {
		t.Fatalf("Commits() = %d, want 3", repo.Commits())
	}
	if got := runGit(t, dir, "rev-list", "--count", "main"); got != "3" {
		t.Errorf("git counts %s commits on main, want 3", got)
	}
	if got := runGit(t, dir, "log", "-1", "--format=%s", "main"); got != again.Message {
		t.Errorf("last commit message %q, want %q", got, again.Message)
	}
}

func TestBuildRefusesBadPaths(t *testing.T) {
	t.Parallel()
	for _, path := range []string{
		"",
		"../x",
		"docs/../../x",
		"/abs",
		"docs//x",
		"docs/x/",
		"docs/./x",
		"docs/.git/config",
		".git/hooks/pre-commit",
		"docs/.GIT/config",
		"docs/a\x00b.md",
		"docs/\xff.md",
	} {
		v := docVersions()[0]
		v.Path = path
		_, err := Build(context.Background(), t.TempDir(), "main", testCommitter, seq([]Version{v}))
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Build with path %q: %v, want ErrInvalidInput", path, err)
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", path)) {
			t.Errorf("error for path %q does not name it: %v", path, err)
		}
	}
}

func TestBuildRefusesFileAndDirectoryWithTheSameName(t *testing.T) {
	t.Parallel()
	for _, paths := range [][2]string{
		{"docs/guide", "docs/guide/intro.md"},
		{"docs/guide/intro.md", "docs/guide"},
	} {
		vs := docVersions()[:2]
		vs[0].Path, vs[1].Path = paths[0], paths[1]
		_, err := Build(context.Background(), t.TempDir(), "main", testCommitter, seq(vs))
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "docs/guide") {
			t.Errorf("Build of %s then %s: %v, want ErrInvalidInput naming docs/guide", paths[0], paths[1], err)
		}
	}
}

func TestBuildRefusesBadBranchNames(t *testing.T) {
	t.Parallel()
	for _, branch := range []string{
		"", "-main", "/main", "main/", "main.", "main.lock", "feature/x.lock",
		"a..b", "a//b", ".hidden", "a/.b", "with space", "a~1", "a^", "a:b", "a@{1}", "a*", "a[b", `a\b`,
	} {
		_, err := Build(context.Background(), t.TempDir(), branch, testCommitter, seq(docVersions()))
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Build on branch %q: %v, want ErrInvalidInput", branch, err)
		}
	}
	for _, branch := range []string{"main", "export/2026-03", "v1.2_docs"} {
		dir := t.TempDir()
		repo, err := Build(context.Background(), dir, branch, testCommitter, seq(docVersions()))
		if err != nil {
			t.Errorf("Build on branch %q: %v", branch, err)
			continue
		}
		if got := runGit(t, dir, "symbolic-ref", "HEAD"); got != "refs/heads/"+branch {
			t.Errorf("branch %q: HEAD -> %s", branch, got)
		}
		if got := runGit(t, dir, "rev-parse", "refs/heads/"+branch); got != repo.Head() {
			t.Errorf("branch %q is at %s, want Head() %s", branch, got, repo.Head())
		}
	}
}

func TestBuildRefusesBrokenVersions(t *testing.T) {
	t.Parallel()
	cases := map[string]func(*Version){
		"no author name":        func(v *Version) { v.AuthorName = "" },
		"no author email":       func(v *Version) { v.AuthorEmail = " " },
		"angle bracket in name": func(v *Version) { v.AuthorName = "Eve <eve@evil>" },
		"newline in email":      func(v *Version) { v.AuthorEmail = "a@b\ncommitter x" },
		"no message":            func(v *Version) { v.Message = "\n" },
		"no time":               func(v *Version) { v.Time = time.Time{} },
	}
	for name, breakIt := range cases {
		vs := docVersions()
		breakIt(&vs[2])
		_, err := Build(context.Background(), t.TempDir(), "main", testCommitter, seq(vs))
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "version 3") {
			t.Errorf("%s: %v, want ErrInvalidInput naming version 3", name, err)
		}
	}
	_, err := Build(context.Background(), t.TempDir(), "main", Signature{Name: "x"}, seq(docVersions()))
	if !errors.Is(err, ErrInvalidInput) {
		t.Errorf("committer without email: %v, want ErrInvalidInput", err)
	}
}

func TestBuildWithNoVersions(t *testing.T) {
	t.Parallel()
	_, err := Build(context.Background(), t.TempDir(), "main", testCommitter, seq(nil))
	if !errors.Is(err, ErrNothingToExport) {
		t.Fatalf("Build of no versions: %v, want ErrNothingToExport", err)
	}
}

func TestBuildStopsAtIteratorError(t *testing.T) {
	t.Parallel()
	fetchFailed := errors.New("content store unavailable")
	vs := docVersions()
	versions := func(yield func(Version, error) bool) {
		if !yield(vs[0], nil) {
			return
		}
		yield(Version{}, fetchFailed)
	}
	_, err := Build(context.Background(), t.TempDir(), "main", testCommitter, versions)
	if !errors.Is(err, fetchFailed) {
		t.Fatalf("Build: %v, want the iterator's error", err)
	}
}

func TestBuildHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Build(ctx, t.TempDir(), "main", testCommitter, seq(docVersions()))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Build with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestBuildRefusesNonEmptyDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(context.Background(), dir, "main", testCommitter, seq(docVersions())); err == nil {
		t.Fatal("Build into a non-empty directory succeeded")
	}
	if b, err := os.ReadFile(filepath.Join(dir, "keep.txt")); err != nil || string(b) != "mine" {
		t.Errorf("the caller's file was touched: %q, %v", b, err)
	}
}

// TestBuildDoesNotRetainContent streams 200 versions of 256 KiB (50 MiB in
// all) and checks, as it goes, that the garbage collector has reclaimed the
// content of versions Build is done with.
func TestBuildDoesNotRetainContent(t *testing.T) {
	t.Parallel()
	n, size := 200, 256<<10
	if raceDetector {
		size = 32 << 10 // the same check on less data; -race makes zlib slow
	}
	var yielded []weak.Pointer[byte]
	versions := func(yield func(Version, error) bool) {
		for i := range n {
			if i > 0 && i%50 == 0 {
				runtime.GC()
				// Allow the one version Build may still be working on.
				for j, p := range yielded[:i-1] {
					if p.Value() != nil {
						t.Errorf("before version %d: content of version %d is still reachable", i+1, j+1)
						return
					}
				}
			}
			content := generated(i, size)
			yielded = append(yielded, weak.Make(&content[0]))
			if !yield(largeVersion(i, content), nil) {
				return
			}
		}
	}
	repo, err := Build(context.Background(), t.TempDir(), "main", testCommitter, versions)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if repo.Commits() != n {
		t.Errorf("Commits() = %d, want %d", repo.Commits(), n)
	}
}

// BenchmarkBuild exports 100 versions of 10 KiB over 10 documents; its
// allocation figures back the claim that Build does not hold content.
func BenchmarkBuild(b *testing.B) {
	const n, size = 100, 10 << 10
	var versions iter.Seq2[Version, error] = func(yield func(Version, error) bool) {
		for i := range n {
			if !yield(largeVersion(i, generated(i, size)), nil) {
				return
			}
		}
	}
	b.ReportAllocs()
	b.SetBytes(n * size)
	for b.Loop() {
		b.StopTimer()
		dir, err := os.MkdirTemp(b.TempDir(), "export")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := Build(context.Background(), dir, "main", testCommitter, versions); err != nil {
			b.Fatal(err)
		}
	}
}

// generated returns size bytes of text unique to version i.
func generated(i, size int) []byte {
	line := fmt.Appendf(nil, "version %d: the quick brown llama jumps over the lazy agent\n", i)
	return []byte(strings.Repeat(string(line), size/len(line)+1)[:size])
}

func largeVersion(i int, content []byte) Version {
	return Version{
		Path:        fmt.Sprintf("docs/generated/doc-%02d.md", i%10),
		Content:     content,
		Message:     fmt.Sprintf("Version %d", i+1),
		AuthorName:  "agent",
		AuthorEmail: "agent@agents.fuzzyllama.test",
		Time:        time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
	}
}
