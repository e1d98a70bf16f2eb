// Package storetest is the conformance suite of store.Store: every implementation runs Run, so
// they behave alike down to error values, byte-exact content and time precision.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

// Run runs the suite. open must return an empty store of its own for each call (subtests run in
// parallel) and close it when the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	dbtest.RunSuite(t, open, map[string]func(*testing.T, store.Store){
		"RoundTrip":                  testRoundTrip,
		"ContentIsKeptByteForByte":   testContentIsKeptByteForByte,
		"InvisibleUntilFirstVersion": testInvisibleUntilFirstVersion,
		"UniqueTitlePerType":         testUniqueTitlePerType,
		"AddVersionsConflict":        testAddVersionsConflict,
		"AddVersionsMissingDocument": testAddVersionsMissingDocument,
		"DocumentsByKey":             testDocumentsByKey,
		"DocumentsFilterAndPages":    testDocumentsFilterAndPages,
		"DocumentsChangedSince":      testDocumentsChangedSince,
		"Versions":                   testVersions,
		"History":                    testHistory,
		"Contents":                   testContents,
		"Idempotent":                 testIdempotent,
		"WriteRollsBack":             testWriteRollsBack,
		"WriteSerialisesAProject":    testWriteSerialisesAProject,
		"Ping":                       func(t *testing.T, s store.Store) { must(t, s.Ping(t.Context())) },
	})
}

// base is a time with nanoseconds in a zone other than UTC: stores must return it in UTC,
// truncated to microseconds.
var base = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("UTC+1", 3600))

func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func newDoc(projectID, typ, title string, gate int) store.Document {
	return store.Document{ID: uuid.NewString(), ProjectID: projectID, Gate: gate, Type: typ, Title: title,
		TitleKey: string(bytes.ToLower([]byte(title))), CreatedBy: "ada", CreatedAt: base}
}

// newVersion is version number of d, stored that many minutes after d was created.
func newVersion(d store.Document, number int, content string) store.Version {
	return store.Version{DocumentID: d.ID, ProjectID: d.ProjectID, Number: number, Content: []byte(content),
		ContentHash: fmt.Sprintf("sha256:%d-%s", number, content), Size: int64(len(content)), AuthorUserID: "ada",
		ChangeNote: fmt.Sprint("v", number), CreatedAt: d.CreatedAt.Add(time.Duration(number) * time.Minute)}
}

// create stores each document with version 1 (content "<title> v1") in one Write.
func create(t *testing.T, s store.Store, docs ...store.Document) []store.Document {
	t.Helper()
	ctx := t.Context()
	versions := make([]store.Version, len(docs))
	for i, d := range docs {
		versions[i] = newVersion(d, 1, d.Title+" v1")
	}
	must(t, s.Write(ctx, docs[0].ProjectID, func(q store.Queries) error {
		if err := q.InsertDocuments(ctx, docs); err != nil {
			return err
		}
		return q.AddVersions(ctx, versions)
	}))
	return docs
}

func ids(docs []store.Document) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out
}

func testRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := create(t, s, newDoc("p", "architecture", "System Overview", 3))[0]
	v2 := newVersion(d, 2, "# Overview\nsecond")
	v2.AgentRunID, v2.AgentRole, v2.AuthorUserID = "run-7", "architect", "bob"
	must(t, s.AddVersions(ctx, []store.Version{v2}))

	got, err := s.Document(ctx, "p", d.ID, true)
	must(t, err)
	if got.ID != d.ID || got.ProjectID != "p" || got.Gate != 3 || got.Type != "architecture" || got.Title != "System Overview" ||
		got.TitleKey != "system overview" || got.CreatedBy != "ada" || !got.CreatedAt.Equal(stored(base)) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("document = %+v", got)
	}
	l := got.Latest
	if l.Number != 2 || string(l.Content) != "# Overview\nsecond" || l.ContentHash != v2.ContentHash || l.Size != v2.Size ||
		l.AuthorUserID != "bob" || l.AgentRunID != "run-7" || l.AgentRole != "architect" || l.ChangeNote != "v2" ||
		!l.CreatedAt.Equal(stored(v2.CreatedAt)) || l.CreatedAt.Location() != time.UTC || l.DocumentID != d.ID || l.ProjectID != "p" || l.Seq == 0 {
		t.Errorf("latest = %+v", l)
	}
	// Without content, the same metadata and no content.
	meta, err := s.Document(ctx, "p", d.ID, false)
	must(t, err)
	if meta.Latest.Content != nil || meta.Latest.Number != 2 || meta.Latest.ContentHash != v2.ContentHash {
		t.Errorf("metadata only = %+v", meta.Latest)
	}
	// Version 1 is still there, unchanged.
	v1, err := s.Version(ctx, "p", d.ID, 1)
	must(t, err)
	if string(v1.Content) != "System Overview v1" || v1.Number != 1 || v1.ChangeNote != "v1" || v1.Seq >= l.Seq {
		t.Errorf("version 1 = %+v (seq of v2 %d)", v1, l.Seq)
	}
	// Another project cannot reach the document.
	_, err = s.Document(ctx, "other", d.ID, false)
	wantErr(t, "Document of another project", err, store.ErrNotFound)
	_, err = s.Version(ctx, "other", d.ID, 1)
	wantErr(t, "Version of another project", err, store.ErrNotFound)
	_, err = s.Version(ctx, "p", d.ID, 3)
	wantErr(t, "Version 3", err, store.ErrNotFound)
}

func testContentIsKeptByteForByte(t *testing.T, s store.Store) {
	ctx := t.Context()
	contents := map[string][]byte{
		"empty":        {},
		"nul":          []byte("a\x00b\x00"),
		"invalid utf8": {0xff, 0xfe, 'x', 0xc3},
		"crlf":         []byte("line\r\nline\r\n"),
		"large":        bytes.Repeat([]byte("0123456789abcdef"), 32<<10), // 512 KiB
	}
	for name, content := range contents {
		d := newDoc("p", "code", name, 0)
		v := newVersion(d, 1, "")
		v.Content = content
		must(t, s.Write(ctx, "p", func(q store.Queries) error {
			if err := q.InsertDocuments(ctx, []store.Document{d}); err != nil {
				return err
			}
			return q.AddVersions(ctx, []store.Version{v})
		}))
		got, err := s.Document(ctx, "p", d.ID, true)
		must(t, err)
		if !bytes.Equal(got.Latest.Content, content) || got.Latest.Content == nil {
			t.Errorf("%s: content of %d bytes read back as %d bytes (nil: %v)", name, len(content), len(got.Latest.Content), got.Latest.Content == nil)
		}
		version, err := s.Version(ctx, "p", d.ID, 1)
		must(t, err)
		if !bytes.Equal(version.Content, content) {
			t.Errorf("%s: Version content differs", name)
		}
	}
}

func testInvisibleUntilFirstVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := newDoc("p", "design", "Palette", 4)
	must(t, s.Write(ctx, "p", func(q store.Queries) error {
		if err := q.InsertDocuments(ctx, []store.Document{d}); err != nil {
			return err
		}
		if _, err := q.Document(ctx, "p", d.ID, false); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("document without versions: err = %v, want ErrNotFound", err)
		}
		if docs, err := q.Documents(ctx, "p", store.DocumentFilter{}); err != nil || len(docs) != 0 {
			t.Errorf("Documents lists a document without versions: %v, %v", docs, err)
		}
		return q.AddVersions(ctx, []store.Version{newVersion(d, 1, "blue")})
	}))
	if _, err := s.Document(ctx, "p", d.ID, false); err != nil {
		t.Errorf("after its first version: %v", err)
	}
}

func testUniqueTitlePerType(t *testing.T, s store.Store) {
	ctx := t.Context()
	create(t, s, newDoc("p", "requirements", "PRD", 2))
	err := s.Write(ctx, "p", func(q store.Queries) error {
		return q.InsertDocuments(ctx, []store.Document{newDoc("p", "requirements", "prd", 0)})
	})
	wantErr(t, "same type and title key", err, store.ErrAlreadyExists)
	// The same title is free in another type and in another project.
	create(t, s, newDoc("p", "user_story", "PRD", 2))
	create(t, s, newDoc("q", "requirements", "PRD", 2))
	// A batch with one taken key stores none of its documents.
	fresh := newDoc("p", "other", "Fresh", 0)
	err = s.Write(ctx, "p", func(q store.Queries) error {
		return q.InsertDocuments(ctx, []store.Document{fresh, newDoc("p", "requirements", "PRD", 0)})
	})
	wantErr(t, "batch with a taken key", err, store.ErrAlreadyExists)
	if got, _ := s.DocumentsByKey(ctx, "p", []store.DocumentKey{{Type: "other", TitleKey: "fresh"}}); len(got) != 0 {
		t.Errorf("a failed batch stored %v", ids(got))
	}
}

func testAddVersionsConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	docs := create(t, s, newDoc("p", "architecture", "A", 3), newDoc("p", "api_spec", "B", 3))
	must(t, s.AddVersions(ctx, []store.Version{newVersion(docs[0], 2, "a2")}))
	// Version 2 of A again (a writer based on version 1 that lost the race), with a good one of B:
	// neither is stored, on the store and inside Write alike.
	batch := []store.Version{newVersion(docs[1], 2, "b2"), newVersion(docs[0], 2, "a2 again")}
	wantErr(t, "AddVersions based on a stale version", s.AddVersions(ctx, batch), store.ErrConflict)
	err := s.Write(ctx, "p", func(q store.Queries) error { return q.AddVersions(ctx, batch) })
	wantErr(t, "AddVersions based on a stale version, in Write", err, store.ErrConflict)
	// Skipping a number is a conflict too.
	wantErr(t, "AddVersions skipping a number", s.AddVersions(ctx, []store.Version{newVersion(docs[1], 3, "b3")}), store.ErrConflict)
	for _, d := range docs {
		got, err := s.Document(ctx, "p", d.ID, true)
		must(t, err)
		want := map[string]string{"A": "a2", "B": "B v1"}[d.Title]
		if string(got.Latest.Content) != want {
			t.Errorf("%s: latest %q (v%d), want %q", d.Title, got.Latest.Content, got.Latest.Number, want)
		}
	}
	if vs, _ := s.Versions(ctx, "p", docs[1].ID, 0, 0); len(vs) != 1 {
		t.Errorf("B has %d versions after failed batches, want 1", len(vs))
	}
}

func testAddVersionsMissingDocument(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := create(t, s, newDoc("p", "architecture", "A", 3))[0]
	wantErr(t, "AddVersions of a missing document", s.AddVersions(ctx, []store.Version{newVersion(newDoc("p", "x", "y", 0), 1, "z")}), store.ErrNotFound)
	other := newVersion(d, 2, "from another project")
	other.ProjectID = "q"
	wantErr(t, "AddVersions naming another project", s.AddVersions(ctx, []store.Version{other}), store.ErrNotFound)
	if got, _ := s.Document(ctx, "p", d.ID, false); got.Latest.Number != 1 {
		t.Errorf("latest version %d, want 1", got.Latest.Number)
	}
}

func testDocumentsByKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	docs := create(t, s, newDoc("p", "architecture", "A", 3), newDoc("p", "architecture", "B", 3), newDoc("p", "api_spec", "A", 3))
	create(t, s, newDoc("q", "architecture", "A", 3))
	got, err := s.DocumentsByKey(ctx, "p", []store.DocumentKey{{Type: "architecture", TitleKey: "a"}, {Type: "api_spec", TitleKey: "a"},
		{Type: "api_spec", TitleKey: "b"}, {Type: "design", TitleKey: "a"}})
	must(t, err)
	gotIDs := ids(got)
	slices.Sort(gotIDs)
	want := []string{docs[0].ID, docs[2].ID}
	slices.Sort(want)
	if !slices.Equal(gotIDs, want) {
		t.Errorf("DocumentsByKey = %v, want %v", gotIDs, want)
	}
	for _, d := range got {
		if d.Latest.Number != 1 || d.Latest.Content != nil {
			t.Errorf("%s: latest %+v, want version 1 without content", d.Title, d.Latest)
		}
	}
	if none, err := s.DocumentsByKey(ctx, "p", nil); err != nil || len(none) != 0 {
		t.Errorf("no keys: %v, %v", none, err)
	}
}

func testDocumentsFilterAndPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Inserted out of order; listed by type, then title key.
	create(t, s, newDoc("p", "design", "b", 4), newDoc("p", "architecture", "z", 3), newDoc("p", "architecture", "a", 3),
		newDoc("p", "design", "a", 0), newDoc("p", "api_spec", "m", 3))
	create(t, s, newDoc("q", "architecture", "other project", 3))
	titles := func(docs []store.Document) []string {
		out := make([]string, len(docs))
		for i, d := range docs {
			out[i] = d.Type + "/" + d.Title
		}
		return out
	}
	all, err := s.Documents(ctx, "p", store.DocumentFilter{})
	must(t, err)
	if got, want := titles(all), []string{"api_spec/m", "architecture/a", "architecture/z", "design/a", "design/b"}; !slices.Equal(got, want) {
		t.Errorf("Documents = %v, want %v", got, want)
	}
	// Seq is the creation order: the order of the batch, then the later batch.
	seqs := map[string]int64{}
	for _, d := range all {
		seqs[d.Type+"/"+d.Title] = d.Seq
	}
	created := []string{"design/b", "architecture/z", "architecture/a", "design/a", "api_spec/m"}
	for i := 1; i < len(created); i++ {
		if seqs[created[i-1]] >= seqs[created[i]] {
			t.Errorf("Seq of %s (%d) is not below that of %s (%d), created after it", created[i-1], seqs[created[i-1]], created[i], seqs[created[i]])
		}
	}
	byType, err := s.Documents(ctx, "p", store.DocumentFilter{Type: "design"})
	must(t, err)
	if got := titles(byType); !slices.Equal(got, []string{"design/a", "design/b"}) {
		t.Errorf("type design: %v", got)
	}
	byGate, err := s.Documents(ctx, "p", store.DocumentFilter{Gate: 3})
	must(t, err)
	if got := titles(byGate); !slices.Equal(got, []string{"api_spec/m", "architecture/a", "architecture/z"}) {
		t.Errorf("gate 3: %v", got)
	}
	// Pages of two.
	var paged []string
	var after *store.DocumentCursor
	for range 4 {
		page, err := s.Documents(ctx, "p", store.DocumentFilter{After: after, Limit: 2})
		must(t, err)
		if len(page) == 0 {
			break
		}
		paged = append(paged, titles(page)...)
		last := page[len(page)-1]
		after = &store.DocumentCursor{Type: last.Type, TitleKey: last.TitleKey}
	}
	if !slices.Equal(paged, titles(all)) {
		t.Errorf("pages = %v, want %v", paged, titles(all))
	}
}

// testDocumentsChangedSince: ChangedSince keeps the documents whose latest version was stored
// at or after it (to the microsecond the stores keep), in pages as without it.
func testDocumentsChangedSince(t *testing.T, s store.Store) {
	ctx := t.Context()
	untouched, revised, twice := newDoc("p", "design", "untouched", 0), newDoc("p", "architecture", "revised", 3),
		newDoc("p", "architecture", "twice", 3)
	late := newDoc("p", "api_spec", "late", 3)
	late.CreatedAt = base.Add(time.Hour)
	create(t, s, untouched, revised, twice)
	create(t, s, late)
	create(t, s, newDoc("q", "architecture", "other project", 3))
	must(t, s.AddVersions(ctx, []store.Version{newVersion(revised, 2, "r2"), newVersion(twice, 2, "t2")}))
	must(t, s.AddVersions(ctx, []store.Version{newVersion(twice, 3, "t3")}))
	// Version 2 of revised is at base+2m (with nanoseconds the stores drop): at it is included,
	// a microsecond later it is not.
	for _, tc := range []struct {
		since time.Time
		want  []string
	}{
		{base, []string{"late", "revised", "twice", "untouched"}},
		{base.Add(2 * time.Minute), []string{"late", "revised", "twice"}},
		{base.Add(2*time.Minute + time.Microsecond), []string{"late", "twice"}},
		{base.Add(time.Hour), []string{"late"}},
		{base.Add(2 * time.Hour), nil},
	} {
		var got []string
		var after *store.DocumentCursor
		for range 5 {
			page, err := s.Documents(ctx, "p", store.DocumentFilter{ChangedSince: tc.since, After: after, Limit: 1})
			must(t, err)
			if len(page) == 0 {
				break
			}
			got = append(got, page[0].Title)
			after = &store.DocumentCursor{Type: page[0].Type, TitleKey: page[0].TitleKey}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("changed since %s, in pages of 1: %v, want %v", tc.since, got, tc.want)
		}
	}
	byType, err := s.Documents(ctx, "p", store.DocumentFilter{Type: "architecture", ChangedSince: base.Add(3 * time.Minute)})
	must(t, err)
	if len(byType) != 1 || byType[0].Title != "twice" || byType[0].Latest.Number != 3 {
		t.Errorf("architecture changed since base+3m: %+v", byType)
	}
}

