// Package projects is the projects service: projects and their members, the G1-G9 gates with
// their state machine, deliverables, proofs and review records, tasks, and each project's event
// timeline.
//
// Layers: module.go wires it, handler.go translates proto <-> domain, this file and its
// siblings hold the domain rules, and package store persists (PostgreSQL or SQLite).
package projects

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/platform/paging"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

// User is an account as the auth service describes it.
type User struct {
	ID, Email, Name string
}

// Directory resolves accounts; the auth service implements it over gRPC.
type Directory interface {
	// UserByEmail returns the account with the email; found is false if there is none.
	UserByEmail(ctx context.Context, email string) (u User, found bool, err error)
	// UsersByID returns the accounts with the ids, keyed by id; unknown ids are absent.
	UsersByID(ctx context.Context, ids []string) (map[string]User, error)
}

// Action is what a caller wants to do with a project.
type Action int

const (
	// ActRead: see the project and everything in it. Any member.
	ActRead Action = iota + 1
	// ActWrite: change tasks, deliverables, proofs, gate progress. Owner or editor.
	ActWrite
	// ActAdmin: approve gates, manage members, archive, delete. Owner.
	ActAdmin
)

var roleRank = map[string]Action{store.RoleViewer: ActRead, store.RoleEditor: ActWrite, store.RoleOwner: ActAdmin}

var actionWords = map[Action]string{ActRead: "read", ActWrite: "change", ActAdmin: "administer"}

