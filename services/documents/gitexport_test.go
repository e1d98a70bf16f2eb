package documents_test

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/services/documents"
	"github.com/fuzzyllama/fuzzyllama/services/documents/forgetest"
	"github.com/fuzzyllama/fuzzyllama/services/documents/gitexport"
	"github.com/fuzzyllama/fuzzyllama/services/documents/github"
)

const forgeToken = "ghp_testtoken0123456789abcdefghijklmnop"

// withForge points the fixture's exports at a forge on loopback.
func withForge(t *testing.T, fx fixture) *forgetest.Forge {
	t.Helper()
	f := forgetest.New(t, forgeToken)
	fx.svc.Export = documents.ExportConfig{TempDir: t.TempDir(), Policy: gitexport.Policy{AllowHTTP: true, AllowPrivateNetworks: true},
		GitHub: &github.Client{BaseURL: f.URL}, Committer: gitexport.Signature{Name: "FuzzyLlama", Email: "export@fuzzyllama.invalid"}}
	return f
}

func TestExportToGitRoundTrip(t *testing.T) {
	eachStore(t, func(t *testing.T, fx fixture) {
		forge := withForge(t, fx)
		remote := forge.NewRepository(t, "docs")
		arch := fx.create(t, "ann", documents.NewDocument{Gate: 3, Type: "architecture", Title: "System Overview", Content: []byte("# v1\n"), ChangeNote: "first cut"})
		for n, content := range []string{"# v2\n", "# v3\n"} {
			if _, _, err := fx.svc.UpdateDocument(as("ed"), delegated("ed"), "p1", arch.Document.ID, n+1, []byte(content), "", documents.Agent{RunID: "run-3", Role: "architect"}); err != nil {
				t.Fatal(err)
			}
		}
		fx.create(t, "ann", documents.NewDocument{Gate: 5, Type: "code", Title: "backend/main.go", Content: []byte("package main\n")})

		out, err := fx.svc.ExportToGit(as("vic"), "p1", documents.GitExport{RemoteURL: remote, Token: forgeToken})
		if err != nil {
			t.Fatal(err)
		}
		if out.Commits != 4 || out.Branch != "main" || len(out.Head) != 40 || out.RemoteURL != remote {
			t.Fatalf("export: %+v", out)
		}
		files, dir := forge.Clone(t, "docs")
		want := map[string]string{"docs/architecture/system-overview.md": "# v3\n", "backend/main.go": "package main\n"}
		if len(files) != len(want) {
			t.Errorf("clone holds %v", files)
		}
		for path, content := range want {
			if files[path] != content {
				t.Errorf("%s = %q, want %q", path, files[path], content)
			}
		}
		// History follows the versions, oldest first, with who wrote each.
		log := forgetest.RunGit(t, dir, "log", "--reverse", "--format=%an|%s|%(trailers:key=Document-Version,valueonly)")
		lines := strings.FieldsFunc(log, func(r rune) bool { return r == '\n' }) // the trailer ends in a line break
		if len(lines) < 4 || !strings.HasPrefix(lines[0], "FuzzyLlama user ann|first cut|1") ||
			!strings.HasPrefix(lines[1], "architect agent|System Overview: version 2") || !strings.Contains(log, "backend/main.go: version 1") {
			t.Errorf("git log:\n%s", log)
		}
		if head := forgetest.RunGit(t, dir, "rev-parse", "HEAD"); head != out.Head {
			t.Errorf("clone's HEAD %s, export said %s", head, out.Head)
		}

		// Exporting again changes nothing; after a new version it is a fast-forward.
		again, err := fx.svc.ExportToGit(as("ann"), "p1", documents.GitExport{RemoteURL: remote, Token: forgeToken})
		if err != nil || again.Head != out.Head {
			t.Fatalf("export again: %+v, %v (head was %s)", again, err, out.Head)
		}
		if _, _, err := fx.svc.UpdateDocument(as("ann"), identity("ann"), "p1", arch.Document.ID, 3, []byte("# v4\n"), "", documents.Agent{}); err != nil {
			t.Fatal(err)
		}
		grown, err := fx.svc.ExportToGit(as("ann"), "p1", documents.GitExport{RemoteURL: remote, Token: forgeToken})
		if err != nil || grown.Commits != 5 {
			t.Fatalf("export after a new version: %+v, %v", grown, err)
		}
		if parent := forgetest.RunGit(t, forge.Dir("docs"), "rev-parse", "main~1"); parent != out.Head {
			t.Errorf("the grown history's parent is %s, want the previous head %s", parent, out.Head)
		}
	})
}

