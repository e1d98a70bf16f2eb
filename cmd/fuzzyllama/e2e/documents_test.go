package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/documents/archive"
	"github.com/fuzzyllama/fuzzyllama/services/documents/forgetest"
)

type documentView struct {
	ID          string `json:"id"`
	ProjectID   string `json:"projectId"`
	Gate        int    `json:"gate"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Version     int    `json:"version"`
	ContentHash string `json:"contentHash"`
	SizeBytes   string `json:"sizeBytes"` // int64 travels as a string in protojson
	Author      struct {
		UserID string `json:"userId"`
		Agent  *struct {
			RunID string `json:"runId"`
			Role  string `json:"role"`
		} `json:"agent"`
	} `json:"author"`
}

type deliverableRecord struct {
	Gate     int    `json:"gate"`
	Version  int    `json:"version"`
	Recorded bool   `json:"recorded"`
	Reason   string `json:"reason"`
}

func (s *server) createDocument(t *testing.T, token, pid string, doc map[string]any) (documentView, *deliverableRecord) {
	t.Helper()
	var out struct {
		Document    documentView
		Deliverable *deliverableRecord
	}
	s.do("POST", "/api/v1/projects/"+pid+"/documents", token, map[string]any{"document": doc}).want(t, http.StatusCreated, "").data(t, &out)
	return out.Document, out.Deliverable
}

// TestDocumentsJourney: a document's life through the gateway — created as a gate's
// deliverable, revised with optimistic concurrency, diffed, rendered, listed and exported —
// with the projects service keeping the gate's deliverable current.
func TestDocumentsJourney(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), nil)
		tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		p := s.createProject(t, tok, "Todo app", "PROJECT_TYPE_TRADITIONAL")
		base := "/api/v1/projects/" + p.ID
		s.do("POST", base+"/gates/1:start", tok, map[string]string{}).want(t, 200, "")

		intake, rec := s.createDocument(t, tok, p.ID, map[string]any{"gate": 1, "type": "DOCUMENT_TYPE_INTAKE", "title": "Project Intake",
			"content": "# Intake\n\nA todo app for teams.\n", "changeNote": "first draft"})
		if intake.Version != 1 || intake.Gate != 1 || intake.Type != "DOCUMENT_TYPE_INTAKE" || rec == nil || !rec.Recorded || rec.Version != 1 {
			t.Fatalf("created %+v, deliverable %+v", intake, rec)
		}
		// The projects service now lists the document as G1's deliverable.
		var g1 struct{ Gate gateView }
		s.do("GET", base+"/gates/1", tok, nil).want(t, 200, "").data(t, &g1)
		if d := g1.Gate.Deliverables[0]; !d.Complete || d.Version != 1 || d.ContentHash != intake.ContentHash {
			t.Fatalf("G1 deliverable after create: %+v (document hash %s)", d, intake.ContentHash)
		}

		// A revision based on version 1 makes version 2; another based on version 1 is a 409
		// naming the current version.
		doc := base + "/documents/" + intake.ID
		var updated struct {
			Document    documentView
			Outcome     string
			Deliverable deliverableRecord
		}
		s.do("PATCH", doc, tok, map[string]any{"baseVersion": 1, "content": "# Intake\n\nA todo app for small teams.\n\nOut of scope: billing.\n"}).
			want(t, 200, "").data(t, &updated)
		if updated.Document.Version != 2 || updated.Outcome != "SAVE_OUTCOME_NEW_VERSION" || !updated.Deliverable.Recorded || updated.Deliverable.Version != 2 {
			t.Fatalf("update: %+v", updated)
		}
		stale := s.do("PATCH", doc, tok, map[string]any{"baseVersion": 1, "content": "# mine\n"}).want(t, http.StatusConflict, "ABORTED")
		var details struct {
			Error struct {
				Details struct {
					Reason   string            `json:"reason"`
					Metadata map[string]string `json:"metadata"`
				} `json:"details"`
			} `json:"error"`
		}
		_ = json.Unmarshal(stale.raw, &details)
		if details.Error.Details.Reason != "STALE_VERSION" || details.Error.Details.Metadata["currentVersion"] != "2" {
			t.Fatalf("stale update: %s", stale.raw)
		}
		s.do("GET", base+"/gates/1", tok, nil).want(t, 200, "").data(t, &g1)
		if g1.Gate.Deliverables[0].Version != 2 {
			t.Fatalf("G1 deliverable after the update: %+v", g1.Gate.Deliverables[0])
		}

		// Both versions stay readable; the diff and the rendering come from the server.
		var v1 struct{ Content string }
		s.do("GET", doc+"/versions/1", tok, nil).want(t, 200, "").data(t, &v1)
		if v1.Content != "# Intake\n\nA todo app for teams.\n" {
			t.Fatalf("version 1: %q", v1.Content)
		}
		var versions struct{ Versions []struct{ Version int } }
		s.do("GET", doc+"/versions", tok, nil).want(t, 200, "").data(t, &versions)
		if len(versions.Versions) != 2 || versions.Versions[0].Version != 2 {
			t.Fatalf("versions: %+v", versions)
		}
		var diff struct {
			Unified      string
			LinesAdded   int
			LinesRemoved int
			Hunks        []struct {
				Lines []struct{ Kind, Text string }
			}
		}
		s.do("GET", doc+":diff?fromVersion=1&toVersion=2", tok, nil).want(t, 200, "").data(t, &diff)
		if !strings.Contains(diff.Unified, "-A todo app for teams.") || !strings.Contains(diff.Unified, "+A todo app for small teams.") ||
			diff.LinesAdded != 3 || diff.LinesRemoved != 1 || len(diff.Hunks) != 1 {
			t.Fatalf("diff: %+v", diff)
		}
		var rendered struct {
			Version int
			HTML    string `json:"html"`
		}
		s.do("GET", doc+":render", tok, nil).want(t, 200, "").data(t, &rendered)
		if rendered.Version != 2 || !strings.Contains(rendered.HTML, "<h1") || !strings.Contains(rendered.HTML, "small teams") {
			t.Fatalf("render: %+v", rendered)
		}

		// Only the agents service attributes documents to its runs; a person's claim is refused.
		s.do("POST", base+"/documents:batchCreate", tok, map[string]any{"agent": map[string]any{"runId": "run-1", "role": "AGENT_ROLE_PRODUCT_MANAGER"},
			"documents": []map[string]any{{"type": "DOCUMENT_TYPE_OTHER", "title": "Forged", "content": "x"}}}).want(t, 400, "INVALID_ARGUMENT")

		// A whole output in one batch; saving it again adds versions, not documents.
		batch := map[string]any{"addVersions": true, "idempotencyKey": "run-1", "documents": []map[string]any{
			{"gate": 2, "type": "DOCUMENT_TYPE_REQUIREMENTS", "title": "PRD", "content": "# PRD\n"},
			{"gate": 2, "type": "DOCUMENT_TYPE_USER_STORY", "title": "Stories", "content": "- sign in\n"},
		}}
		var created struct {
			Documents []struct {
				Document documentView
				Outcome  string
			}
			Deliverables []deliverableRecord
		}
		s.do("POST", base+"/documents:batchCreate", tok, batch).want(t, http.StatusCreated, "").data(t, &created)
		if len(created.Documents) != 2 || created.Documents[0].Document.Author.Agent != nil || created.Documents[0].Document.Author.UserID == "" ||
			len(created.Deliverables) != 2 || created.Deliverables[0].Recorded {
			t.Fatalf("batch: %+v", created) // G2 does not exist yet: not recorded, and told why
		}
		batch["idempotencyKey"] = "run-2"
		batch["documents"].([]map[string]any)[0]["content"] = "# PRD, revised\n"
		s.do("POST", base+"/documents:batchCreate", tok, batch).want(t, http.StatusCreated, "").data(t, &created)
		if created.Documents[0].Outcome != "SAVE_OUTCOME_NEW_VERSION" || created.Documents[0].Document.Version != 2 || created.Documents[1].Outcome != "SAVE_OUTCOME_UNCHANGED" {
			t.Fatalf("re-run: %+v", created)
		}
		var list struct{ Documents []documentView }
		s.do("GET", base+"/documents?type=DOCUMENT_TYPE_REQUIREMENTS", tok, nil).want(t, 200, "").data(t, &list)
		if len(list.Documents) != 1 || list.Documents[0].Version != 2 {
			t.Fatalf("list of requirements: %+v", list)
		}

		// The export holds every document's latest version, named by the manifest.
		want := map[string]string{
			"docs/intake/project-intake.md": "# Intake\n\nA todo app for small teams.\n\nOut of scope: billing.\n",
			"docs/requirements/prd.md":      "# PRD, revised\n",
			"docs/user-story/stories.md":    "- sign in\n",
		}
		for _, format := range []string{"ARCHIVE_FORMAT_ZIP", "ARCHIVE_FORMAT_TAR_GZ"} {
			r := s.do("GET", base+"/documents:export?format="+format, tok, nil)
			if r.status != 200 || !strings.Contains(r.header.Get("Content-Disposition"), `attachment; filename=todo-app-documents.`) {
				t.Fatalf("%s: %d %v %.200s", format, r.status, r.header, r.raw)
			}
			files := unpackArchive(t, r.header.Get("Content-Type"), r.raw)
			for path, content := range want {
				if files[path] != content {
					t.Errorf("%s: %s = %q, want %q", format, path, files[path], content)
				}
			}
			if !strings.Contains(files["manifest.json"], intake.ID) || len(files) != len(want)+1 {
				t.Errorf("%s: %d files, manifest %s", format, len(files), files["manifest.json"])
			}
		}
		s.do("GET", base+"/documents:export?format=RAR", tok, nil).want(t, 400, "INVALID_ARGUMENT")

		// A refusal names the request's own fields.
		bad := s.do("POST", base+"/documents", tok, map[string]any{"document": map[string]any{"type": "DOCUMENT_TYPE_OTHER", "title": " "}}).
			want(t, 400, "INVALID_ARGUMENT")
		if bad.fields()["document.title"] == nil {
			t.Errorf("a blank title should be named document.title: %s", bad.raw)
		}
		if bad := s.do("POST", base+"/documents", tok, map[string]any{}).want(t, 400, "INVALID_ARGUMENT"); bad.fields()["document"] == nil {
			t.Errorf("a missing document should be named: %s", bad.raw)
		}
	})
}

// unpackArchive reads every file of a zip (application/zip) or tar.gz archive.
func unpackArchive(t *testing.T, contentType string, b []byte) map[string]string {
	t.Helper()
	format := archive.TarGz
	if contentType == "application/zip" {
		format = archive.Zip
	}
	files, err := archive.ReadAll(format, b)
	if err != nil {
		t.Fatalf("%s archive: %v", contentType, err)
	}
	out := make(map[string]string, len(files))
	for name, content := range files {
		out[name] = string(content)
	}
	return out
}

// TestConcurrentDocumentWriters: two people save a revision of the same version at once;
// one wins, the other gets a 409, and neither version is lost.
func TestConcurrentDocumentWriters(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), nil)
		owner := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		editor := s.register(t, "editor@example.com", goodPassword, "Editor").AccessToken
		p := s.createProject(t, owner, "Race", "PROJECT_TYPE_TRADITIONAL")
		s.do("POST", "/api/v1/projects/"+p.ID+"/members", owner, map[string]string{"email": "editor@example.com", "role": "ROLE_EDITOR"}).
			want(t, http.StatusCreated, "")
		d, _ := s.createDocument(t, owner, p.ID, map[string]any{"type": "DOCUMENT_TYPE_REQUIREMENTS", "title": "PRD", "content": "v1\n"})
		path := "/api/v1/projects/" + p.ID + "/documents/" + d.ID
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i, tok := range []string{owner, editor} {
			wg.Go(func() {
				statuses[i] = s.do("PATCH", path, tok, map[string]any{"baseVersion": 1, "content": fmt.Sprintf("writer %d\n", i)}).status
			})
		}
		wg.Wait()
		if !(statuses[0] == 200 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 200) {
			t.Fatalf("statuses %v, want one 200 and one 409", statuses)
		}
		winner := 0
		if statuses[1] == 200 {
			winner = 1
		}
		var got struct{ Content string }
		s.do("GET", path, owner, nil).want(t, 200, "").data(t, &got)
		if got.Content != fmt.Sprintf("writer %d\n", winner) {
			t.Errorf("latest content %q, want the winner's", got.Content)
		}
		var versions struct{ Versions []struct{ Version int } }
		s.do("GET", path+"/versions", owner, nil).want(t, 200, "").data(t, &versions)
		if len(versions.Versions) != 2 {
			t.Errorf("%d versions, want 2", len(versions.Versions))
		}
	})
}

// TestDocumentsAuthorizationMatrix tries every documents REST call as owner, editor, viewer and
// stranger: viewers read, owners and editors write, strangers learn nothing.
func TestDocumentsAuthorizationMatrix(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s, users, fixture := startMatrix(t, m)
		owner := users["owner"].AccessToken
		doc := func(pid string) string {
			d, _ := s.createDocument(t, owner, pid, map[string]any{"type": "DOCUMENT_TYPE_OTHER", "title": "Notes", "content": "a\n"})
			return d.ID
		}
		newDoc := map[string]any{"document": map[string]any{"type": "DOCUMENT_TYPE_OTHER", "title": "New", "content": "x"}}
		calls := []call{
			{"create document", "POST", "/api/v1/projects/%s/documents", newDoc, 2, nil},
			{"batch create", "POST", "/api/v1/projects/%s/documents:batchCreate", map[string]any{"documents": []any{newDoc["document"]}}, 2, nil},
			{"list documents", "GET", "/api/v1/projects/%s/documents", nil, 1, nil},
			{"get document", "GET", "/api/v1/projects/%s/documents/%s", nil, 1, doc},
			{"update document", "PATCH", "/api/v1/projects/%s/documents/%s", map[string]any{"baseVersion": 1, "content": "b\n"}, 2, doc},
			{"list versions", "GET", "/api/v1/projects/%s/documents/%s/versions", nil, 1, doc},
			{"get version", "GET", "/api/v1/projects/%s/documents/%s/versions/1", nil, 1, doc},
			{"diff", "GET", "/api/v1/projects/%s/documents/%s:diff?fromVersion=1", nil, 1, doc},
			{"render", "GET", "/api/v1/projects/%s/documents/%s:render", nil, 1, doc},
			{"export", "GET", "/api/v1/projects/%s/documents:export", nil, 1, nil},
		}
		checkMatrix(t, s, users, fixture, calls)
		// A document cannot be reached through another project, even by that project's owner.
		mine, theirs := fixture(), s.createProject(t, users["stranger"].AccessToken, "Other", "PROJECT_TYPE_TRADITIONAL").ID
		id := doc(mine)
		s.do("GET", "/api/v1/projects/"+theirs+"/documents/"+id, users["stranger"].AccessToken, nil).want(t, 404, "NOT_FOUND")
		s.do("PATCH", "/api/v1/projects/"+theirs+"/documents/"+id, users["stranger"].AccessToken, map[string]any{"baseVersion": 1, "content": "x"}).
			want(t, 404, "NOT_FOUND")
	})
}

// TestExportToGitHub: through the gateway, a project's documents become a new GitHub
// repository whose history follows their versions; the token is in no log line.
func TestExportToGitHub(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		const token = "ghp_e2e0123456789abcdefghijklmnopqrstu"
		forge := forgetest.New(t, token)
		s := start(t, m.env(t), map[string]string{"GITHUB_API_URL": forge.URL, "EXPORT_ALLOW_HTTP_REMOTES": "true",
			"EXPORT_ALLOW_PRIVATE_REMOTES": "true"})
		tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		p := s.createProject(t, tok, "Todo app", "PROJECT_TYPE_TRADITIONAL")
		d, _ := s.createDocument(t, tok, p.ID, map[string]any{"type": "DOCUMENT_TYPE_REQUIREMENTS", "title": "PRD", "content": "# PRD v1\n"})
		s.do("PATCH", "/api/v1/projects/"+p.ID+"/documents/"+d.ID, tok, map[string]any{"baseVersion": 1, "content": "# PRD v2\n", "changeNote": "scope"}).
			want(t, 200, "")

		var out struct {
			RemoteURL  string `json:"remoteUrl"`
			HTMLURL    string `json:"htmlUrl"`
			HeadCommit string `json:"headCommit"`
			Commits    int    `json:"commits"`
		}
		s.do("POST", "/api/v1/projects/"+p.ID+"/documents:exportToGit", tok, map[string]any{"token": token,
			"createGithubRepository": map[string]any{"name": "todo-docs", "description": "Todo app"}}).want(t, 200, "").data(t, &out)
		if out.Commits != 2 || out.RemoteURL != forge.RepositoryURL("todo-docs") || out.HTMLURL == "" {
			t.Fatalf("export: %+v", out)
		}
		files, dir := forge.Clone(t, "todo-docs")
		if files["docs/requirements/prd.md"] != "# PRD v2\n" || len(files) != 1 {
			t.Errorf("clone holds %v", files)
		}
		if subjects := forgetest.RunGit(t, dir, "log", "--reverse", "--format=%s"); subjects != "PRD: version 1\nscope" {
			t.Errorf("history: %q", subjects)
		}
		if created := forge.Created(); len(created) != 1 || created[0]["private"] != true {
			t.Errorf("GitHub was asked for %v, want one private repository", created)
		}
		// A refused token is a 400 naming it, and the token appears nowhere.
		bad := s.do("POST", "/api/v1/projects/"+p.ID+"/documents:exportToGit", tok, map[string]any{"token": "ghp_wrong_but_secret",
			"remoteUrl": out.RemoteURL})
		bad.want(t, 400, "INVALID_ARGUMENT")
		if bad.fields()["token"] == nil || strings.Contains(string(bad.raw), "ghp_wrong_but_secret") {
			t.Errorf("refused token: %s", bad.raw)
		}
		for _, secret := range []string{token, "ghp_wrong_but_secret"} {
			if strings.Contains(s.logs.String(), secret) {
				t.Errorf("a log line holds the token %q", secret)
			}
		}
	})
}
