// Package documents is the documents service: a project's documents with their immutable
// version history, diffs between versions, rendering to safe HTML, and export as an archive or a
// git history.
//
// Layers: module.go wires it, handler.go translates proto <-> domain, this file and its siblings
// hold the domain rules, and package store persists (PostgreSQL or SQLite). Who may do what is
// decided by the projects service (the Projects port); so is everything about gates.
package documents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

// Project is a project as the projects service describes it to the caller.
type Project struct {
	ID, Name, Type string
	// Role is the caller's role: "owner", "editor" or "viewer".
	Role string
}

// Deliverable is a document version to record as a gate's deliverable.
type Deliverable struct {
	ProjectID    string
	Gate         int
	DocumentType string
	DocumentID   string
	Version      int
	ContentHash  string
}

// Projects is what the documents service needs from the projects service, which owns projects,
// members and gates. Every call acts as the caller in ctx.
type Projects interface {
	// Authorize returns the project if the caller may read it (write false) or change it (write
	// true). A non-member gets a NotFound error, a member without the right PermissionDenied,
	// and a write to an archived or completed project FailedPrecondition.
	Authorize(ctx context.Context, projectID string, write bool) (Project, error)
	// RequiredDeliverables returns, for each gate of the project type's workflow, the document
	// types it requires.
	RequiredDeliverables(ctx context.Context, projectType string) (map[int][]string, error)
	// RecordDeliverable records d with the projects service. recorded is false, with the
	// projects service's reason, when the gate does not take deliverables now (it does not
	// exist yet, or is approved); err is for failures (unreachable, refused) and for a gate
	// under review (FailedPrecondition, ReasonGateUnderReview), whose documents cannot change
	// until the owner decides: the save is refused.
	RecordDeliverable(ctx context.Context, d Deliverable) (recorded bool, reason string, err error)
}