// Service implements the projects domain.
type Service struct {
	Store     store.Store
	Directory Directory
	Bus       *eventbus.Bus
	// EncodeEvent is the form events take on the bus: PublicEvent, the JSON of the Event message
	// ListEvents returns, so that a client can switch between the two without translating.
	EncodeEvent func(store.Event) ([]byte, error)
	// EncodeNotification is the form notifications take on the bus: PublicNotification, the
	// JSON of the Notification message ListNotifications returns.
	EncodeNotification func(store.Notification) ([]byte, error)
	Metrics            *Metrics // nil records nothing
	Logger             *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func upper(s string) string { return strings.ToUpper(s) }

// access returns the project as the caller sees it if the caller may perform act. A caller who
// is not a member gets NotFound — the same answer as for a project that does not exist — so
// project ids cannot be probed. Writes to an archived or completed project are refused.
func (s *Service) access(ctx context.Context, q store.Queries, who authn.Identity, projectID string, act Action) (store.ProjectWithRole, error) {
	p, err := s.role(ctx, q, who, projectID, act)
	if err == nil && act > ActRead && p.Status != store.StatusActive {
		return p, apperr.FailedPrecondition("project is %s: it can no longer be changed", p.Status)
	}
	return p, err
}

// role is access without the project-status rule: who may manage members stays decidable on
// archived and completed projects (an owner must always be able to revoke access).
func (s *Service) role(ctx context.Context, q store.Queries, who authn.Identity, projectID string, act Action) (store.ProjectWithRole, error) {
	if !input.ValidID(projectID) {
		return store.ProjectWithRole{}, apperr.NotFound("project %q not found", projectID)
	}
	p, err := q.ProjectForMember(ctx, projectID, who.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return p, apperr.NotFound("project %s not found", projectID)
	}
	if err != nil {
		return p, err
	}
	if roleRank[p.Role] < act {
		return p, apperr.PermissionDenied("your role in this project (%s) cannot %s it", p.Role, actionWords[act])
	}
	return p, nil
}

// change runs fn, the caller's change, in one transaction with a recorder for timeline events;
// the events and the notifications made from them are stored in the same transaction and
// published on the bus once it has committed.
func (s *Service) change(ctx context.Context, who authn.Identity, fn func(q store.Queries, rec *recorder) error) error {
	var (
		events        []store.Event
		notifications []store.Notification
	)
	err := s.Store.InTx(ctx, func(tx store.Queries) error {
		q := &changeQueries{Queries: tx, read: map[memberKey]store.ProjectWithRole{}}
		rec := &recorder{now: s.now(), who: who}
		if err := fn(q, rec); err != nil {
			return err
		}
		if len(rec.events) == 0 {
			return nil
		}
		var err error
		if events, err = q.AppendEvents(ctx, rec.events); err != nil {
			return err
		}
		notifications, err = notify(ctx, q, who, events)
		return err
	})
	if err != nil {
		return err
	}
	s.publish(ctx, events, notifications)
	return nil
}

// publish sends committed events to their projects' topics and notifications to their users'.
// A message the bus loses is not lost: live clients catch up from the timeline and the
// notification list. A Redis outage is the bus's to log (once), not each message's.
func (s *Service) publish(ctx context.Context, events []store.Event, notifications []store.Notification) {
	if s.Bus == nil {
		return
	}
	for _, e := range events {
		if err := publishOne(ctx, s.Bus, eventbus.ProjectTopic(e.ProjectID), e, s.EncodeEvent); err != nil && !errors.Is(err, eventbus.ErrUnavailable) {
			s.Logger.WarnContext(ctx, "cannot publish event", "project_id", e.ProjectID, "event_id", e.ID, "error", err.Error())
		}
	}
	for _, n := range notifications {
		if err := publishOne(ctx, s.Bus, eventbus.UserTopic(n.UserID), n, s.EncodeNotification); err != nil && !errors.Is(err, eventbus.ErrUnavailable) {
			s.Logger.WarnContext(ctx, "cannot publish notification", "user_id", n.UserID, "notification_id", n.ID, "error", err.Error())
		}
	}
}

// publishOne publishes v on topic in the form encode gives it; without an encoder, nothing.
func publishOne[T any](ctx context.Context, bus *eventbus.Bus, topic string, v T, encode func(T) ([]byte, error)) error {
	if encode == nil {
		return nil
	}
	msg, err := encode(v)
	if err != nil {
		return err
	}
	return bus.Publish(ctx, topic, msg)
}

// changeQueries are a change's queries: the project rows it has read (with a member's role)
// are kept until it writes them, so that making its notifications reads nothing again.
type changeQueries struct {
	store.Queries
	read map[memberKey]store.ProjectWithRole
}

type memberKey struct{ projectID, userID string }

func (q *changeQueries) ProjectForMember(ctx context.Context, projectID, userID string) (store.ProjectWithRole, error) {
	k := memberKey{projectID, userID}
	if p, ok := q.read[k]; ok {
		return p, nil
	}
	p, err := q.Queries.ProjectForMember(ctx, projectID, userID)
	if err == nil {
		q.read[k] = p
	}
	return p, err
}

// forget drops what was read of the project: a write changed it or its members.
func (q *changeQueries) forget(projectID string) {
	maps.DeleteFunc(q.read, func(k memberKey, _ store.ProjectWithRole) bool { return k.projectID == projectID })
}

func (q *changeQueries) UpdateProject(ctx context.Context, p store.Project) error {
	q.forget(p.ID)
	return q.Queries.UpdateProject(ctx, p)
}

func (q *changeQueries) DeleteProject(ctx context.Context, id string) error {
	q.forget(id)
	return q.Queries.DeleteProject(ctx, id)
}

func (q *changeQueries) AddMember(ctx context.Context, m store.Member) error {
	q.forget(m.ProjectID)
	return q.Queries.AddMember(ctx, m)
}

func (q *changeQueries) SetMemberRole(ctx context.Context, projectID, userID, role string) error {
	q.forget(projectID)
	return q.Queries.SetMemberRole(ctx, projectID, userID, role)
}

func (q *changeQueries) RemoveMember(ctx context.Context, projectID, userID string) error {
	q.forget(projectID)
	return q.Queries.RemoveMember(ctx, projectID, userID)
}

// recorder collects the timeline events of one change, each made by the change's caller: the
// user, in person or through the service acting for them (who.Actor, recorded with the event).
type recorder struct {
	now    time.Time
	who    authn.Identity
	events []store.Event
}

func (r *recorder) add(projectID, typ string, payload any) {
	b, _ := json.Marshal(payload) // payloads are plain structs: cannot fail
	r.events = append(r.events, store.Event{ProjectID: projectID, ActorID: r.who.UserID, ActorService: r.who.Actor, Type: typ,
		Payload: b, CreatedAt: r.now})
}

// Limits on user input.
const (
	nameMaxLen        = 200
	descriptionMaxLen = 10000
	urlMaxLen         = 2048
	notesMaxLen       = 10000
	summaryMaxLen     = 4000
)

func checkRepositoryURL(v *apperr.Violations, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if len(raw) > urlMaxLen || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.Add("repositoryUrl", "must be an http(s) URL such as https://github.com/owner/repo")
	}
}

