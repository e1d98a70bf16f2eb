package documents_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/services/documents"
	"github.com/fuzzyllama/fuzzyllama/services/documents/archive"
)

// unpack reads every file of an archive.
func unpack(t *testing.T, format string, b []byte) map[string]string {
	t.Helper()
	files, err := archive.ReadAll(format, b)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(files))
	for name, content := range files {
		out[name] = string(content)
	}
	return out
}

func TestExportArchiveRoundTrip(t *testing.T) {
	eachStore(t, func(t *testing.T, fx fixture) {
		arch := fx.create(t, "ann", documents.NewDocument{Gate: 3, Type: "architecture", Title: "System Overview", Content: []byte("# v1\n")})
		if _, _, err := fx.svc.UpdateDocument(as("ann"), identity("ann"), "p1", arch.Document.ID, 1, []byte("# v2\n"), "", documents.Agent{}); err != nil {
			t.Fatal(err)
		}
		fx.create(t, "ann", documents.NewDocument{Gate: 5, Type: "code", Title: "backend/main.go", Content: []byte("package main\n")})
		fx.create(t, "ann", documents.NewDocument{Type: "architecture", Title: "System: Overview", Content: []byte("a different document\x00")})
		want := map[string]string{
			"docs/architecture/system-overview.md": "# v2\n",
			"backend/main.go":                      "package main\n",
		}
		for _, format := range []string{archive.Zip, archive.TarGz} {
			name, write, err := fx.svc.ExportArchive(as("vic"), "p1", format)
			if err != nil {
				t.Fatal(err)
			}
			if name.Filename != "todo-app-p1-documents"+archive.Extension(format) || name.ContentType != archive.ContentType(format) {
				t.Errorf("%s: archive named %+v", format, name)
			}
			var buf bytes.Buffer
			if err := write(&buf); err != nil {
				t.Fatal(err)
			}
			files := unpack(t, format, buf.Bytes())
			for path, content := range want {
				if files[path] != content {
					t.Errorf("%s: %s = %q, want %q", format, path, files[path], content)
				}
			}
			var m struct {
				Project   struct{ ID, Name string }
				Documents []struct {
					Path, ID, Title, ContentHash string
					Version                      int
					SizeBytes                    int64
				}
			}
			if err := json.Unmarshal([]byte(files["manifest.json"]), &m); err != nil {
				t.Fatalf("%s: manifest: %v\n%s", format, err, files["manifest.json"])
			}
			if m.Project.ID != "p1" || len(m.Documents) != 3 || len(files) != 4 {
				t.Fatalf("%s: manifest %+v, files %v", format, m, len(files))
			}
			// Each manifest entry names a file holding exactly that version.
			for _, d := range m.Documents {
				content, ok := files[d.Path]
				if !ok || int64(len(content)) != d.SizeBytes || !strings.HasPrefix(d.ContentHash, "sha256:") {
					t.Errorf("%s: %s listed at %s (%d bytes) but holds %q", format, d.Title, d.Path, d.SizeBytes, content)
				}
				if d.Title == "System Overview" && d.Version != 2 {
					t.Errorf("%s: manifest says version %d of %s, want 2", format, d.Version, d.Title)
				}
			}
		}
		// A stranger cannot export; an unknown format is a 400.
		_, _, err := fx.svc.ExportArchive(as("bob"), "p1", archive.Zip)
		wantKind(t, "stranger export", err, apperr.KindNotFound)
		_, _, err = fx.svc.ExportArchive(as("ann"), "p1", "rar")
		wantKind(t, "unknown format", err, apperr.KindInvalid)
	})
}

func TestExportArchiveOfAnEmptyProject(t *testing.T) {
	fx := newFixture(t, stores["sqlite"])
	_, write, err := fx.svc.ExportArchive(as("bob"), "p2", archive.Zip)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	if files := unpack(t, archive.Zip, buf.Bytes()); len(files) != 1 || !strings.Contains(files["manifest.json"], `"documents": []`) {
		t.Errorf("empty project's archive: %v", files)
	}
}