func testVersions(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := create(t, s, newDoc("p", "requirements", "PRD", 2))[0]
	for n := 2; n <= 5; n++ {
		must(t, s.AddVersions(ctx, []store.Version{newVersion(d, n, fmt.Sprint("v", n))}))
	}
	numbers := func(vs []store.Version) []int {
		out := make([]int, len(vs))
		for i, v := range vs {
			out[i] = v.Number
			if v.Content != nil {
				t.Errorf("Versions returned content of version %d", v.Number)
			}
		}
		return out
	}
	all, err := s.Versions(ctx, "p", d.ID, 0, 0)
	must(t, err)
	if got := numbers(all); !slices.Equal(got, []int{5, 4, 3, 2, 1}) {
		t.Errorf("Versions = %v, want newest first", got)
	}
	page, err := s.Versions(ctx, "p", d.ID, 4, 2)
	must(t, err)
	if got := numbers(page); !slices.Equal(got, []int{3, 2}) {
		t.Errorf("Versions(before 4, 2) = %v, want [3 2]", got)
	}
	if other, err := s.Versions(ctx, "q", d.ID, 0, 0); err != nil || len(other) != 0 {
		t.Errorf("Versions of another project: %v, %v", other, err)
	}
}

func testHistory(t *testing.T, s store.Store) {
	ctx := t.Context()
	docs := create(t, s, newDoc("p", "architecture", "A", 3), newDoc("p", "api_spec", "B", 3))
	create(t, s, newDoc("q", "architecture", "A", 3))
	must(t, s.AddVersions(ctx, []store.Version{newVersion(docs[1], 2, "b2")}))
	must(t, s.AddVersions(ctx, []store.Version{newVersion(docs[0], 2, "a2"), newVersion(docs[1], 3, "b3")}))
	type ref struct {
		title  string
		number int
	}
	refs := func(vs []store.Version) []ref {
		out := make([]ref, len(vs))
		for i, v := range vs {
			out[i] = ref{map[string]string{docs[0].ID: "A", docs[1].ID: "B"}[v.DocumentID], v.Number}
		}
		return out
	}
	all, err := s.History(ctx, "p", 0, 0, 100)
	must(t, err)
	// In the order stored; within a batch, in the order given.
	if got, want := refs(all), []ref{{"A", 1}, {"B", 1}, {"B", 2}, {"A", 2}, {"B", 3}}; !slices.Equal(got, want) {
		t.Fatalf("History = %v, want %v", got, want)
	}
	page, err := s.History(ctx, "p", all[1].Seq, all[3].Seq, 100)
	must(t, err)
	if got, want := refs(page), []ref{{"B", 2}, {"A", 2}}; !slices.Equal(got, want) {
		t.Errorf("History(after 2nd, up to 4th) = %v, want %v", got, want)
	}
	limited, err := s.History(ctx, "p", 0, 0, 2)
	must(t, err)
	if len(limited) != 2 || limited[0].Content != nil {
		t.Errorf("History(limit 2) = %+v", limited)
	}
}

