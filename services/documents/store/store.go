// Package store is the persistence boundary of the documents service: documents, their
// immutable versions, and the results of idempotent requests. Two implementations satisfy
// Store — postgres (pgx/v5, production) and sqlite (modernc, the embedded default) — and both
// must pass the storetest conformance suite.
//
// A version, once stored, is never changed or deleted: a document's history only grows. Content
// is kept byte for byte as given (BYTEA / BLOB), so nothing a client sends is altered or refused
// by the database.
package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound: the row does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: a row with the same key exists (a document of the same type and title,
	// an idempotency key already used).
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrConflict: a version was based on one that is no longer the latest (a lost race).
	ErrConflict = errors.New("store: conflict")
)

// Document is a document's identity and, in Latest, the metadata of its latest version (and
// its content, where a query says so).
type Document struct {
	ID        string
	ProjectID string
	// Gate is 1-9, or 0 when the document belongs to no gate.
	Gate int
	// Type is a document type word ("architecture", "api_spec", ...).
	Type  string
	Title string
	// TitleKey is what makes a title unique within the project and type (the domain folds case).
	TitleKey  string
	CreatedBy string
	CreatedAt time.Time
	// Seq orders a project's documents as they were created (in commit order, as a version's
	// Seq does). Set by the store.
	Seq int64
	// Latest is the latest version. Queries return only documents that have one: a document
	// inserted by InsertDocuments is invisible until AddVersions gives it its first.
	Latest Version
}

// Version is one immutable version of a document.
type Version struct {
	DocumentID string
	ProjectID  string
	Number     int
	// Content is filled in only by the queries that say so.
	Content     []byte
	ContentHash string
	Size        int64
	// AuthorUserID is the user who saved the version (or on whose behalf it was saved); AgentRunID
	// and AgentRole are set when an agent run produced it.
	AuthorUserID string
	AgentRunID   string
	AgentRole    string
	ChangeNote   string
	CreatedAt    time.Time
	// Seq orders every version of a project as it was stored: versions of one project are
	// stored one transaction at a time, so it grows in commit order. Set by the store.
	Seq int64
}

// VersionRef names one version.
type VersionRef struct {
	DocumentID string
	Number     int
}

// DocumentKey is what makes a document unique within its project.
type DocumentKey struct {
	Type     string
	TitleKey string
}

// DocumentCursor marks a position in the list of documents ordered by type and title key
// (unique within a project).
type DocumentCursor struct {
	Type     string
	TitleKey string
}

// DocumentFilter narrows Documents.
type DocumentFilter struct {
	// Type, when set, keeps the documents of that type.
	Type string
	// Gate, when non-zero, keeps the documents of that gate.
	Gate int
	// ChangedSince, when set, keeps the documents whose latest version was stored at or after
	// it: created (their first version) or given a new version since then.
	ChangedSince time.Time
	// After, when set, keeps the documents listed after it.
	After *DocumentCursor
	// Limit, when non-zero, returns at most that many documents.
	Limit int
}

// Idempotent is the stored result of a request made with an idempotency key.
type Idempotent struct {
	ProjectID string
	Key       string
	// RequestHash identifies the request, so a key reused for another request is told apart.
	RequestHash string
	// Result is the domain's encoding of what the request returned; the store keeps it as given.
	Result    []byte
	CreatedAt time.Time
}

// Queries are the operations of the store. Used through Store they run on their own; through
// Write they run in one transaction.
type Queries interface {
	// InsertDocuments inserts documents without versions (AddVersions gives them their first, in
	// the same transaction), in one statement whatever their number. ErrAlreadyExists if an id is taken or
	// a document of the same project, type and title key exists.
	InsertDocuments(ctx context.Context, docs []Document) error
	// AddVersions stores the versions, in one statement whatever their number (SQLite: one
	// transaction), and makes each the latest of its document, which must have been at
	// Number-1. ErrConflict, and nothing stored, if any was not (another save came first);
	// ErrNotFound if a document does not exist.
	AddVersions(ctx context.Context, versions []Version) error
	// DocumentsByKey returns the project's documents with the given keys (those that exist), with
	// their latest versions' metadata, in one query.
	DocumentsByKey(ctx context.Context, projectID string, keys []DocumentKey) ([]Document, error)
	// Document returns one document with its latest version's metadata, and the content too when
	// withContent is set. ErrNotFound if the project has no such document.
	Document(ctx context.Context, projectID, id string, withContent bool) (Document, error)
	// Documents lists a project's documents matching the filter, ordered by type and title key,
	// with their latest versions' metadata (no content).
	Documents(ctx context.Context, projectID string, f DocumentFilter) ([]Document, error)
	// Version returns one version with its content. ErrNotFound if there is no such version of a
	// document of the project.
	Version(ctx context.Context, projectID, documentID string, number int) (Version, error)
	// Versions lists a document's versions newest first, without content: those numbered below
	// before (all when before is 0), at most limit (all when 0).
	Versions(ctx context.Context, projectID, documentID string, before, limit int) ([]Version, error)
	// History lists every version of a project's documents in Seq order, without content: those
	// with Seq above after and at most upTo (no bound when 0), at most limit.
	History(ctx context.Context, projectID string, after, upTo int64, limit int) ([]Version, error)
	// Contents returns the content of the given versions of the project's documents, in one
	// query; versions that do not exist are absent from the map.
	Contents(ctx context.Context, projectID string, refs []VersionRef) (map[VersionRef][]byte, error)

	// PutIdempotent stores the result of a request made with a key. ErrAlreadyExists if the
	// project already has that key.
	PutIdempotent(ctx context.Context, r Idempotent) error
	// Idempotent returns the stored result of the project's key. ErrNotFound if there is none.
	Idempotent(ctx context.Context, projectID, key string) (Idempotent, error)
}

// Store is the documents service's database.
type Store interface {
	Queries
	// Write runs fn in one transaction, committed if fn returns nil and rolled back otherwise,
	// after every other Write of the same project has ended: a project's versions are stored one
	// transaction at a time, so their Seq grows in commit order and a history read in pages never
	// misses one. fn must use only the Queries it is given: on SQLite the store has a single
	// connection.
	Write(ctx context.Context, projectID string, fn func(q Queries) error) error
	// Ping checks the database answers (readiness).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