// CreateProject creates a project owned by the caller, with its first gate, in one transaction.
func (s *Service) CreateProject(ctx context.Context, who authn.Identity, name, description, projectType, repositoryURL string) (store.ProjectWithRole, error) {
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	var v apperr.Violations
	input.CheckLine(&v, "name", name, true, nameMaxLen)
	input.CheckText(&v, "description", description, false, descriptionMaxLen)
	if _, ok := workflow.For(projectType); !ok {
		v.Add("type", "is required: choose one of "+strings.Join(workflow.ProjectTypes(), ", "))
	}
	checkRepositoryURL(&v, repositoryURL)
	if err := v.Err(); err != nil {
		return store.ProjectWithRole{}, err
	}
	now := s.now()
	p := store.Project{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Description: description, Type: projectType,
		RepositoryURL: repositoryURL, OwnerID: who.UserID, Status: store.StatusActive, CurrentGate: 1, CreatedAt: now, UpdatedAt: now}
	err := s.change(ctx, who, func(q store.Queries, rec *recorder) error {
		if err := q.CreateProject(ctx, p); err != nil {
			return err
		}
		if err := q.AddMember(ctx, store.Member{ProjectID: p.ID, UserID: who.UserID, Role: store.RoleOwner, CreatedAt: now}); err != nil {
			return err
		}
		if err := q.CreateGate(ctx, store.Gate{ProjectID: p.ID, Number: 1, State: GatePending, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		rec.add(p.ID, EventProjectChanged, ProjectChanged{Change: "created", Status: p.Status})
		return nil
	})
	return store.ProjectWithRole{Project: p, Role: store.RoleOwner}, err
}

// GetProject returns a project the caller is a member of.
func (s *Service) GetProject(ctx context.Context, who authn.Identity, projectID string) (store.ProjectWithRole, error) {
	return s.access(ctx, s.Store, who, projectID, ActRead)
}

// Page sizes of ListProjects.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// ListProjects lists the caller's projects, newest first. The page token is opaque to clients.
func (s *Service) ListProjects(ctx context.Context, who authn.Identity, pageSize int, pageToken string) ([]store.ProjectWithRole, string, error) {
	var v apperr.Violations
	pageSize = paging.Size(&v, pageSize, defaultPageSize, maxPageSize)
	var after *store.ProjectCursor
	if pageToken != "" {
		c, err := decodeCursor(pageToken)
		if err != nil {
			v.Add("pageToken", "is not a token this API returned")
		}
		after = c
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	ps, err := s.Store.ProjectsForMember(ctx, who.UserID, after, pageSize+1)
	if err != nil {
		return nil, "", err
	}
	ps, next := paging.Cut(ps, pageSize, func(last store.ProjectWithRole) string {
		return paging.CursorToken(store.ProjectCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	})
	return ps, next, nil
}

func decodeCursor(token string) (*store.ProjectCursor, error) {
	var c store.ProjectCursor
	if err := paging.ParseCursorToken(token, &c); err != nil || !input.ValidID(c.ID) {
		return nil, errors.New("bad cursor")
	}
	return &c, nil
}

// ProjectUpdate holds the fields to change; nil means unchanged.
type ProjectUpdate struct {
	Name, Description, RepositoryURL *string
}

// UpdateProject changes the given fields.
func (s *Service) UpdateProject(ctx context.Context, who authn.Identity, projectID string, u ProjectUpdate) (store.ProjectWithRole, error) {
	var v apperr.Violations
	if u.Name != nil {
		*u.Name = strings.TrimSpace(*u.Name)
		input.CheckLine(&v, "name", *u.Name, true, nameMaxLen)
	}
	if u.Description != nil {
		*u.Description = strings.TrimSpace(*u.Description)
		input.CheckText(&v, "description", *u.Description, false, descriptionMaxLen)
	}
	if u.RepositoryURL != nil {
		checkRepositoryURL(&v, *u.RepositoryURL)
	}
	if err := v.Err(); err != nil {
		return store.ProjectWithRole{}, err
	}
	var out store.ProjectWithRole
	err := s.change(ctx, who, func(q store.Queries, rec *recorder) error {
		p, err := s.access(ctx, q, who, projectID, ActWrite)
		if err != nil {
			return err
		}
		if u.Name != nil {
			p.Name = *u.Name
		}
		if u.Description != nil {
			p.Description = *u.Description
		}
		if u.RepositoryURL != nil {
			p.RepositoryURL = *u.RepositoryURL
		}
		p.UpdatedAt = rec.now
		if err := q.UpdateProject(ctx, p.Project); err != nil {
			return err
		}
		rec.add(p.ID, EventProjectChanged, ProjectChanged{Change: "updated", Status: p.Status})
		out = p
		return nil
	})
	return out, err
}

// ArchiveProject makes the project read-only.
func (s *Service) ArchiveProject(ctx context.Context, who authn.Identity, projectID string) (store.ProjectWithRole, error) {
	var out store.ProjectWithRole
	err := s.change(ctx, who, func(q store.Queries, rec *recorder) error {
		p, err := s.access(ctx, q, who, projectID, ActAdmin)
		if err != nil {
			return err
		}
		p.Status, p.UpdatedAt = store.StatusArchived, rec.now
		if err := q.UpdateProject(ctx, p.Project); err != nil {
			return err
		}
		rec.add(p.ID, EventProjectChanged, ProjectChanged{Change: "archived", Status: p.Status})
		out = p
		return nil
	})
	return out, err
}

// DeleteProject deletes the project and everything it owns. Archived and completed projects
// can be deleted too.
func (s *Service) DeleteProject(ctx context.Context, who authn.Identity, projectID string) error {
	return s.Store.InTx(ctx, func(q store.Queries) error {
		p, err := q.ProjectForMember(ctx, projectID, who.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return apperr.NotFound("project %s not found", projectID)
		} else if err != nil {
			return err
		}
		if p.Role != store.RoleOwner {
			return apperr.PermissionDenied("only the owner can delete a project")
		}
		return q.DeleteProject(ctx, projectID)
	})
}

// Authorize returns the project and the caller's role if the caller may perform act on it.
// Other services call it before touching anything of a project.
func (s *Service) Authorize(ctx context.Context, who authn.Identity, projectID string, act Action) (store.ProjectWithRole, error) {
	return s.access(ctx, s.Store, who, projectID, act)
}
