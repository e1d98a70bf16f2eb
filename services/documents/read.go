package documents

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aymanbagabas/go-udiff"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/platform/paging"
	"github.com/fuzzyllama/fuzzyllama/services/documents/render"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

// GetDocument returns a document with its latest version's content.
func (s *Service) GetDocument(ctx context.Context, projectID, documentID string) (store.Document, error) {
	if _, err := s.authorize(ctx, projectID, false); err != nil {
		return store.Document{}, err
	}
	return s.document(ctx, s.Store, projectID, documentID, true)
}

// Page sizes of the lists.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// ListDocuments lists the project's documents by type, then title, optionally of one type or
// gate, or only those created or given a new version at or after changedSince (when non-zero),
// a page at a time. The page token is opaque to clients.
func (s *Service) ListDocuments(ctx context.Context, projectID, typ string, gate int, changedSince time.Time, pageSize int, pageToken string) ([]store.Document, string, error) {
	var v apperr.Violations
	if typ != "" && !documentTypes[typ] {
		v.Add("type", "must be one of the DOCUMENT_TYPE_ values")
	}
	if gate < 0 || gate > gateCount {
		v.Add("gate", fmt.Sprintf("must be between 0 (all) and %d", gateCount))
	}
	pageSize = paging.Size(&v, pageSize, defaultPageSize, maxPageSize)
	f := store.DocumentFilter{Type: typ, Gate: gate, ChangedSince: changedSince, Limit: pageSize + 1}
	if pageToken != "" {
		var c store.DocumentCursor
		if paging.ParseCursorToken(pageToken, &c) != nil || !validCursor(c) {
			v.Add("pageToken", "is not a token this API returned")
		}
		f.After = &c
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	if _, err := s.authorize(ctx, projectID, false); err != nil {
		return nil, "", err
	}
	docs, err := s.Store.Documents(ctx, projectID, f)
	if err != nil {
		return nil, "", err
	}
	docs, next := paging.Cut(docs, pageSize, func(last store.Document) string {
		return paging.CursorToken(store.DocumentCursor{Type: last.Type, TitleKey: last.TitleKey})
	})
	return docs, next, nil
}

// validCursor reports whether a decoded cursor could have come from a listed document; a
// forged one must not reach the database (PostgreSQL refuses NUL in text with a server error).
func validCursor(c store.DocumentCursor) bool {
	var v apperr.Violations
	input.CheckLine(&v, "titleKey", c.TitleKey, true, titleMaxLen)
	return documentTypes[c.Type] && len(v) == 0
}

// ListVersions lists a document's versions, newest first, a page at a time.
func (s *Service) ListVersions(ctx context.Context, projectID, documentID string, pageSize int, pageToken string) ([]store.Version, string, error) {
	var v apperr.Violations
	pageSize = paging.Size(&v, pageSize, defaultPageSize, maxPageSize)
	before := int64(0)
	if pageToken != "" {
		var ok bool
		// Version numbers are 32-bit in the stores: a larger position is no token of ours.
		if before, ok = paging.ParsePositionToken(pageToken); !ok || before > math.MaxInt32 {
			v.Add("pageToken", "is not a token this API returned")
		}
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	if _, err := s.authorize(ctx, projectID, false); err != nil {
		return nil, "", err
	}
	if _, err := s.document(ctx, s.Store, projectID, documentID, false); err != nil {
		return nil, "", err
	}
	versions, err := s.Store.Versions(ctx, projectID, documentID, int(before), pageSize+1)
	if err != nil {
		return nil, "", err
	}
	versions, next := paging.Cut(versions, pageSize, func(last store.Version) string { return paging.PositionToken(int64(last.Number)) })
	return versions, next, nil
}

// GetVersion returns one version with its content.
func (s *Service) GetVersion(ctx context.Context, projectID, documentID string, number int) (store.Document, store.Version, error) {
	if number < 1 {
		return store.Document{}, store.Version{}, apperr.InvalidField("version", "must be 1 or more")
	}
	if _, err := s.authorize(ctx, projectID, false); err != nil {
		return store.Document{}, store.Version{}, err
	}
	d, err := s.document(ctx, s.Store, projectID, documentID, false)
	if err != nil {
		return d, store.Version{}, err
	}
	v, err := s.versionOf(ctx, d, number)
	return d, v, err
}

// versionOf reads one version of d with its content; number 0 is the latest.
func (s *Service) versionOf(ctx context.Context, d store.Document, number int) (store.Version, error) {
	if number == 0 {
		number = d.Latest.Number
	}
	ver, err := s.Store.Version(ctx, d.ProjectID, d.ID, number)
	if errors.Is(err, store.ErrNotFound) {
		return ver, apperr.NotFound("document %s has no version %d: its latest is %d", d.ID, number, d.Latest.Number)
	}
	return ver, err
}

// maxDiffLines bounds the lines a diff returns (its hunks and unified text hold the first ones;
// the counts are of all): two large unrelated versions would otherwise answer with tens of
// megabytes.
const maxDiffLines = 20000

// Diff is a line diff between two versions.
type Diff struct {
	From, To int
	// Unified is the diff as `diff -u` prints it; empty when the versions are equal.
	Unified          string
	Hunks            []Hunk
	Added, Removed   int
	FromHash, ToHash string
	// Truncated: the diff has more than maxDiffLines lines; Hunks and Unified hold the first.
	Truncated bool
}

// Hunk is one region of change with its context lines.
type Hunk struct {
	FromLine, FromCount, ToLine, ToCount int
	Lines                                []DiffLine
}

// Line kinds of a hunk.
const (
	LineContext = "context"
	LineAdded   = "added"
	LineRemoved = "removed"
)

// DiffLine is one line of a hunk, without its line break.
type DiffLine struct {
	Kind, Text string
}

// DiffVersions compares two versions of a document line by line; to 0 is the latest.
func (s *Service) DiffVersions(ctx context.Context, projectID, documentID string, from, to int) (Diff, error) {
	var v apperr.Violations
	if from < 1 {
		v.Add("fromVersion", "is required: 1 or more")
	}
	if to < 0 {
		v.Add("toVersion", "must be 1 or more (0 for the latest)")
	}
	if err := v.Err(); err != nil {
		return Diff{}, err
	}
	if _, err := s.authorize(ctx, projectID, false); err != nil {
		return Diff{}, err
	}
	d, err := s.document(ctx, s.Store, projectID, documentID, false)
	if err != nil {
		return Diff{}, err
	}
	newer, err := s.versionOf(ctx, d, to)
	if err != nil {
		return Diff{}, err
	}
	older, err := s.versionOf(ctx, d, from)
	if err != nil {
		return Diff{}, err
	}
	release, err := s.diffs.acquire(ctx, 0, "diffs")
	if err != nil {
		return Diff{}, err
	}
	defer release()
	return diffVersions(d.Title, older, newer), nil
}

// diffVersions computes the diff of two versions with the Myers algorithm of Go's own tools
// (go-udiff), whose search is bounded, so even large unrelated versions diff in bounded time.
func diffVersions(title string, from, to store.Version) Diff {
	out := Diff{From: from.Number, To: to.Number, FromHash: from.ContentHash, ToHash: to.ContentHash}
	old, cur := string(from.Content), string(to.Content)
	edits := udiff.Lines(old, cur)
	u, err := udiff.ToUnifiedDiff(fmt.Sprintf("%s (version %d)", title, from.Number), fmt.Sprintf("%s (version %d)", title, to.Number), old, edits, udiff.DefaultContextLines)
	if err != nil { // edits computed from old itself are always consistent with it
		panic(fmt.Sprintf("documents: inconsistent diff edits: %v", err))
	}
	budget := maxDiffLines
	for i, h := range u.Hunks {
		hunk := Hunk{FromLine: h.FromLine, ToLine: h.ToLine}
		for j, l := range h.Lines {
			switch l.Kind {
			case udiff.Delete:
				out.Removed++
			case udiff.Insert:
				out.Added++
			}
			if budget == 0 {
				if !out.Truncated { // the unified text ends where the hunks do
					out.Truncated = true
					u.Hunks = u.Hunks[:i:i]
					if j > 0 {
						h.Lines = h.Lines[:j]
						u.Hunks = append(u.Hunks, h)
					}
				}
				continue
			}
			budget--
			line := DiffLine{Text: strings.TrimSuffix(l.Content, "\n")}
			switch l.Kind {
			case udiff.Delete:
				line.Kind = LineRemoved
				hunk.FromCount++
			case udiff.Insert:
				line.Kind = LineAdded
				hunk.ToCount++
			default:
				line.Kind = LineContext
				hunk.FromCount++
				hunk.ToCount++
			}
			hunk.Lines = append(hunk.Lines, line)
		}
		if len(hunk.Lines) > 0 {
			out.Hunks = append(out.Hunks, hunk)
		}
	}
	out.Unified = u.String()
	return out
}

// Rendered is a version as safe HTML.
type Rendered struct {
	Version     int
	ContentHash string
	HTML        []byte
}

// RenderDocument renders a version (0: the latest) to sanitized HTML: Markdown, or a code
// block for source code documents.
func (s *Service) RenderDocument(ctx context.Context, projectID, documentID string, number int) (Rendered, error) {
	if number < 0 {
		return Rendered{}, apperr.InvalidField("version", "must be 1 or more (0 for the latest)")
	}
	if _, err := s.authorize(ctx, projectID, false); err != nil {
		return Rendered{}, err
	}
	d, err := s.document(ctx, s.Store, projectID, documentID, false)
	if err != nil {
		return Rendered{}, err
	}
	ver, err := s.versionOf(ctx, d, number)
	if err != nil {
		return Rendered{}, err
	}
	// Rendering is bounded per document (see package render), but a hostile one at the size
	// limit still costs up to a second and a hundred megabytes: a few at a time.
	release, err := s.renders.acquire(ctx, 0, "renderings")
	if err != nil {
		return Rendered{}, err
	}
	defer release()
	out := Rendered{Version: ver.Number, ContentHash: ver.ContentHash}
	if lang, ok := codeLanguage(d); ok {
		out.HTML = render.Code(ver.Content, lang)
	} else {
		out.HTML = render.Markdown(ver.Content)
	}
	return out, nil
}