func testContents(t *testing.T, s store.Store) {
	ctx := t.Context()
	ref := func(id string, n int) store.VersionRef { return store.VersionRef{DocumentID: id, Number: n} }
	docs := create(t, s, newDoc("p", "architecture", "A", 3), newDoc("p", "api_spec", "B", 3))
	other := create(t, s, newDoc("q", "architecture", "A", 3))[0]
	must(t, s.AddVersions(ctx, []store.Version{newVersion(docs[0], 2, "a2")}))
	got, err := s.Contents(ctx, "p", []store.VersionRef{ref(docs[0].ID, 1), ref(docs[0].ID, 2), ref(docs[1].ID, 1), ref(docs[1].ID, 9), ref(other.ID, 1)})
	must(t, err)
	want := map[store.VersionRef]string{ref(docs[0].ID, 1): "A v1", ref(docs[0].ID, 2): "a2", ref(docs[1].ID, 1): "B v1"}
	if len(got) != len(want) {
		t.Errorf("Contents returned %d versions, want %d", len(got), len(want))
	}
	for ref, content := range want {
		if string(got[ref]) != content {
			t.Errorf("Contents[%v] = %q, want %q", ref, got[ref], content)
		}
	}
}

func testIdempotent(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := store.Idempotent{ProjectID: "p", Key: "run-1", RequestHash: "h1", Result: []byte(`{"x":1}`), CreatedAt: base}
	must(t, s.PutIdempotent(ctx, r))
	got, err := s.Idempotent(ctx, "p", "run-1")
	must(t, err)
	if got.RequestHash != "h1" || string(got.Result) != `{"x":1}` || !got.CreatedAt.Equal(stored(base)) || got.ProjectID != "p" || got.Key != "run-1" {
		t.Errorf("Idempotent = %+v", got)
	}
	r.RequestHash = "h2"
	wantErr(t, "PutIdempotent with a used key", s.PutIdempotent(ctx, r), store.ErrAlreadyExists)
	_, err = s.Idempotent(ctx, "q", "run-1")
	wantErr(t, "Idempotent of another project", err, store.ErrNotFound)
	r.ProjectID = "q"
	must(t, s.PutIdempotent(ctx, r))
}

func testWriteRollsBack(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := newDoc("p", "architecture", "A", 3)
	boom := errors.New("boom")
	err := s.Write(ctx, "p", func(q store.Queries) error {
		if err := q.InsertDocuments(ctx, []store.Document{d}); err != nil {
			return err
		}
		if err := q.AddVersions(ctx, []store.Version{newVersion(d, 1, "x")}); err != nil {
			return err
		}
		return q.PutIdempotent(ctx, store.Idempotent{ProjectID: "p", Key: "k", RequestHash: "h", Result: []byte("{}"), CreatedAt: base})
	})
	must(t, err)
	err = s.Write(ctx, "p", func(q store.Queries) error {
		if err := q.AddVersions(ctx, []store.Version{newVersion(d, 2, "y")}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, "Write returning an error", err, boom)
	if got, _ := s.Document(ctx, "p", d.ID, false); got.Latest.Number != 1 {
		t.Errorf("after a rolled-back Write: latest version %d, want 1", got.Latest.Number)
	}
}

// testWriteSerialisesAProject: a Write of a project waits for the one in flight.
func testWriteSerialisesAProject(t *testing.T, s store.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	d := create(t, s, newDoc("p", "architecture", "A", 3))[0]
	inFirst, release, first := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		first <- s.Write(ctx, "p", func(q store.Queries) error {
			close(inFirst)
			<-release
			return q.AddVersions(ctx, []store.Version{newVersion(d, 2, "first")})
		})
	}()
	<-inFirst
	second := make(chan error, 1)
	go func() {
		second <- s.Write(ctx, "p", func(q store.Queries) error {
			// Based on what it reads: the first Write's version, if it waited for it.
			cur, err := q.Document(ctx, "p", d.ID, false)
			if err != nil {
				return err
			}
			return q.AddVersions(ctx, []store.Version{newVersion(d, cur.Latest.Number+1, "second")})
		})
	}()
	// Give the second Write time to start and (it must) wait: were it not to wait, it would read
	// version 1 and one of the two would conflict. Too short a pause can only make this pass
	// without testing anything, never fail.
	time.Sleep(100 * time.Millisecond)
	close(release)
	must(t, <-first)
	must(t, <-second)
	vs, err := s.History(ctx, "p", 0, 0, 10)
	must(t, err)
	if len(vs) != 3 || vs[1].Number != 2 || vs[2].Number != 3 {
		t.Errorf("history after two serialised writes: %+v", vs)
	}
}