func TestExportToGitRefusals(t *testing.T) {
	fx := newFixture(t, stores["sqlite"])
	forge := withForge(t, fx)
	remote := forge.NewRepository(t, "docs")
	fx.create(t, "ann", documents.NewDocument{Type: "requirements", Title: "PRD", Content: []byte("# PRD\n")})

	// A wrong token: a 400 naming the token, without it.
	_, err := fx.svc.ExportToGit(as("ann"), "p1", documents.GitExport{RemoteURL: remote, Token: "ghp_wrong_secret_value"})
	if !fields(err)["token"] || strings.Contains(err.Error(), "ghp_wrong_secret_value") {
		t.Errorf("wrong token: %v", err)
	}
	// Work on the remote is never overwritten.
	_, clone := forge.Clone(t, "docs")
	forgetest.RunGit(t, clone, "-c", "user.name=Someone", "-c", "user.email=s@example.com", "commit", "--quiet", "--allow-empty", "-m", "their work")
	forgetest.RunGit(t, clone, "push", "--quiet", "origin", "HEAD:main")
	theirs := forgetest.RunGit(t, forge.Dir("docs"), "rev-parse", "main")
	_, err = fx.svc.ExportToGit(as("ann"), "p1", documents.GitExport{RemoteURL: remote, Token: forgeToken})
	if e := wantKind(t, "remote with other work", err, apperr.KindFailedPrecondition); e.Reason != "NON_FAST_FORWARD" {
		t.Errorf("non-fast-forward: %+v", e)
	}
	if got := forgetest.RunGit(t, forge.Dir("docs"), "rev-parse", "main"); got != theirs {
		t.Errorf("the remote's main moved from %s to %s", theirs, got)
	}
	// Bad requests, each naming its field.
	for _, tc := range []struct {
		e     documents.GitExport
		field string
	}{
		{documents.GitExport{RemoteURL: remote}, "token"},
		{documents.GitExport{RemoteURL: remote, Token: "has space"}, "token"},
		{documents.GitExport{RemoteURL: "https://x-access-token:secret@github.com/o/r.git", Token: forgeToken}, "remoteUrl"},
		{documents.GitExport{RemoteURL: "git@github.com:o/r.git", Token: forgeToken}, "remoteUrl"},
		{documents.GitExport{RemoteURL: "file:///etc", Token: forgeToken}, "remoteUrl"},
		{documents.GitExport{RemoteURL: remote, Token: forgeToken, Branch: "../main"}, "branch"},
		{documents.GitExport{Token: forgeToken, CreateRepository: &github.NewRepository{Name: "no spaces allowed"}}, "createGithubRepository.name"},
		{documents.GitExport{RemoteURL: remote, Token: forgeToken, CreateRepository: &github.NewRepository{Name: "x"}}, "remoteUrl"},
	} {
		if _, err := fx.svc.ExportToGit(as("ann"), "p1", tc.e); !fields(err)[tc.field] {
			t.Errorf("%+v: err %v, want a violation of %s", tc.e, err, tc.field)
		}
	}
	// A remote that is no git server is the caller's problem, said so, not this service's outage.
	notGit := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>hello</html>") }))
	defer notGit.Close()
	_, err = fx.svc.ExportToGit(as("ann"), "p1", documents.GitExport{RemoteURL: notGit.URL + "/repo.git", Token: forgeToken})
	if e := wantKind(t, "a remote that is no git server", err, apperr.KindFailedPrecondition); e.Reason != "PUSH_FAILED" {
		t.Errorf("not a git server: %+v", e)
	}
	// Strangers cannot export.
	_, err = fx.svc.ExportToGit(as("bob"), "p1", documents.GitExport{RemoteURL: remote, Token: forgeToken})
	wantKind(t, "stranger", err, apperr.KindNotFound)
	// Without the permissive policy, a remote on loopback is refused before anything is sent.
	before := forge.Requests.Load()
	fx.svc.Export.Policy = gitexport.Policy{}
	if _, err := fx.svc.ExportToGit(as("ann"), "p1", documents.GitExport{RemoteURL: remote, Token: forgeToken}); !fields(err)["remoteUrl"] {
		t.Errorf("loopback remote under the strict policy: %v", err)
	}
	if n := forge.Requests.Load() - before; n != 0 {
		t.Errorf("the forge received %d requests under the strict policy", n)
	}
}

