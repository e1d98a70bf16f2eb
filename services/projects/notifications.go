package projects

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/platform/paging"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

// Notification kinds (served as fuzzyllama.projects.v1.NotificationKind).
const (
	NotifyGateReadyForReview = "gate_ready_for_review"
	NotifyGateBlocked        = "gate_blocked"
	NotifyMemberAdded        = "member_added"
	NotifyMemberRoleChanged  = "member_role_changed"
	NotifyMemberRemoved      = "member_removed"
	NotifyProjectCompleted   = "project_completed"
)

// blockReasonMaxLen bounds the block reason quoted in a notification: a message is one line for
// a list or a toast, the gate has the whole reason.
const blockReasonMaxLen = 200

// notice is what one event tells, and whom, before it is addressed to users.
type notice struct {
	kind string
	gate int
	// detail is the block reason or the member's new role.
	detail string
	// user is the one user told (of a change of their membership); roles, otherwise, are the
	// roles of the members told.
	user  string
	roles []string
}

var (
	owners           = []string{store.RoleOwner}
	ownersAndEditors = []string{store.RoleOwner, store.RoleEditor}
	everyMember      = []string{store.RoleOwner, store.RoleEditor, store.RoleViewer}
)

// noticeOf is the rule of who is told about what; ok is false for the events nobody is told
// about. It reads the event alone, so a change whose events concern nobody costs no query.
func noticeOf(e store.Event) (n notice, ok bool) {
	switch e.Type {
	case EventGateChanged:
		var c GateChanged
		_ = json.Unmarshal(e.Payload, &c) // written by this package: cannot fail
		switch c.To {
		case GateInReview:
			return notice{kind: NotifyGateReadyForReview, gate: c.Gate, roles: owners}, true
		case GateBlocked:
			return notice{kind: NotifyGateBlocked, gate: c.Gate, detail: c.Reason, roles: ownersAndEditors}, true
		}
	case EventMemberChanged:
		var c MemberChanged
		_ = json.Unmarshal(e.Payload, &c)
		switch c.Change {
		case MemberRemoved:
			return notice{kind: NotifyMemberRemoved, user: c.UserID}, true
		case MemberAdded:
			return notice{kind: NotifyMemberAdded, detail: c.Role, user: c.UserID}, true
		case MemberRoleChanged:
			return notice{kind: NotifyMemberRoleChanged, detail: c.Role, user: c.UserID}, true
		}
	case EventProjectChanged:
		var c ProjectChanged
		_ = json.Unmarshal(e.Payload, &c)
		if c.Change == "completed" {
			return notice{kind: NotifyProjectCompleted, roles: everyMember}, true
		}
	}
	return notice{}, false
}

// recipients are the users told: the one named, or the members in the notice's roles. A person
// is never told what they did themselves; what a service did for them (a delegated token, e.g.
// the agents submitting a gate) they were not there to see, and are told.
func (n notice) recipients(e store.Event, inPerson bool, members []store.Member) []string {
	var to []string
	if n.user != "" {
		to = append(to, n.user)
	}
	for _, m := range members {
		if slices.Contains(n.roles, m.Role) {
			to = append(to, m.UserID)
		}
	}
	if inPerson {
		to = slices.DeleteFunc(to, func(userID string) bool { return userID == e.ActorID })
	}
	return to
}

// message is the notice in words for people, one line.
func (n notice) message(p store.Project) string {
	switch n.kind {
	case NotifyGateReadyForReview:
		return fmt.Sprintf(`%s of "%s" is ready for your review`, gateTitle(p.Type, n.gate), p.Name)
	case NotifyGateBlocked:
		reason := input.Clean(strings.Join(strings.Fields(n.detail), " "), blockReasonMaxLen)
		return fmt.Sprintf(`%s of "%s" is blocked: %s`, gateTitle(p.Type, n.gate), p.Name, reason)
	case NotifyMemberAdded:
		return fmt.Sprintf(`You were added to "%s" as %s`, p.Name, n.detail)
	case NotifyMemberRoleChanged:
		return fmt.Sprintf(`Your role in "%s" is now %s`, p.Name, n.detail)
	case NotifyMemberRemoved:
		return fmt.Sprintf(`You were removed from "%s"`, p.Name)
	case NotifyProjectCompleted:
		return fmt.Sprintf(`"%s" is complete: G%d was approved`, p.Name, workflow.Count)
	}
	return ""
}

// notifications addresses the notice of event e of project p: a pure function of the event,
// whether its actor acted in person, the project and (for notices to roles) its members.
func (n notice) notifications(e store.Event, inPerson bool, p store.Project, members []store.Member) []store.Notification {
	var out []store.Notification
	for _, userID := range n.recipients(e, inPerson, members) {
		out = append(out, store.Notification{UserID: userID, ProjectID: p.ID, ProjectName: p.Name, Kind: n.kind,
			Message: n.message(p), Gate: n.gate, EventID: e.ID, CreatedAt: e.CreatedAt})
	}
	return out
}