// Service implements the documents domain.
type Service struct {
	Store    store.Store
	Projects Projects
	// Bus, when set, carries each save to the project's live clients (documents topic), in the
	// form EncodeSaved gives it (PublicSaved: the SavedDocument message).
	Bus         *eventbus.Bus
	EncodeSaved func(Saved) ([]byte, error)
	Logger      *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Export configures ExportToGit.
	Export ExportConfig

	diffs, renders, exports slots
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// Limits on what a request may store.
const (
	// MaxContentBytes is the largest content of one version. Through the REST edge the request
	// body limit (HTTP_MAX_BODY_BYTES, 1 MiB by default) must leave room for it.
	MaxContentBytes = 512 << 10
	// MaxBatchDocuments and MaxBatchContentBytes bound one CreateDocuments call.
	MaxBatchDocuments    = 100
	MaxBatchContentBytes = 8 << 20
	// MaxRequestBytes is the largest gRPC request the service accepts: a full batch plus room.
	MaxRequestBytes = MaxBatchContentBytes + 8<<20

	titleMaxLen      = 200
	changeNoteMaxLen = 1000
	keyMaxLen        = 128
	gateCount        = 9
)

// documentTypes are the document types, as the domain's words (see platform/protoenum).
var documentTypes = map[string]bool{"intake": true, "requirements": true, "user_story": true, "architecture": true,
	"api_spec": true, "database_schema": true, "design": true, "code": true, "test_plan": true, "security_audit": true,
	"deployment_guide": true, "runbook": true, "other": true}

// agentRoles are the roles of the agent catalog, as the domain's words.
var agentRoles = map[string]bool{"orchestrator": true, "product_manager": true, "architect": true, "ux_designer": true,
	"frontend_developer": true, "backend_developer": true, "data_engineer": true, "ml_engineer": true,
	"prompt_engineer": true, "qa_engineer": true, "model_evaluator": true, "security_engineer": true,
	"devops_engineer": true, "aiops_engineer": true}

// Save outcomes.
const (
	Created    = "created"
	NewVersion = "new_version"
	Unchanged  = "unchanged"
)

// NewDocument is a document to store.
type NewDocument struct {
	Gate       int
	Type       string
	Title      string
	Content    []byte
	ChangeNote string
}

// Agent names the agent run that produced content; the zero value means a person wrote it.
type Agent struct {
	RunID, Role string
}

// Saved is what a save did to one document.
type Saved struct {
	Document store.Document
	Outcome  string
}

// DeliverableRecord says whether a save was recorded as its gate's deliverable.
type DeliverableRecord struct {
	Deliverable
	Recorded bool
	// Reason says why it was not recorded.
	Reason string
}

// Batch is what CreateDocuments did.
type Batch struct {
	Documents    []Saved
	Deliverables []DeliverableRecord
}

// contentHash is how versions are identified by content, here and in deliverables.
func contentHash(content []byte) string {
	sum := sha256.Sum256(content)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// titleKey is what makes a title unique within a project and type: titles differing only in
// case would be the same file on many file systems (and in an export).
func titleKey(title string) string { return strings.ToLower(title) }

// authorize checks the project id and asks the projects service.
func (s *Service) authorize(ctx context.Context, projectID string, write bool) (Project, error) {
	if !input.ValidID(projectID) {
		return Project{}, apperr.NotFound("project %q not found", projectID)
	}
	return s.Projects.Authorize(ctx, projectID, write)
}

func checkContent(v *apperr.Violations, field string, content []byte) {
	switch {
	case len(content) > MaxContentBytes:
		v.Add(field, fmt.Sprintf("must be at most %d KiB (it is %d bytes)", MaxContentBytes>>10, len(content)))
	case !utf8.Valid(content):
		v.Add(field, "must be valid UTF-8")
	}
}

// checkAgent checks an agent attribution. Only the agents service, acting for the user with a
// delegated token, attributes a save to one of its runs: a person's claim to be an agent is
// refused, so authorship can be trusted.
func checkAgent(v *apperr.Violations, who authn.Identity, a Agent) {
	if a == (Agent{}) {
		return
	}
	if !who.Delegated() {
		v.Add("agent", "is set by the agents service for its runs; what a person saves is attributed to them")
		return
	}
	input.CheckLine(v, "agent.runId", a.RunID, true, input.IDMaxLen)
	if !agentRoles[a.Role] {
		v.Add("agent.role", "is required with agent.runId: one of the AGENT_ROLE_ values")
	}
}

// checkNew normalises and checks a new document; field prefixes the field names.
func checkNew(v *apperr.Violations, field string, d *NewDocument) {
	d.Title = strings.TrimSpace(d.Title)
	if d.Gate < 0 || d.Gate > gateCount {
		v.Add(field+"gate", fmt.Sprintf("must be between 0 (no gate) and %d", gateCount))
	}
	if !documentTypes[d.Type] {
		v.Add(field+"type", "is required: one of the DOCUMENT_TYPE_ values")
	}
	before := len(*v)
	input.CheckLine(v, field+"title", d.Title, true, titleMaxLen)
	if len(*v) == before && d.Type == "code" && looksLikePath(d.Title) {
		checkSourcePath(v, field+"title", d.Title)
	}
	checkContent(v, field+"content", d.Content)
	input.CheckText(v, field+"changeNote", d.ChangeNote, false, changeNoteMaxLen)
}

// checkSourcePath refuses a code document's title that reads as a file path but is not one a
// source tree may hold: as a path it would be written outside the tree, or differently on
// another file system; as a document's title it would only look like a file.
func checkSourcePath(v *apperr.Violations, field, title string) {
	err := sourcetree.CheckPath(title)
	if err == nil {
		return
	}
	why := err.Error()
	if !strings.Contains(why, strconv.Quote(title)) {
		why = fmt.Sprintf("%q: %s", title, why)
	}
	v.Add(field, "is not a valid source file path: "+strings.TrimSuffix(why, ".")+". A code document titled "+
		"without spaces and with a / or an extension is a file of the project's source tree: give its path "+
		"relative to the repository root (backend/main.go), or a title with spaces for a document about the code")
}

// version is the next version of a document.
func (s *Service) version(who authn.Identity, d store.Document, number int, content []byte, note string, agent Agent, at time.Time) store.Version {
	return store.Version{DocumentID: d.ID, ProjectID: d.ProjectID, Number: number, Content: content,
		ContentHash: contentHash(content), Size: int64(len(content)), AuthorUserID: who.UserID,
		AgentRunID: agent.RunID, AgentRole: agent.Role, ChangeNote: note, CreatedAt: at}
}

// CreateDocument stores one document (nil when the request has none): CreateDocuments of one,
// its problems named by the request's own fields ("document.title").
func (s *Service) CreateDocument(ctx context.Context, who authn.Identity, projectID string, doc *NewDocument, agent Agent) (Batch, error) {
	if doc == nil {
		return Batch{}, apperr.InvalidField("document", "is required")
	}
	var v apperr.Violations
	checkNew(&v, "document.", doc)
	if err := v.Err(); err != nil {
		return Batch{}, err
	}
	return s.CreateDocuments(ctx, who, projectID, []NewDocument{*doc}, agent, false, "")
}

// CreateDocuments stores documents in one transaction: all or none. With addVersions, a
// document whose type and title exist gets a new version instead (none if its content is
// unchanged). A request with an idempotency key already used successfully in the project
// returns what that one stored and stores nothing.
func (s *Service) CreateDocuments(ctx context.Context, who authn.Identity, projectID string, docs []NewDocument, agent Agent, addVersions bool, key string) (Batch, error) {
	var v apperr.Violations
	switch {
	case len(docs) == 0:
		v.Add("documents", "is required: at least one document")
	case len(docs) > MaxBatchDocuments:
		v.Add("documents", fmt.Sprintf("must hold at most %d documents", MaxBatchDocuments))
	}
	total, seen := 0, map[store.DocumentKey]int{}
	for i := range docs {
		field := fmt.Sprintf("documents[%d].", i)
		checkNew(&v, field, &docs[i])
		total += len(docs[i].Content)
		k := store.DocumentKey{Type: docs[i].Type, TitleKey: titleKey(docs[i].Title)}
		if j, dup := seen[k]; dup {
			v.Add(field+"title", fmt.Sprintf("repeats documents[%d]: a request holds one version of each document", j))
		}
		seen[k] = i
	}
	if total > MaxBatchContentBytes {
		v.Add("documents", fmt.Sprintf("must hold at most %d MiB of content in all", MaxBatchContentBytes>>20))
	}
	checkAgent(&v, who, agent)
	if key != "" {
		input.CheckLine(&v, "idempotencyKey", key, false, keyMaxLen)
	}
	if err := v.Err(); err != nil {
		return Batch{}, err
	}
	p, err := s.authorize(ctx, projectID, true)
	if err != nil {
		return Batch{}, err
	}
	required, err := s.Projects.RequiredDeliverables(ctx, p.Type)
	if err != nil {
		return Batch{}, err
	}
	hash := requestHash(docs, agent, addVersions)
	var out Batch
	fresh := false // not a replay of an earlier request
	err = s.Store.Write(ctx, projectID, func(q store.Queries) error {
		stored, replayed, err := replay(ctx, q, projectID, key, hash)
		if err != nil || replayed {
			out = stored
			return err
		}
		b, err := s.saveAll(ctx, q, who, projectID, docs, agent, addVersions)
		if err != nil {
			return err
		}
		if b.Deliverables, err = s.record(ctx, required, b.Documents); err != nil {
			return err
		}
		out = b
		fresh = true
		return remember(ctx, q, projectID, key, hash, b, s.now())
	})
	if err == nil && fresh {
		s.publish(ctx, projectID, out.Documents...)
	}
	return out, err
}

// publish tells the project's live clients what a committed save did. The bus is not durable:
// a client that missed it lists the documents.
func (s *Service) publish(ctx context.Context, projectID string, saved ...Saved) {
	if s.Bus == nil || s.EncodeSaved == nil {
		return
	}
	for _, sv := range saved {
		if sv.Outcome == Unchanged {
			continue
		}
		msg, err := s.EncodeSaved(sv)
		if err == nil {
			err = s.Bus.Publish(context.WithoutCancel(ctx), eventbus.ProjectDocumentsTopic(projectID), msg)
		}
		if err != nil && !errors.Is(err, eventbus.ErrUnavailable) { // a Redis outage is the bus's to log, once
			s.Logger.WarnContext(ctx, "cannot publish a saved document", "project_id", projectID, "document_id", sv.Document.ID, "error", err.Error())
		}
	}
}

// saveAll stores the batch with a constant number of statements: one lookup of the documents
// that exist, one insert of the new ones, one insert of every version.
func (s *Service) saveAll(ctx context.Context, q store.Queries, who authn.Identity, projectID string, docs []NewDocument, agent Agent, addVersions bool) (Batch, error) {
	keys := make([]store.DocumentKey, len(docs))
	for i, d := range docs {
		keys[i] = store.DocumentKey{Type: d.Type, TitleKey: titleKey(d.Title)}
	}
	found, err := q.DocumentsByKey(ctx, projectID, keys)
	if err != nil {
		return Batch{}, err
	}
	existing := make(map[store.DocumentKey]store.Document, len(found))
	for _, d := range found {
		existing[store.DocumentKey{Type: d.Type, TitleKey: d.TitleKey}] = d
	}
	now := s.now()
	var (
		out      = Batch{Documents: make([]Saved, len(docs))}
		inserts  []store.Document
		versions []store.Version
		taken    apperr.Violations
	)
	for i, nd := range docs {
		doc, ok := existing[keys[i]]
		number, outcome := 1, Created
		switch {
		case ok && !addVersions:
			taken.Add(fmt.Sprintf("documents[%d].title", i), fmt.Sprintf("a %s document titled %q exists (id %s): update it, or set addVersions", nd.Type, doc.Title, doc.ID))
			continue
		case ok && doc.Latest.ContentHash == contentHash(nd.Content):
			out.Documents[i] = Saved{Document: doc, Outcome: Unchanged}
			continue
		case ok:
			number, outcome = doc.Latest.Number+1, NewVersion
		default:
			doc = store.Document{ID: uuid.Must(uuid.NewV7()).String(), ProjectID: projectID, Gate: nd.Gate, Type: nd.Type,
				Title: nd.Title, TitleKey: keys[i].TitleKey, CreatedBy: who.UserID, CreatedAt: now}
			inserts = append(inserts, doc)
		}
		ver := s.version(who, doc, number, nd.Content, nd.ChangeNote, agent, now)
		versions = append(versions, ver)
		doc.Latest = ver
		doc.Latest.Content = nil
		out.Documents[i] = Saved{Document: doc, Outcome: outcome}
	}
	if len(taken) > 0 {
		return Batch{}, &apperr.Error{Kind: apperr.KindAlreadyExists, Message: "documents with these types and titles exist", Fields: taken}
	}
	if err := q.InsertDocuments(ctx, inserts); err != nil {
		return Batch{}, err
	}
	if err := q.AddVersions(ctx, versions); err != nil {
		return Batch{}, err // the project's writes are serialised: a conflict here is a bug
	}
	return out, nil
}

// record records each document in saved whose gate requires its type as one of the gate's
// deliverables: a gate has one per producing document (the frontend's and the backend's code are
// two). Unchanged documents count: a gate re-run after a request for changes that produces the
// same content must still have its deliverables recorded in the new revision.
func (s *Service) record(ctx context.Context, required map[int][]string, saved []Saved) ([]DeliverableRecord, error) {
	var out []DeliverableRecord
	for _, sv := range saved {
		d := sv.Document
		if d.Gate == 0 || !slices.Contains(required[d.Gate], d.Type) {
			continue
		}
		r := DeliverableRecord{Deliverable: Deliverable{ProjectID: d.ProjectID, Gate: d.Gate, DocumentType: d.Type,
			DocumentID: d.ID, Version: d.Latest.Number, ContentHash: d.Latest.ContentHash}}
		var err error
		if r.Recorded, r.Reason, err = s.Projects.RecordDeliverable(ctx, r.Deliverable); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// UpdateDocument saves content as the next version of the document. base must be the latest
// version, or the update is Aborted with the current version; content equal to the latest
// version's stores nothing (outcome Unchanged).
func (s *Service) UpdateDocument(ctx context.Context, who authn.Identity, projectID, documentID string, base int, content []byte, note string, agent Agent) (Saved, *DeliverableRecord, error) {
	var v apperr.Violations
	if base < 1 {
		v.Add("baseVersion", "is required: the version the new content is based on (1 or more)")
	}
	checkContent(&v, "content", content)
	input.CheckText(&v, "changeNote", note, false, changeNoteMaxLen)
	checkAgent(&v, who, agent)
	if err := v.Err(); err != nil {
		return Saved{}, nil, err
	}
	p, err := s.authorize(ctx, projectID, true)
	if err != nil {
		return Saved{}, nil, err
	}
	required, err := s.Projects.RequiredDeliverables(ctx, p.Type)
	if err != nil {
		return Saved{}, nil, err
	}
	var (
		out     Saved
		records []DeliverableRecord
	)
	err = s.Store.Write(ctx, projectID, func(q store.Queries) error {
		doc, err := s.document(ctx, q, projectID, documentID, false)
		if err != nil {
			return err
		}
		if base != doc.Latest.Number {
			return staleVersion(doc, base)
		}
		out = Saved{Document: doc, Outcome: Unchanged}
		if doc.Latest.ContentHash != contentHash(content) {
			ver := s.version(who, doc, base+1, content, note, agent, s.now())
			if err := q.AddVersions(ctx, []store.Version{ver}); errors.Is(err, store.ErrConflict) {
				return staleVersion(doc, base)
			} else if err != nil {
				return err
			}
			out.Document.Latest, out.Outcome = ver, NewVersion
			out.Document.Latest.Content = nil
		}
		records, err = s.record(ctx, required, []Saved{out})
		return err
	})
	if err == nil {
		s.publish(ctx, projectID, out)
	}
	if err != nil || len(records) == 0 {
		return out, nil, err
	}
	return out, &records[0], nil
}

// ReasonStaleVersion is the reason of the error a save based on an old version gets; its
// metadata "currentVersion" is the latest version.
const ReasonStaleVersion = "STALE_VERSION"

func staleVersion(doc store.Document, base int) error {
	return apperr.Aborted("document %s is at version %d: your change was based on version %d; merge it with the current version and save again",
		doc.ID, doc.Latest.Number, base).WithReason(ReasonStaleVersion).WithMetadata("currentVersion", fmt.Sprint(doc.Latest.Number))
}

// document reads a document of the project, with its latest version's content if asked.
func (s *Service) document(ctx context.Context, q store.Queries, projectID, documentID string, withContent bool) (store.Document, error) {
	if !input.ValidID(documentID) {
		return store.Document{}, apperr.NotFound("document %q not found", documentID)
	}
	d, err := q.Document(ctx, projectID, documentID, withContent)
	if errors.Is(err, store.ErrNotFound) {
		return d, apperr.NotFound("document %s not found", documentID)
	}
	return d, err
}