func TestDiffVersions(t *testing.T) {
	fx := newFixture(t, stores["sqlite"])
	id := fx.create(t, "ann", documents.NewDocument{Type: "requirements", Title: "PRD", Content: []byte("# PRD\nusers sign in\nusers sign out\n")}).Document.ID
	if _, _, err := fx.svc.UpdateDocument(as("ann"), identity("ann"), "p1", id, 1, []byte("# PRD\nusers sign in with SSO\nusers sign out\nadmins invite\n"), "", documents.Agent{}); err != nil {
		t.Fatal(err)
	}
	d, err := fx.svc.DiffVersions(as("vic"), "p1", id, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.From != 1 || d.To != 2 || d.Added != 2 || d.Removed != 1 {
		t.Errorf("diff 1..latest: from %d to %d, +%d -%d", d.From, d.To, d.Added, d.Removed)
	}
	for _, line := range []string{"--- PRD (version 1)", "+++ PRD (version 2)", "-users sign in\n", "+users sign in with SSO\n", "+admins invite\n", " users sign out\n"} {
		if !strings.Contains(d.Unified, line) {
			t.Errorf("unified diff lacks %q:\n%s", line, d.Unified)
		}
	}
	if len(d.Hunks) != 1 || d.Hunks[0].FromLine != 1 || d.Hunks[0].FromCount != 3 || d.Hunks[0].ToCount != 4 {
		t.Fatalf("hunks: %+v", d.Hunks)
	}
	var kinds []string
	for _, l := range d.Hunks[0].Lines {
		kinds = append(kinds, l.Kind+":"+l.Text)
	}
	if got := strings.Join(kinds, "|"); got != "context:# PRD|removed:users sign in|added:users sign in with SSO|context:users sign out|added:admins invite" {
		t.Errorf("hunk lines: %s", got)
	}
	// The other way round, and a version against itself.
	if back, _ := fx.svc.DiffVersions(as("vic"), "p1", id, 2, 1); back.Added != 1 || back.Removed != 2 {
		t.Errorf("diff 2..1: +%d -%d", back.Added, back.Removed)
	}
	if same, _ := fx.svc.DiffVersions(as("vic"), "p1", id, 2, 2); same.Unified != "" || len(same.Hunks) != 0 {
		t.Errorf("diff of a version with itself: %+v", same)
	}
	_, err = fx.svc.DiffVersions(as("vic"), "p1", id, 1, 7)
	wantKind(t, "diff to a missing version", err, apperr.KindNotFound)
	_, err = fx.svc.DiffVersions(as("vic"), "p1", id, 0, 1)
	wantKind(t, "diff from version 0", err, apperr.KindInvalid)
}

func TestRenderDocument(t *testing.T) {
	fx := newFixture(t, stores["sqlite"])
	md := fx.create(t, "ann", documents.NewDocument{Type: "design", Title: "Palette", Content: []byte("# Colours\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[x](javascript:alert(1))\n")})
	r, err := fx.svc.RenderDocument(as("vic"), "p1", md.Document.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	html := string(r.HTML)
	if r.Version != 1 || r.ContentHash != md.Document.Latest.ContentHash || !strings.Contains(html, "<table>") || !strings.Contains(html, "Colours") ||
		strings.Contains(html, "<script") || strings.Contains(strings.ToLower(html), "javascript:") {
		t.Errorf("rendered markdown:\n%s", html)
	}
	code := fx.create(t, "ann", documents.NewDocument{Type: "code", Title: "main.go", Content: []byte("if a < b {}\n</code></pre><script>x</script>")})
	r, err = fx.svc.RenderDocument(as("vic"), "p1", code.Document.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if html := string(r.HTML); !strings.Contains(html, `<code class="language-go">`) || !strings.Contains(html, "a &lt; b") || strings.Contains(html, "<script") {
		t.Errorf("rendered code:\n%s", html)
	}
}
