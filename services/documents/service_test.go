package documents_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/paging"
	"github.com/fuzzyllama/fuzzyllama/services/documents"
)

func TestVersionsAreKeptAndStaleUpdatesRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, fx fixture) {
		doc := fx.create(t, "ed", documents.NewDocument{Gate: 3, Type: "architecture", Title: "  System Overview ", Content: []byte("# v1\n"), ChangeNote: "first"})
		if doc.Outcome != documents.Created || doc.Document.Title != "System Overview" || doc.Document.Latest.Number != 1 ||
			doc.Document.Latest.AuthorUserID != "ed" || doc.Document.CreatedBy != "ed" || !strings.HasPrefix(doc.Document.Latest.ContentHash, "sha256:") {
			t.Fatalf("created: %+v", doc)
		}
		id := doc.Document.ID
		saved, _, err := fx.svc.UpdateDocument(as("ann"), identity("ann"), "p1", id, 1, []byte("# v2\n"), "second", documents.Agent{})
		if err != nil || saved.Outcome != documents.NewVersion || saved.Document.Latest.Number != 2 || saved.Document.Latest.AuthorUserID != "ann" {
			t.Fatalf("update: %+v, %v", saved, err)
		}
		// Based on version 1 again: refused with the current version, nothing stored.
		_, _, err = fx.svc.UpdateDocument(as("ed"), identity("ed"), "p1", id, 1, []byte("# my v2\n"), "", documents.Agent{})
		e := wantKind(t, "stale update", err, apperr.KindAborted)
		if e.Reason != documents.ReasonStaleVersion || e.Metadata["currentVersion"] != "2" || !strings.Contains(e.Message, "version 2") {
			t.Errorf("stale update error: %+v", e)
		}
		// The same content as the latest stores nothing.
		same, _, err := fx.svc.UpdateDocument(as("ed"), identity("ed"), "p1", id, 2, []byte("# v2\n"), "no-op", documents.Agent{})
		if err != nil || same.Outcome != documents.Unchanged || same.Document.Latest.Number != 2 {
			t.Errorf("unchanged update: %+v, %v", same, err)
		}
		// Every version is still readable, unchanged.
		for n, want := range map[int]string{1: "# v1\n", 2: "# v2\n"} {
			_, v, err := fx.svc.GetVersion(as("vic"), "p1", id, n)
			if err != nil || string(v.Content) != want {
				t.Errorf("version %d: %q, %v", n, v.Content, err)
			}
		}
		got, err := fx.svc.GetDocument(as("vic"), "p1", id)
		if err != nil || got.Latest.Number != 2 || string(got.Latest.Content) != "# v2\n" || got.Latest.ChangeNote != "second" {
			t.Errorf("get: %+v, %v", got, err)
		}
		versions, next, err := fx.svc.ListVersions(as("vic"), "p1", id, 0, "")
		if err != nil || len(versions) != 2 || versions[0].Number != 2 || versions[1].Number != 1 || next != "" {
			t.Errorf("versions: %+v, %q, %v", versions, next, err)
		}
		_, _, err = fx.svc.GetVersion(as("vic"), "p1", id, 3)
		wantKind(t, "version 3", err, apperr.KindNotFound)
	})
}

// TestConcurrentWritersOneWins: writers based on the same version race; exactly one stores a
// version, every other gets Aborted naming the winner's version, and no version is lost.
func TestConcurrentWritersOneWins(t *testing.T) {
	eachStore(t, func(t *testing.T, fx fixture) {
		id := fx.create(t, "ann", documents.NewDocument{Type: "requirements", Title: "PRD", Content: []byte("base\n")}).Document.ID
		const writers = 8
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []string
			losers  int
		)
		for i := range writers {
			wg.Go(func() {
				content := fmt.Sprintf("writer %d\n", i)
				_, _, err := fx.svc.UpdateDocument(as("ed"), identity("ed"), "p1", id, 1, []byte(content), "", documents.Agent{})
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					winners = append(winners, content)
					return
				}
				if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindAborted || e.Metadata["currentVersion"] != "2" {
					t.Errorf("loser: %v", err)
				}
				losers++
			})
		}
		wg.Wait()
		if len(winners) != 1 || losers != writers-1 {
			t.Fatalf("%d winners, %d losers; want 1 and %d", len(winners), losers, writers-1)
		}
		got, err := fx.svc.GetDocument(as("ann"), "p1", id)
		if err != nil || got.Latest.Number != 2 || string(got.Latest.Content) != winners[0] {
			t.Errorf("latest: v%d %q, want v2 %q (%v)", got.Latest.Number, got.Latest.Content, winners[0], err)
		}
		if _, v, err := fx.svc.GetVersion(as("ann"), "p1", id, 1); err != nil || string(v.Content) != "base\n" {
			t.Errorf("version 1 after the race: %q, %v", v.Content, err)
		}
	})
}