// gateTitle is "G3 Architecture", or "G3" for a gate the workflow does not name.
func gateTitle(projectType string, number int) string {
	if def, ok := workflow.GateOf(projectType, number); ok {
		return fmt.Sprintf("G%d %s", number, def.Name)
	}
	return fmt.Sprintf("G%d", number)
}

// notify stores the notifications of a change's events, in the change's transaction so that
// none is lost or made for a change that did not commit, and returns them with their ids. The
// project is read only if an event tells someone, its members only if a notice goes to roles.
func notify(ctx context.Context, q store.Queries, who authn.Identity, events []store.Event) ([]store.Notification, error) {
	var (
		out     []store.Notification
		p       *store.ProjectWithRole
		members []store.Member
		loaded  bool // members of p
	)
	for _, e := range events {
		n, ok := noticeOf(e)
		if !ok {
			continue
		}
		if p == nil || p.ID != e.ProjectID {
			// The caller is a member: the change checked their role in this transaction, and
			// its queries kept the row (changeQueries), unless the change wrote it since.
			got, err := q.ProjectForMember(ctx, e.ProjectID, who.UserID)
			if err != nil {
				return nil, err
			}
			p, members, loaded = &got, nil, false
		}
		if n.roles != nil && !loaded {
			var err error
			if members, err = q.Members(ctx, e.ProjectID); err != nil {
				return nil, err
			}
			loaded = true
		}
		out = append(out, n.notifications(e, !who.Delegated(), p.Project, members)...)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return q.AddNotifications(ctx, out)
}

// Notification page sizes.
const (
	defaultNotificationPage = 50
	maxNotificationPage     = 200
)

// NotificationQuery is what ListNotifications lists.
type NotificationQuery struct {
	// AfterID, when set, lists the notifications after it, oldest first.
	AfterID int64
	// OldestFirst lists oldest first from the first (implied by AfterID); otherwise the newest
	// come first, a page at a time.
	OldestFirst bool
	UnreadOnly  bool
	PageSize    int
	// PageToken is the NextPageToken of the previous page of the newest-first list.
	PageToken string
}

// NotificationPage is a page of a user's notifications, with how many of all theirs are unread.
type NotificationPage struct {
	Notifications []store.Notification
	// NextPageToken is empty on the last page, and oldest first: a client catching up asks for
	// the notifications after the last id it got.
	NextPageToken string
	Unread        int
}

// ListNotifications lists the caller's own notifications: oldest first after an id, so a client
// that reconnects misses none, or newest first a page at a time. The page token is opaque to
// clients.
func (s *Service) ListNotifications(ctx context.Context, who authn.Identity, query NotificationQuery) (NotificationPage, error) {
	var v apperr.Violations
	if query.AfterID < 0 {
		v.Add("afterId", "must be 0 or a notification id")
	}
	pageSize := paging.Size(&v, query.PageSize, defaultNotificationPage, maxNotificationPage)
	f := store.NotificationFilter{OldestFirst: query.OldestFirst || query.AfterID != 0, After: query.AfterID, UnreadOnly: query.UnreadOnly, Limit: pageSize}
	if !f.OldestFirst {
		f.Limit++ // the extra row tells whether another page follows
	}
	if query.PageToken != "" {
		before, ok := paging.ParsePositionToken(query.PageToken)
		switch {
		case !ok:
			v.Add("pageToken", "is not a token this API returned")
		case f.OldestFirst:
			v.Add("pageToken", "pages the newest-first list: oldest first, resume with afterId")
		}
		f.Before = before
	}
	if err := v.Err(); err != nil {
		return NotificationPage{}, err
	}
	ns, err := s.Store.Notifications(ctx, who.UserID, f)
	if err != nil {
		return NotificationPage{}, err
	}
	var page NotificationPage
	if !f.OldestFirst {
		ns, page.NextPageToken = paging.Cut(ns, pageSize, func(last store.Notification) string { return paging.PositionToken(last.ID) })
	}
	page.Notifications = ns
	page.Unread, err = s.Store.UnreadNotifications(ctx, who.UserID)
	return page, err
}

// MarkNotificationsRead marks the caller's notifications up to an id (0: all of them) read and
// returns how many of theirs remain unread.
func (s *Service) MarkNotificationsRead(ctx context.Context, who authn.Identity, upToID int64) (int, error) {
	if upToID < 0 {
		return 0, apperr.InvalidField("upToId", "must be 0 (all) or a notification id")
	}
	if err := s.Store.MarkNotificationsRead(ctx, who.UserID, upToID, s.now()); err != nil {
		return 0, err
	}
	return s.Store.UnreadNotifications(ctx, who.UserID)
}
