package gitexport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodToken = "ghp_test_token_0123456789"

func TestPushRoundTripThroughRealGit(t *testing.T) {
	t.Parallel()
	rem := newTestRemote(t, goodToken)
	vs := docVersions()
	repo, dir := build(t, vs)
	if repo.Commits() != len(vs) {
		t.Fatalf("Commits() = %d, want %d", repo.Commits(), len(vs))
	}
	// The built repository itself is one git accepts, with HEAD on main.
	runGit(t, dir, "fsck", "--strict", "--no-progress")
	if got := runGit(t, dir, "symbolic-ref", "HEAD"); got != "refs/heads/main" {
		t.Errorf("HEAD -> %q, want refs/heads/main", got)
	}

	if err := repo.Push(context.Background(), rem.URL, goodToken, localPolicy); err != nil {
		t.Fatalf("Push: %v", err)
	}
	if got := rem.head(t); got != repo.Head() {
		t.Fatalf("remote main = %q, want Head() %q", got, repo.Head())
	}
	runGit(t, rem.Dir, "fsck", "--strict", "--no-progress")

	clone := filepath.Join(t.TempDir(), "clone")
	runGit(t, t.TempDir(), "clone", "--quiet", rem.Dir, clone)

	if entries, err := os.ReadDir(clone); err != nil || len(entries) != 2 || entries[0].Name() != ".git" || entries[1].Name() != "docs" {
		t.Errorf("clone root holds %v (%v), want just .git and docs", entries, err)
	}
	latest := map[string]string{}
	for _, v := range vs {
		latest[v.Path] = string(v.Content)
	}
	if got := readTree(t, filepath.Join(clone, "docs")); !maps.Equal(got, latest) {
		t.Errorf("files under docs/ in the clone:\n%v\nwant the latest versions:\n%v", got, latest)
	}

	var want []string
	for _, v := range vs {
		want = append(want, fmt.Sprintf("%s|%s|%d|%s|%s|%d|%s",
			v.AuthorName, v.AuthorEmail, v.Time.Unix(),
			testCommitter.Name, testCommitter.Email, v.Time.Unix(), v.Message))
	}
	got := runGit(t, clone, "log", "--reverse", "--format=%an|%ae|%at|%cn|%ce|%ct|%s")
	if got != strings.Join(want, "\n") {
		t.Errorf("git log, oldest first:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestPushGrownHistoryIsFastForward(t *testing.T) {
	t.Parallel()
	rem := newTestRemote(t, goodToken)
	vs := docVersions()
	first, _ := build(t, vs[:5])
	if err := first.Push(context.Background(), rem.URL, goodToken, localPolicy); err != nil {
		t.Fatalf("first Push: %v", err)
	}

	grown, _ := build(t, vs)
	if err := grown.Push(context.Background(), rem.URL, goodToken, localPolicy); err != nil {
		t.Fatalf("Push of the grown history: %v", err)
	}
	if got := rem.head(t); got != grown.Head() {
		t.Fatalf("remote main = %q, want %q", got, grown.Head())
	}
	if got := runGit(t, rem.Dir, "rev-list", "--count", "main"); got != fmt.Sprint(len(vs)) {
		t.Errorf("remote has %s commits, want %d", got, len(vs))
	}
	// The first export's tip is still in the remote's history.
	runGit(t, rem.Dir, "merge-base", "--is-ancestor", first.Head(), "main")

	if err := grown.Push(context.Background(), rem.URL, goodToken, localPolicy); err != nil {
		t.Fatalf("Push when already up to date: %v", err)
	}
	if got := rem.head(t); got != grown.Head() {
		t.Errorf("remote main moved to %q on an up-to-date push", got)
	}
}

func TestPushWrongTokenIsAuthenticationError(t *testing.T) {
	t.Parallel()
	rem := newTestRemote(t, goodToken)
	repo, _ := build(t, docVersions())

	const wrong = "ghp_wrong_token_9876543210"
	err := repo.Push(context.Background(), rem.URL, wrong, localPolicy)
	if !errors.Is(err, ErrAuthentication) {
		t.Fatalf("Push with a wrong token: %v, want ErrAuthentication", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("error text contains the token: %q", err)
	}
	if got := rem.head(t); got != "" {
		t.Errorf("remote main = %q after a refused push, want no branch", got)
	}
}

func TestPushNeverOverwritesRemoteWork(t *testing.T) {
	t.Parallel()
	rem := newTestRemote(t, goodToken)
	vs := docVersions()
	first, _ := build(t, vs[:3])
	if err := first.Push(context.Background(), rem.URL, goodToken, localPolicy); err != nil {
		t.Fatalf("Push: %v", err)
	}

	// Someone commits on the remote directly.
	work := filepath.Join(t.TempDir(), "work")
	runGit(t, t.TempDir(), "clone", "--quiet", rem.Dir, work)
	if err := os.WriteFile(filepath.Join(work, "NOTES.md"), []byte("human notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, work, "add", "NOTES.md")
	runGit(t, work, "-c", "user.name=Human", "-c", "user.email=human@example.test", "commit", "--quiet", "-m", "Notes")
	runGit(t, work, "push", "--quiet", "origin", "main")
	theirs := runGit(t, work, "rev-parse", "HEAD")

	grown, _ := build(t, vs)
	err := grown.Push(context.Background(), rem.URL, goodToken, localPolicy)
	if !errors.Is(err, ErrNonFastForward) {
		t.Fatalf("Push over a remote commit: %v, want ErrNonFastForward", err)
	}
	if got := rem.head(t); got != theirs {
		t.Errorf("remote main = %q, want the remote's own commit %q to survive", got, theirs)
	}
}

func TestPushRefusesPrivateAddressAtDialTime(t *testing.T) {
	t.Parallel()
	rem := newTestRemote(t, goodToken)
	repo, _ := build(t, docVersions()[:1])

	// "localhost" passes CheckRemoteURL (it is a name, not an address), so
	// only the dialer, seeing 127.0.0.1 or ::1, can stop this.
	url := strings.Replace(rem.URL, "127.0.0.1", "localhost", 1)
	err := repo.Push(context.Background(), url, goodToken, Policy{AllowHTTP: true})
	if !errors.Is(err, ErrRemoteRefused) {
		t.Fatalf("Push to localhost without AllowPrivateNetworks: %v, want ErrRemoteRefused", err)
	}
	if n := rem.Requests.Load(); n != 0 {
		t.Errorf("the server received %d requests, want none", n)
	}
}

func TestPushWithZeroPolicyRefusesLoopback(t *testing.T) {
	t.Parallel()
	rem := newTestRemote(t, goodToken)
	repo, _ := build(t, docVersions()[:1])

	for _, url := range []string{
		rem.URL, // http://127.0.0.1:port/remote.git
		strings.Replace(rem.URL, "http://", "https://", 1),
		strings.Replace(strings.Replace(rem.URL, "http://", "https://", 1), "127.0.0.1", "localhost", 1),
	} {
		err := repo.Push(context.Background(), url, goodToken, Policy{})
		if !errors.Is(err, ErrInvalidRemoteURL) && !errors.Is(err, ErrRemoteRefused) {
			t.Errorf("Push(%s) with the zero Policy: %v, want a refusal", url, err)
		}
	}
	if n := rem.Requests.Load(); n != 0 {
		t.Errorf("the server received %d requests, want none", n)
	}
}

func TestPushRefusesRedirectToAnotherScheme(t *testing.T) {
	t.Parallel()
	target := newTestRemote(t, goodToken)
	redirector := newRedirectServer(t, func(path string) string {
		return strings.Replace(target.URL, "http://", "https://", 1) + strings.TrimPrefix(path, "/remote.git")
	})
	repo, _ := build(t, docVersions()[:1])

	err := repo.Push(context.Background(), redirector+"/remote.git", goodToken, localPolicy)
	if !errors.Is(err, ErrRemoteRefused) {
		t.Fatalf("Push through an http -> https redirect: %v, want ErrRemoteRefused", err)
	}
	if n := target.Requests.Load(); n != 0 {
		t.Errorf("the redirect target received %d requests, want none", n)
	}
}

func TestPushRefusesRedirectLoop(t *testing.T) {
	t.Parallel()
	var self string
	self = newRedirectServer(t, func(path string) string { return self + path })
	repo, _ := build(t, docVersions()[:1])

	err := repo.Push(context.Background(), self+"/remote.git", goodToken, localPolicy)
	if !errors.Is(err, ErrRemoteRefused) {
		t.Fatalf("Push into a redirect loop: %v, want ErrRemoteRefused", err)
	}
}

func TestPushToMissingRepository(t *testing.T) {
	t.Parallel()
	rem := newTestRemote(t, goodToken)
	repo, _ := build(t, docVersions()[:1])
	err := repo.Push(context.Background(), strings.TrimSuffix(rem.URL, "remote.git")+"missing.git", goodToken, localPolicy)
	if !errors.Is(err, ErrRemoteNotFound) {
		t.Fatalf("Push to a repository that does not exist: %v, want ErrRemoteNotFound", err)
	}
}

// TestPushStopsReadingAnEndlessAnswer: a hostile remote answering with an endless error body
// gets a refused push, not a process that reads (and holds) it all.
func TestPushStopsReadingAnEndlessAnswer(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusNotFound, http.StatusOK} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-git-receive-pack-advertisement")
			w.WriteHeader(status)
			chunk := []byte(strings.Repeat("x", 64<<10))
			for {
				if _, err := w.Write(chunk); err != nil {
					return // the client hung up
				}
			}
		}))
		t.Cleanup(srv.Close)
		repo, _ := build(t, docVersions()[:1])
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := repo.Push(ctx, srv.URL+"/endless.git", goodToken, localPolicy)
		cancel()
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("status %d with an endless body: err = %v, want a refusal well before the deadline", status, err)
		}
	}
}

// readTree returns every file under dir, keyed by its path relative to
// dir's parent (so "docs/...").
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(filepath.Dir(dir), path)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestPushToClosedPortIsUnreachable: a failed dial is ErrUnreachable, which callers can report
// without the dialed address.
func TestPushToClosedPortIsUnreachable(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	repo, _ := build(t, docVersions()[:1])
	err = repo.Push(context.Background(), "http://"+addr+"/remote.git", goodToken, localPolicy)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Push to a closed port: %v, want ErrUnreachable", err)
	}
}