func TestCreateDocumentsBatch(t *testing.T) {
	eachStore(t, func(t *testing.T, fx fixture) {
		batch := func() []documents.NewDocument {
			return []documents.NewDocument{
				{Gate: 2, Type: "requirements", Title: "PRD", Content: []byte("# PRD\n")},
				{Gate: 2, Type: "user_story", Title: "Stories", Content: []byte("- as a user\n")},
				{Type: "other", Title: "Notes", Content: []byte("")},
			}
		}
		agent := documents.Agent{RunID: "run-1", Role: "product_manager"}
		b, err := fx.svc.CreateDocuments(as("ed"), delegated("ed"), "p1", batch(), agent, false, "")
		if err != nil || len(b.Documents) != 3 {
			t.Fatalf("batch: %+v, %v", b, err)
		}
		for _, s := range b.Documents {
			if s.Outcome != documents.Created || s.Document.Latest.AgentRunID != "run-1" || s.Document.Latest.AgentRole != "product_manager" {
				t.Errorf("%s: %+v", s.Document.Title, s)
			}
		}
		// Again without addVersions: refused naming each taken title, nothing stored.
		_, err = fx.svc.CreateDocuments(as("ed"), delegated("ed"), "p1", batch(), agent, false, "")
		e := wantKind(t, "existing titles", err, apperr.KindAlreadyExists)
		if len(e.Fields) != 3 || e.Fields[0].Field != "documents[0].title" {
			t.Errorf("existing titles: %+v", e.Fields)
		}
		// With addVersions: the changed ones get a version, the unchanged one none.
		again := batch()
		again[0].Content = []byte("# PRD, revised\n")
		b, err = fx.svc.CreateDocuments(as("ed"), delegated("ed"), "p1", again, agent, true, "")
		if err != nil {
			t.Fatal(err)
		}
		outcomes := []string{b.Documents[0].Outcome, b.Documents[1].Outcome, b.Documents[2].Outcome}
		if outcomes[0] != documents.NewVersion || outcomes[1] != documents.Unchanged || outcomes[2] != documents.Unchanged ||
			b.Documents[0].Document.Latest.Number != 2 || b.Documents[1].Document.Latest.Number != 1 {
			t.Errorf("outcomes %v, versions %d %d", outcomes, b.Documents[0].Document.Latest.Number, b.Documents[1].Document.Latest.Number)
		}
		list, _, err := fx.svc.ListDocuments(as("vic"), "p1", "", 0, time.Time{}, 0, "")
		if err != nil || len(list) != 3 {
			t.Errorf("list: %d documents, %v", len(list), err)
		}
		// A batch naming one document twice is refused.
		dup := []documents.NewDocument{{Type: "design", Title: "Palette", Content: []byte("a")}, {Type: "design", Title: "palette", Content: []byte("b")}}
		_, err = fx.svc.CreateDocuments(as("ed"), identity("ed"), "p1", dup, documents.Agent{}, true, "")
		if !fields(err)["documents[1].title"] {
			t.Errorf("duplicate in a batch: %v", err)
		}
	})
}

