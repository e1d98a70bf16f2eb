// Package forgetest is a git forge for tests: the real git binary's smart HTTP server (git
// http-backend, through net/http/cgi) behind token authentication the way GitHub, GitLab and
// Gitea take it (HTTP basic auth with the token as the password), plus GitHub's REST call that
// creates a repository for the token's user, answering in GitHub's own request and response
// shapes. Exports are tested against it end to end: pushed with go-git, then cloned and read
// back with git itself.
package forgetest

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Owner is the login of the token's user.
const Owner = "octocat"

// Forge is a running forge. Repositories live at URL/<owner>/<name>.git; GitHub's API is at
// URL (the base URL of a GitHub Enterprise server would be URL + "/api/v3"; the client only
// needs the paths below it).
type Forge struct {
	URL   string
	token string
	root  string
	// Requests counts every request the forge received.
	Requests atomic.Int64

	mu      sync.Mutex
	created []map[string]any
}

// Created returns the JSON bodies of the create-repository calls, in order.
func (f *Forge) Created() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.created)
}

// New starts a forge that accepts token. The test fails at once, clearly, without git.
func New(t *testing.T, token string) *Forge {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("forgetest needs the git binary on PATH (git http-backend serves the repositories)")
	}
	f := &Forge{token: token, root: t.TempDir()}
	backend := &cgi.Handler{
		Path: filepath.Join(RunGit(t, f.root, "--exec-path"), "git-http-backend"),
		Env:  append([]string{"GIT_PROJECT_ROOT=" + f.root, "GIT_HTTP_EXPORT_ALL=1"}, gitEnv...),
		// Its complaints (e.g. "Not a git repository") reach clients as HTTP statuses.
		Stderr: io.Discard,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.Requests.Add(1)
		if r.Method == http.MethodPost && r.URL.Path == "/user/repos" {
			f.createRepository(t, w, r)
			return
		}
		if user, password, ok := r.BasicAuth(); !ok || password != token || user == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			w.WriteHeader(http.StatusUnauthorized)
			// A careless server echoing what it got: clients must not pass this on.
			fmt.Fprintf(w, "bad credentials for %s:%s\n", user, password)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// NewRepository creates an empty repository and returns its URL.
func (f *Forge) NewRepository(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(f.root, Owner, name+".git")
	RunGit(t, f.root, "init", "--quiet", "--bare", "--initial-branch=main", dir)
	RunGit(t, dir, "config", "http.receivepack", "true")
	return f.RepositoryURL(name)
}

// RepositoryURL is the clone URL of the token user's repository name.
func (f *Forge) RepositoryURL(name string) string { return f.URL + "/" + Owner + "/" + name + ".git" }

// Dir is the bare repository of name on disk.
func (f *Forge) Dir(name string) string { return filepath.Join(f.root, Owner, name+".git") }

var repoName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

// createRepository is POST /user/repos as GitHub answers it: 201 with the repository, 401 for
// a wrong token, 422 for a name in use.
func (f *Forge) createRepository(t *testing.T, w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"message":"Problems parsing JSON","documentation_url":"https://docs.github.com/rest","status":"400"}`)
		return
	}
	f.mu.Lock()
	f.created = append(f.created, body)
	f.mu.Unlock()
	name, _ := body["name"].(string)
	private, _ := body["private"].(bool)
	if _, err := os.Stat(f.Dir(name)); err == nil || !repoName.MatchString(name) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		io.WriteString(w, `{"message":"Repository creation failed.","errors":[{"resource":"Repository","code":"custom","field":"name",`+
			`"message":"name already exists on this account"}],"documentation_url":"https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user","status":"422"}`)
		return
	}
	f.NewRepository(t, name)
	visibility := "public"
	if private {
		visibility = "private"
	}
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": name, "full_name": Owner + "/" + name,
		"owner":   map[string]any{"login": Owner, "id": 1, "type": "User"},
		"private": private, "visibility": visibility, "description": body["description"],
		"html_url": f.URL + "/" + Owner + "/" + name, "clone_url": f.RepositoryURL(name),
		"ssh_url": "git@forge.test:" + Owner + "/" + name + ".git", "default_branch": "main",
	})
}

// Clone clones the repository name with git itself and returns the work tree's files (path
// relative to the work tree, outside .git) and the clone's directory.
func (f *Forge) Clone(t *testing.T, name string) (files map[string]string, dir string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), name)
	RunGit(t, filepath.Dir(dir), "clone", "--quiet", f.Dir(name), dir)
	files = map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, dir
}

// gitEnv isolates git from the machine's and user's configuration.
var gitEnv = []string{"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0"}

// RunGit runs the real git binary in dir, isolated from the machine's configuration, and
// returns its trimmed output; the test fails if git does.
func RunGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), gitEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
