package gitexport

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/documents/forgetest"
)

// testCommitter is the committer every test export uses.
var testCommitter = Signature{Name: "FuzzyLlama", Email: "export@fuzzyllama.test"}

// docVersions returns a history of three documents with three versions
// each, interleaved the way agents would write them.
func docVersions() []Version {
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	paris := time.FixedZone("CET", 3600)
	docs := []string{
		"docs/architecture/system-overview.md",
		"docs/requirements/prd.md",
		"docs/runbooks/deploy.md",
	}
	var vs []Version
	for rev := 1; rev <= 3; rev++ {
		for i, path := range docs {
			n := len(vs)
			vs = append(vs, Version{
				Path:        path,
				Content:     fmt.Appendf(nil, "# %s\n\nrevision %d\n", path, rev),
				Message:     fmt.Sprintf("Update %s (v%d)", path, rev),
				AuthorName:  fmt.Sprintf("agent-%d", i+1),
				AuthorEmail: fmt.Sprintf("agent-%d@agents.fuzzyllama.test", i+1),
				// Mixed zones: the export must not depend on them.
				Time: base.Add(time.Duration(n) * time.Hour).In(paris),
			})
		}
	}
	return vs
}

// seq streams vs the way the documents service would.
func seq(vs []Version) iter.Seq2[Version, error] {
	return func(yield func(Version, error) bool) {
		for _, v := range vs {
			if !yield(v, nil) {
				return
			}
		}
	}
}

// build exports vs on branch main into a fresh directory.
func build(t testing.TB, vs []Version) (*Repository, string) {
	t.Helper()
	dir := t.TempDir()
	repo, err := Build(context.Background(), dir, "main", testCommitter, seq(vs))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return repo, dir
}

// runGit runs the real git binary in dir.
var runGit = forgetest.RunGit

// testRemote is a real git server (see forgetest) holding one repository, remote.
type testRemote struct {
	*forgetest.Forge
	URL string // remote repository URL for Push
	Dir string // the bare repository on disk
}

func newTestRemote(t *testing.T, token string) *testRemote {
	t.Helper()
	f := forgetest.New(t, token)
	return &testRemote{Forge: f, URL: f.NewRepository(t, "remote"), Dir: f.Dir("remote")}
}

// head returns the remote's main branch tip, or "" when it has none.
func (rem *testRemote) head(t *testing.T) string {
	t.Helper()
	return runGit(t, rem.Dir, "for-each-ref", "--format=%(objectname)", "refs/heads/main")
}

// localPolicy lets a test reach its httptest server.
var localPolicy = Policy{AllowHTTP: true, AllowPrivateNetworks: true}

// newRedirectServer starts a server that answers every request with a 302 to
// location(path) and returns its URL.
func newRedirectServer(t *testing.T, location func(path string) string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, location(r.URL.Path)+"?"+r.URL.RawQuery, http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