// TestListDocumentsChangedSince: through the handler, changedSince keeps the documents created or
// given a new version at or after it, page after page; an unchanged save is no change; a time
// out of the Timestamp range is refused naming the field.
func TestListDocumentsChangedSince(t *testing.T) {
	eachStore(t, func(t *testing.T, fx fixture) {
		clock := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		fx.svc.Now = func() time.Time { return clock }
		doc := func(title string) documents.NewDocument {
			return documents.NewDocument{Type: "other", Title: title, Content: []byte(title + "\n")}
		}
		fx.create(t, "ann", doc("Old"))
		revised := fx.create(t, "ann", doc("Revised")).Document.ID
		same := fx.create(t, "ann", doc("Same")).Document.ID
		clock = clock.Add(time.Hour)
		since := clock
		if _, _, err := fx.svc.UpdateDocument(as("ann"), identity("ann"), "p1", revised, 1, []byte("v2\n"), "", documents.Agent{}); err != nil {
			t.Fatal(err)
		}
		s, _, err := fx.svc.UpdateDocument(as("ann"), identity("ann"), "p1", same, 1, []byte("Same\n"), "", documents.Agent{})
		if err != nil || s.Outcome != documents.Unchanged {
			t.Fatalf("unchanged save: %+v, %v", s, err)
		}
		clock = clock.Add(time.Minute)
		fx.create(t, "ann", doc("New"))

		h := &documents.Handler{Service: fx.svc}
		list := func(changedSince *timestamppb.Timestamp) []string {
			var titles []string
			req := &pb.ListDocumentsRequest{ProjectId: "p1", ChangedSince: changedSince, PageSize: 1}
			for range 5 {
				resp, err := h.ListDocuments(as("vic"), req)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range resp.GetDocuments() {
					titles = append(titles, d.GetTitle())
				}
				if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
					break
				}
			}
			return titles
		}
		if got, want := list(timestamppb.New(since)), []string{"New", "Revised"}; !slices.Equal(got, want) {
			t.Errorf("changed since the revision: %v, want %v", got, want)
		}
		if got, want := list(nil), []string{"New", "Old", "Revised", "Same"}; !slices.Equal(got, want) {
			t.Errorf("without changedSince: %v, want %v", got, want)
		}
		for _, bad := range []*timestamppb.Timestamp{{Seconds: -62135596801}, {Seconds: 253402300800}, {Nanos: 1e9}} {
			_, err := h.ListDocuments(as("vic"), &pb.ListDocumentsRequest{ProjectId: "p1", ChangedSince: bad})
			if wantKind(t, "invalid changedSince", err, apperr.KindInvalid); !fields(err)["changedSince"] {
				t.Errorf("changedSince %v: %v", bad, err)
			}
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	eachStore(t, func(t *testing.T, fx fixture) {
		docs := func() []documents.NewDocument {
			return []documents.NewDocument{{Gate: 3, Type: "architecture", Title: "Arch", Content: []byte("x")}}
		}
		agent := documents.Agent{RunID: "run-9", Role: "architect"}
		first, err := fx.svc.CreateDocuments(as("ed"), delegated("ed"), "p1", docs(), agent, true, "run-9/attempt")
		if err != nil {
			t.Fatal(err)
		}
		// A replay (even with addVersions, which would otherwise compare contents) returns the same.
		replay, err := fx.svc.CreateDocuments(as("ed"), delegated("ed"), "p1", docs(), agent, true, "run-9/attempt")
		if err != nil || replay.Documents[0].Document.ID != first.Documents[0].Document.ID || replay.Documents[0].Outcome != documents.Created ||
			len(replay.Deliverables) != 1 || !replay.Deliverables[0].Recorded {
			t.Fatalf("replay: %+v, %v", replay, err)
		}
		if n := len(fx.projects.deliverables()); n != 1 {
			t.Errorf("the replay recorded the deliverable again: %d records", n)
		}
		// The same key for another request is refused.
		other := docs()
		other[0].Content = []byte("y")
		_, err = fx.svc.CreateDocuments(as("ed"), delegated("ed"), "p1", other, agent, true, "run-9/attempt")
		if e := wantKind(t, "key reused", err, apperr.KindFailedPrecondition); e.Reason != "IDEMPOTENCY_KEY_REUSED" {
			t.Errorf("key reused: %+v", e)
		}
		// Keys are per project.
		if _, err := fx.svc.CreateDocuments(as("bob"), delegated("bob"), "p2", other, agent, true, "run-9/attempt"); err != nil {
			t.Errorf("the same key in another project: %v", err)
		}
		versions, _, _ := fx.svc.ListVersions(as("ed"), "p1", first.Documents[0].Document.ID, 0, "")
		if len(versions) != 1 {
			t.Errorf("%d versions after a replay, want 1", len(versions))
		}
	})
}

func TestDeliverablesAreRecordedWithTheProjectsService(t *testing.T) {
	eachStore(t, func(t *testing.T, fx fixture) {
		b, err := fx.svc.CreateDocuments(as("ed"), identity("ed"), "p1", []documents.NewDocument{
			{Gate: 3, Type: "architecture", Title: "Overview", Content: []byte("a")},
			{Gate: 3, Type: "architecture", Title: "Details", Content: []byte("b")}, // each document of a type is a deliverable
			{Gate: 3, Type: "design", Title: "Not required at G3", Content: []byte("c")},
			{Type: "api_spec", Title: "No gate", Content: []byte("d")},
		}, documents.Agent{}, false, "")
		if err != nil {
			t.Fatal(err)
		}
		rec := fx.projects.deliverables()
		overview, details := b.Documents[0].Document, b.Documents[1].Document
		if len(rec) != 2 || rec[0].DocumentID != overview.ID || rec[1].DocumentID != details.ID || rec[1].Gate != 3 || rec[1].DocumentType != "architecture" ||
			rec[1].Version != 1 || rec[1].ContentHash != details.Latest.ContentHash || len(b.Deliverables) != 2 || !b.Deliverables[1].Recorded {
			t.Fatalf("recorded %+v; batch said %+v", rec, b.Deliverables)
		}
		// A new version is recorded too.
		if _, r, err := fx.svc.UpdateDocument(as("ed"), identity("ed"), "p1", details.ID, 1, []byte("b2"), "", documents.Agent{}); err != nil || r == nil || !r.Recorded || r.Version != 2 {
			t.Fatalf("update: %+v, %v", r, err)
		}
		// A gate under review: what the owner reviews cannot change, so the save is refused.
		fx.projects.mu.Lock()
		fx.projects.frozen[3] = true
		fx.projects.mu.Unlock()
		_, _, err = fx.svc.UpdateDocument(as("ed"), identity("ed"), "p1", details.ID, 2, []byte("b3"), "", documents.Agent{})
		wantKind(t, "update of a gate under review", err, apperr.KindFailedPrecondition)
		if got, _ := fx.svc.GetDocument(as("ed"), "p1", details.ID); got.Latest.Number != 2 {
			t.Fatalf("a refused save stored version %d", got.Latest.Number)
		}
		// An approved gate keeps what was approved: the save is stored, and the caller is told
		// it is not the gate's deliverable.
		fx.projects.mu.Lock()
		fx.projects.frozen[3], fx.projects.approved[3] = false, true
		fx.projects.mu.Unlock()
		saved, r, err := fx.svc.UpdateDocument(as("ed"), identity("ed"), "p1", details.ID, 2, []byte("b3"), "", documents.Agent{})
		if err != nil || saved.Document.Latest.Number != 3 || r == nil || r.Recorded || !strings.Contains(r.Reason, "approved") {
			t.Fatalf("update of an approved gate's deliverable: %+v, %+v, %v", saved, r, err)
		}
		// The projects service failing: nothing is stored, so a retry is safe.
		fx.projects.mu.Lock()
		fx.projects.failing[3] = true
		fx.projects.mu.Unlock()
		_, _, err = fx.svc.UpdateDocument(as("ed"), identity("ed"), "p1", details.ID, 3, []byte("b4"), "", documents.Agent{})
		wantKind(t, "projects service failing", err, apperr.KindUnavailable)
		if got, _ := fx.svc.GetDocument(as("ed"), "p1", details.ID); got.Latest.Number != 3 {
			t.Errorf("after a failed record, latest version %d, want 3", got.Latest.Number)
		}
	})
}

// TestAForeignDocumentIsNeverADeliverable: deliverables are recorded only for a version just
// saved in the project, so another project's document, or one that does not exist, can never be
// recorded, not even by its own project's owner through theirs.
func TestAForeignDocumentIsNeverADeliverable(t *testing.T) {
	fx := newFixture(t, stores["sqlite"])
	intake := fx.create(t, "ann", documents.NewDocument{Gate: 1, Type: "intake", Title: "Intake", Content: []byte("a")}).Document
	if n := len(fx.projects.deliverables()); n != 1 {
		t.Fatalf("%d deliverables recorded for p1's intake", n)
	}
	for _, id := range []string{intake.ID, "no-such-document"} {
		_, _, err := fx.svc.UpdateDocument(as("bob"), identity("bob"), "p2", id, 1, []byte("b"), "", documents.Agent{})
		wantKind(t, "save of "+id+" through p2", err, apperr.KindNotFound)
	}
	if rec := fx.projects.deliverables(); len(rec) != 1 || rec[0].ProjectID != "p1" {
		t.Fatalf("deliverables after the refused saves: %+v", rec)
	}
}

func TestAccess(t *testing.T) {
	eachStore(t, func(t *testing.T, fx fixture) {
		id := fx.create(t, "ann", documents.NewDocument{Type: "other", Title: "Readme", Content: []byte("hi")}).Document.ID
		// A viewer reads but cannot write.
		if _, err := fx.svc.GetDocument(as("vic"), "p1", id); err != nil {
			t.Errorf("viewer get: %v", err)
		}
		_, _, err := fx.svc.UpdateDocument(as("vic"), identity("vic"), "p1", id, 1, []byte("x"), "", documents.Agent{})
		wantKind(t, "viewer update", err, apperr.KindPermissionDenied)
		// A stranger cannot even learn the document exists; nor can another project's owner reach
		// it through their own project.
		_, err = fx.svc.GetDocument(as("bob"), "p1", id)
		wantKind(t, "stranger get", err, apperr.KindNotFound)
		_, err = fx.svc.GetDocument(as("bob"), "p2", id)
		wantKind(t, "get through another project", err, apperr.KindNotFound)
		_, _, err = fx.svc.UpdateDocument(as("bob"), identity("bob"), "p2", id, 1, []byte("x"), "", documents.Agent{})
		wantKind(t, "update through another project", err, apperr.KindNotFound)
		// Ids that cannot name anything are not found, never a database error.
		for _, bad := range []string{"", "a\x00b", strings.Repeat("x", 200), "\xff"} {
			_, err = fx.svc.GetDocument(as("ann"), bad, id)
			wantKind(t, fmt.Sprintf("project id %q", bad), err, apperr.KindNotFound)
			_, err = fx.svc.GetDocument(as("ann"), "p1", bad)
			wantKind(t, fmt.Sprintf("document id %q", bad), err, apperr.KindNotFound)
		}
	})
}

func TestValidation(t *testing.T) {
	fx := newFixture(t, stores["sqlite"])
	big := make([]byte, documents.MaxContentBytes+1)
	for _, tc := range []struct {
		name  string
		doc   documents.NewDocument
		field string
	}{
		{"no type", documents.NewDocument{Title: "t"}, "documents[0].type"},
		{"unknown type", documents.NewDocument{Type: "undefined-99", Title: "t"}, "documents[0].type"},
		{"no title", documents.NewDocument{Type: "other", Title: "  "}, "documents[0].title"},
		{"long title", documents.NewDocument{Type: "other", Title: strings.Repeat("é", 201)}, "documents[0].title"},
		{"control in title", documents.NewDocument{Type: "other", Title: "a\x00b"}, "documents[0].title"},
		{"line break in title", documents.NewDocument{Type: "other", Title: "a\n+++ b"}, "documents[0].title"},
		{"gate 10", documents.NewDocument{Type: "other", Title: "t", Gate: 10}, "documents[0].gate"},
		{"content too large", documents.NewDocument{Type: "other", Title: "t", Content: big}, "documents[0].content"},
		{"invalid UTF-8", documents.NewDocument{Type: "other", Title: "t", Content: []byte{0xff}}, "documents[0].content"},
		{"long note", documents.NewDocument{Type: "other", Title: "t", ChangeNote: strings.Repeat("n", 1001)}, "documents[0].changeNote"},
	} {
		_, err := fx.svc.CreateDocuments(as("ann"), identity("ann"), "p1", []documents.NewDocument{tc.doc}, documents.Agent{}, false, "")
		if wantKind(t, tc.name, err, apperr.KindInvalid); !fields(err)[tc.field] {
			t.Errorf("%s: fields %v, want %s", tc.name, fields(err), tc.field)
		}
	}
	// Content with NUL bytes is content: stored as given.
	nul := fx.create(t, "ann", documents.NewDocument{Type: "code", Title: "blob.bin", Content: []byte("a\x00b")})
	if got, err := fx.svc.GetDocument(as("ann"), "p1", nul.Document.ID); err != nil || string(got.Latest.Content) != "a\x00b" {
		t.Errorf("NUL content: %q, %v", got.Latest.Content, err)
	}
	// Batch bounds.
	many := make([]documents.NewDocument, documents.MaxBatchDocuments+1)
	for i := range many {
		many[i] = documents.NewDocument{Type: "other", Title: fmt.Sprint("d", i)}
	}
	_, err := fx.svc.CreateDocuments(as("ann"), identity("ann"), "p1", many, documents.Agent{}, false, "")
	if !fields(err)["documents"] {
		t.Errorf("101 documents: %v", err)
	}
	heavy := make([]documents.NewDocument, 17)
	for i := range heavy {
		heavy[i] = documents.NewDocument{Type: "other", Title: fmt.Sprint("h", i), Content: make([]byte, documents.MaxContentBytes)}
	}
	_, err = fx.svc.CreateDocuments(as("ann"), identity("ann"), "p1", heavy, documents.Agent{}, false, "")
	if !fields(err)["documents"] {
		t.Errorf("8.5 MiB in a batch: %v", err)
	}
	_, err = fx.svc.CreateDocuments(as("ann"), delegated("ann"), "p1", []documents.NewDocument{{Type: "other", Title: "t"}}, documents.Agent{RunID: "r"}, false, "")
	if !fields(err)["agent.role"] {
		t.Errorf("agent without a role: %v", err)
	}
	_, err = fx.svc.CreateDocuments(as("ann"), delegated("ann"), "p1", []documents.NewDocument{{Type: "other", Title: "t"}},
		documents.Agent{RunID: "r\nDocument-Id: forged", Role: "architect"}, false, "")
	if !fields(err)["agent.runId"] {
		t.Errorf("agent run id with a line break: %v", err)
	}
	// A person cannot claim an agent wrote what they save.
	_, err = fx.svc.CreateDocuments(as("ann"), identity("ann"), "p1", []documents.NewDocument{{Type: "other", Title: "t"}},
		documents.Agent{RunID: "r", Role: "architect"}, false, "")
	if !fields(err)["agent"] {
		t.Errorf("a person's agent attribution: %v", err)
	}
	_, _, err = fx.svc.UpdateDocument(as("ann"), identity("ann"), "p1", nul.Document.ID, 0, []byte("x"), "", documents.Agent{})
	if !fields(err)["baseVersion"] {
		t.Errorf("update without a base version: %v", err)
	}
	// Page tokens this API never returned, however they decode, are refused before any query.
	for _, token := range []string{"not-a-token", paging.CursorToken(map[string]string{"Type": "design", "TitleKey": "\x00"}),
		paging.CursorToken(map[string]string{"Type": "nope", "TitleKey": "x"}), paging.CursorToken(map[string]any{"Type": "design", "Extra": 1})} {
		if _, _, err := fx.svc.ListDocuments(as("ann"), "p1", "", 0, time.Time{}, 0, token); !fields(err)["pageToken"] {
			t.Errorf("document page token %q: %v", token, err)
		}
	}
	if _, _, err := fx.svc.ListVersions(as("ann"), "p1", nul.Document.ID, 0, paging.PositionToken(3_000_000_000)); !fields(err)["pageToken"] {
		t.Errorf("version page token past 32 bits: %v", err)
	}
}