func TestExportToNewGitHubRepository(t *testing.T) {
	fx := newFixture(t, stores["sqlite"])
	forge := withForge(t, fx)
	fx.create(t, "ann", documents.NewDocument{Type: "requirements", Title: "PRD", Content: []byte("# PRD\n")})
	repo := &github.NewRepository{Name: "todo-docs", Description: "Todo app documents", Private: true}
	out, err := fx.svc.ExportToGit(as("ann"), "p1", documents.GitExport{Token: forgeToken, CreateRepository: repo})
	if err != nil {
		t.Fatal(err)
	}
	if out.RemoteURL != forge.RepositoryURL("todo-docs") || out.HTMLURL != forge.URL+"/octocat/todo-docs" || out.Commits != 1 {
		t.Errorf("export: %+v", out)
	}
	if created := forge.Created(); len(created) != 1 || created[0]["name"] != "todo-docs" || created[0]["private"] != true || created[0]["auto_init"] != false {
		t.Errorf("GitHub was asked: %v", created)
	}
	if files, _ := forge.Clone(t, "todo-docs"); files["docs/requirements/prd.md"] != "# PRD\n" {
		t.Errorf("new repository holds %v", files)
	}
	// The name is now taken.
	_, err = fx.svc.ExportToGit(as("ann"), "p1", documents.GitExport{Token: forgeToken, CreateRepository: repo})
	if wantKind(t, "taken name", err, apperr.KindAlreadyExists); !fields(err)["createGithubRepository.name"] {
		t.Errorf("taken name: %v", err)
	}
	// GitHub refusing the token.
	_, err = fx.svc.ExportToGit(as("ann"), "p1", documents.GitExport{Token: "ghp_not_the_token", CreateRepository: &github.NewRepository{Name: "other"}})
	if !fields(err)["token"] {
		t.Errorf("bad credentials: %v", err)
	}
	// A project without documents has nothing to export, and no repository is created for it.
	fx.projects.roles["p2"]["ann"] = "owner"
	_, err = fx.svc.ExportToGit(as("ann"), "p2", documents.GitExport{Token: forgeToken, CreateRepository: &github.NewRepository{Name: "empty"}})
	wantKind(t, "empty project", err, apperr.KindFailedPrecondition)
	if len(forge.Created()) != 2 { // the two accepted tokens above, not this one
		t.Errorf("%d repositories asked for, want 2", len(forge.Created()))
	}
}

// TestExportToGitErrorsRevealNoAddresses: a remote URL is anyone's, so what a push failure tells
// the caller must not say what its host resolves to, which address was dialed, or the server's
// DNS resolver (any viewer could probe internal names with it); the detail goes to the log at WARN.
func TestExportToGitErrorsRevealNoAddresses(t *testing.T) {
	fx := newFixture(t, stores["sqlite"])
	withForge(t, fx)
	var logs strings.Builder
	var mu sync.Mutex
	fx.svc.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	fx.create(t, "ann", documents.NewDocument{Type: "requirements", Title: "PRD", Content: []byte("# PRD\n")})

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	leaks := regexp.MustCompile(`\d+\.\d+\.\d+\.\d+|\[?::1\]?|lookup|dial|resolv|:53\b|connection refused|no such host`)

	for _, tc := range []struct {
		what, url string
		policy    gitexport.Policy
		field     string
	}{
		{"a host name that does not resolve", "http://no-such-host.invalid/repo.git", gitexport.Policy{AllowHTTP: true, AllowPrivateNetworks: true}, ""},
		{"a port nothing listens on", "http://" + closedAddr + "/repo.git", gitexport.Policy{AllowHTTP: true, AllowPrivateNetworks: true}, ""},
		{"a name resolving to loopback", "http://localhost:" + closedAddr[strings.LastIndex(closedAddr, ":")+1:] + "/repo.git", gitexport.Policy{AllowHTTP: true}, "remoteUrl"},
	} {
		fx.svc.Export.Policy = tc.policy
		_, err := fx.svc.ExportToGit(as("ann"), "p1", documents.GitExport{RemoteURL: tc.url, Token: forgeToken})
		if err == nil {
			t.Fatalf("%s: the export succeeded", tc.what)
		}
		var e *apperr.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %v is not an apperr", tc.what, err)
		}
		text := err.Error()
		for _, f := range e.Fields {
			text += " " + f.Field + " " + f.Description
		}
		if m := leaks.FindString(text); m != "" {
			t.Errorf("%s: the caller is told %q (reveals %q)", tc.what, text, m)
		}
		if tc.field != "" {
			if !fields(err)[tc.field] || !strings.Contains(text, "not allowed") {
				t.Errorf("%s: %q, want remoteUrl not allowed", tc.what, text)
			}
		} else if e.Kind != apperr.KindFailedPrecondition || !strings.Contains(text, "could not be reached") {
			t.Errorf("%s: %q (%v), want the remote could not be reached", tc.what, text, e.Kind)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if got := logs.String(); strings.Count(got, "level=WARN") < 3 || !strings.Contains(got, closedAddr) {
		t.Errorf("the detail is not logged at WARN:\n%s", got)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
