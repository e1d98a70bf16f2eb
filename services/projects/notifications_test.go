package projects_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/services/projects"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

var (
	owner = authn.Identity{UserID: "u-owner"}
	ed    = authn.Identity{UserID: "u-ed"}
	vi    = authn.Identity{UserID: "u-vi"}
	// agents is background work for the owner: the agents service holding a delegated token.
	agents = authn.Identity{UserID: "u-owner", Actor: "agents"}
)

// allNotifications lists every notification of the user, newest first.
func allNotifications(t *testing.T, svc *projects.Service, who authn.Identity) projects.NotificationPage {
	t.Helper()
	page, err := svc.ListNotifications(context.Background(), who, projects.NotificationQuery{PageSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// wantNews fails the test unless the user was told exactly want ("kind: message"), oldest first.
func wantNews(t *testing.T, svc *projects.Service, who authn.Identity, want ...string) {
	t.Helper()
	var got []string
	for _, n := range slices.Backward(allNotifications(t, svc, who).Notifications) {
		got = append(got, n.Kind+": "+n.Message)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s was told:\n  %s\nwant:\n  %s", who.UserID, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestNotificationsJourney follows a project from its first member to its completion: each
// user is told what asks for their attention, and never what they did themselves in person.
func TestNotificationsJourney(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		p := teamProject(t, svc, "Shop")
		wantNews(t, svc, owner)
		wantNews(t, svc, ed, `member_added: You were added to "Shop" as editor`)
		wantNews(t, svc, vi, `member_added: You were added to "Shop" as viewer`)

		// The editor submits G1: the owner is asked to review it, nobody else.
		mustDo(t, func() error { _, err := svc.StartGate(ctx, ed, p.ID, 1); return err })
		mustDo(t, func() error {
			// The documents service records the intake the editor saved.
			_, err := svc.RecordDeliverable(ctx, authn.Identity{UserID: ed.UserID, Actor: projects.DocumentsService},
				store.Deliverable{ProjectID: p.ID, Gate: 1, DocumentType: workflow.DocIntake, DocumentID: "d", Version: 1,
					ContentHash: contentHash("intake"), Complete: true})
			return err
		})
		mustDo(t, func() error { _, err := svc.SubmitGate(ctx, ed, p.ID, 1); return err })
		readyG1 := `gate_ready_for_review: G1 Scope of "Shop" is ready for your review`
		wantNews(t, svc, owner, readyG1)
		wantNews(t, svc, ed, `member_added: You were added to "Shop" as editor`)
		// It points at its gate and at the event it was made from.
		n := allNotifications(t, svc, owner).Notifications[0]
		page, err := svc.ListEvents(ctx, owner, p.ID, projects.EventQuery{})
		if err != nil {
			t.Fatal(err)
		}
		events := page.Events
		if i := slices.IndexFunc(events, func(e store.Event) bool { return e.ID == n.EventID }); n.Gate != 1 || i < 0 ||
			events[i].Type != projects.EventGateChanged || !n.CreatedAt.Equal(events[i].CreatedAt) {
			t.Errorf("notification %+v, made from no gate change of G1 in %+v", n, events)
		}
		mustDo(t, func() error { _, err := svc.ApproveGate(ctx, owner, p.ID, 1, ""); return err })

		// The agents, working for the owner, block G2: the owner was not there to see it, so
		// they are told, and so is the editor, in one line however long the reason.
		mustDo(t, func() error { _, err := svc.StartGate(ctx, agents, p.ID, 2); return err })
		reason := "Waiting for the\nlegal team:\t" + strings.Repeat("é", 300)
		mustDo(t, func() error { _, err := svc.BlockGate(ctx, agents, p.ID, 2, reason); return err })
		blockedG2 := `gate_blocked: G2 PRD of "Shop" is blocked: ` + string([]rune("Waiting for the legal team: " + strings.Repeat("é", 300))[:199]) + "…"
		mustDo(t, func() error { _, err := svc.UnblockGate(ctx, owner, p.ID, 2); return err })
		recordDeliverables(t, svc, p.ID, 2)
		mustDo(t, func() error { _, err := svc.SubmitGate(ctx, agents, p.ID, 2); return err })
		readyG2 := `gate_ready_for_review: G2 PRD of "Shop" is ready for your review`
		// The editor blocks it in person: the owner is told, the editor not.
		mustDo(t, func() error { _, err := svc.BlockGate(ctx, ed, p.ID, 2, "Missing user stories"); return err })
		blockedByEd := `gate_blocked: G2 PRD of "Shop" is blocked: Missing user stories`
		wantNews(t, svc, owner, readyG1, blockedG2, readyG2, blockedByEd)
		wantNews(t, svc, ed, `member_added: You were added to "Shop" as editor`, blockedG2)
		wantNews(t, svc, vi, `member_added: You were added to "Shop" as viewer`) // viewers review nothing, unblock nothing

		// Membership changes reach the member concerned; a removed member still has theirs.
		mustDo(t, func() error { _, err := svc.UpdateMember(ctx, owner, p.ID, ed.UserID, store.RoleViewer); return err })
		mustDo(t, func() error { return svc.RemoveMember(ctx, owner, p.ID, vi.UserID) })
		wantNews(t, svc, vi, `member_added: You were added to "Shop" as viewer`, `member_removed: You were removed from "Shop"`)
		if _, err := svc.GetProject(ctx, vi, p.ID); !apperr.IsKind(err, apperr.KindNotFound) {
			t.Fatalf("removed member reads the project: %v", err)
		}

		// The owner takes the project to completion: every member is told, but the owner.
		mustDo(t, func() error { _, err := svc.UnblockGate(ctx, owner, p.ID, 2); return err })
		mustDo(t, func() error {
			_, err := svc.RequestGateChanges(ctx, owner, p.ID, 2, "Write the user stories")
			return err
		})
		for gate := 2; gate <= workflow.Count; gate++ {
			completeGate(t, svc, p.ID, gate)
		}
		wantNews(t, svc, owner, readyG1, blockedG2, readyG2, blockedByEd)
		wantNews(t, svc, ed, `member_added: You were added to "Shop" as editor`, blockedG2,
			`member_role_changed: Your role in "Shop" is now viewer`, `project_completed: "Shop" is complete: G9 was approved`)
		wantNews(t, svc, vi, `member_added: You were added to "Shop" as viewer`, `member_removed: You were removed from "Shop"`)
	})
}

// completeGate takes a gate from pending or changes requested to approved, as the owner, with
// the agents recording the proofs.
func completeGate(t *testing.T, svc *projects.Service, projectID string, gate int) {
	t.Helper()
	ctx := context.Background()
	def, _ := workflow.GateOf(workflow.Traditional, gate)
	mustDo(t, func() error { _, err := svc.StartGate(ctx, owner, projectID, gate); return err })
	recordDeliverables(t, svc, projectID, gate)
	for _, proof := range def.Proofs {
		mustDo(t, func() error {
			_, err := svc.RecordProof(ctx, agents, store.Proof{ProjectID: projectID, Gate: gate, Type: proof, Result: projects.ProofPass, Summary: "ok"})
			return err
		})
	}
	mustDo(t, func() error { _, err := svc.SubmitGate(ctx, owner, projectID, gate); return err })
	mustDo(t, func() error { _, err := svc.ApproveGate(ctx, owner, projectID, gate, ""); return err })
}

// recordDeliverables records a document of each type the gate requires, as the documents
// service does when they are saved (for the owner).
func recordDeliverables(t *testing.T, svc *projects.Service, projectID string, gate int) {
	t.Helper()
	def, _ := workflow.GateOf(workflow.Traditional, gate)
	for _, doc := range def.Deliverables {
		mustDo(t, func() error {
			_, err := svc.RecordDeliverable(context.Background(), documentsSvc, store.Deliverable{ProjectID: projectID, Gate: gate, DocumentType: doc,
				DocumentID: "d-" + doc, Version: 1, ContentHash: contentHash(doc), Complete: true})
			return err
		})
	}
}

// failingNotifications is a store whose transactions cannot store notifications.
type failingNotifications struct{ store.Store }

var errNotStored = errors.New("notifications not stored")

func (s failingNotifications) InTx(ctx context.Context, fn func(q store.Queries) error) error {
	return s.Store.InTx(ctx, func(q store.Queries) error { return fn(failingNotificationQueries{q}) })
}

type failingNotificationQueries struct{ store.Queries }

func (failingNotificationQueries) AddNotifications(context.Context, []store.Notification) ([]store.Notification, error) {
	return nil, errNotStored
}

// TestNotificationsArePublishedAfterCommit: a notification is stored with the change it comes
// from or not at all, and published on its user's topic once stored, as ListNotifications
// returns it.
func TestNotificationsArePublishedAfterCommit(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, bus := open(t)
		ctx := context.Background()
		p, err := svc.CreateProject(ctx, owner, "Live", "", "traditional", "")
		if err != nil {
			t.Fatal(err)
		}
		edTopic, err := bus.Subscribe(ctx, eventbus.UserTopic(ed.UserID))
		if err != nil {
			t.Fatal(err)
		}
		defer edTopic.Close()
		ownerTopic, err := bus.Subscribe(ctx, eventbus.UserTopic(owner.UserID))
		if err != nil {
			t.Fatal(err)
		}
		defer ownerTopic.Close()
		quiet := func(what string) {
			t.Helper()
			select {
			case msg := <-edTopic.C:
				t.Fatalf("%s: published to ed %s", what, msg)
			case msg := <-ownerTopic.C:
				t.Fatalf("%s: published to the owner %s", what, msg)
			case <-time.After(100 * time.Millisecond):
			}
		}

		// If the notification cannot be stored, the change does not happen either.
		working := svc.Store
		svc.Store = failingNotifications{working}
		if _, err := svc.AddMember(ctx, owner, p.ID, "ed@example.com", store.RoleEditor); !errors.Is(err, errNotStored) {
			t.Fatalf("AddMember without notifications: %v", err)
		}
		svc.Store = working
		if members, err := svc.ListMembers(ctx, owner, p.ID); err != nil || len(members) != 1 {
			t.Fatalf("members after the failed change: %d, %v; want the owner only", len(members), err)
		}
		if page, err := svc.ListEvents(ctx, owner, p.ID, projects.EventQuery{}); err != nil || len(page.Events) != 1 {
			t.Fatalf("events after the failed change: %d, %v; want the creation only", len(page.Events), err)
		}
		quiet("failed change")

		mustDo(t, func() error {
			_, err := svc.AddMember(ctx, owner, p.ID, "ed@example.com", store.RoleEditor)
			return err
		})
		select {
		case msg := <-edTopic.C:
			var got pb.Notification
			if err := protojson.Unmarshal(msg, &got); err != nil {
				t.Fatalf("%v: %s", err, msg)
			}
			stored := allNotifications(t, svc, ed).Notifications
			if len(stored) != 1 || got.GetId() != stored[0].ID || got.GetKind() != pb.NotificationKind_NOTIFICATION_KIND_MEMBER_ADDED ||
				got.GetUserId() != ed.UserID || got.GetProjectId() != p.ID || got.GetProjectName() != "Live" || got.GetRead() {
				t.Fatalf("published %s, stored %+v", msg, stored)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("nothing published")
		}

		// Refused changes, among them a stale transition, tell nobody.
		if _, err := svc.AddMember(ctx, owner, p.ID, "ed@example.com", store.RoleViewer); !apperr.IsKind(err, apperr.KindAlreadyExists) {
			t.Fatalf("adding a member twice: %v", err)
		}
		if _, err := svc.SubmitGate(ctx, ed, p.ID, 1); !apperr.IsKind(err, apperr.KindFailedPrecondition) {
			t.Fatalf("submitting a pending gate: %v", err)
		}
		quiet("refused changes")
		if got := allNotifications(t, svc, owner); len(got.Notifications) != 0 || got.Unread != 0 {
			t.Fatalf("owner notified of refused changes: %+v", got)
		}
		if got := allNotifications(t, svc, ed); len(got.Notifications) != 1 {
			t.Fatalf("ed has %d notifications, want 1", len(got.Notifications))
		}
	})
}

// TestListNotificationsPagesAndMarksRead: newest first a page at a time, after an id oldest
// first, unread only; marking read up to an id; nobody reads or marks another's.
func TestListNotificationsPagesAndMarksRead(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		p, err := svc.CreateProject(ctx, owner, "Pages", "", "traditional", "")
		if err != nil {
			t.Fatal(err)
		}
		mustDo(t, func() error {
			_, err := svc.AddMember(ctx, owner, p.ID, "ed@example.com", store.RoleEditor)
			return err
		})
		for range 5 { // each block tells the owner
			mustDo(t, func() error { _, err := svc.BlockGate(ctx, ed, p.ID, 1, "stuck"); return err })
			mustDo(t, func() error { _, err := svc.UnblockGate(ctx, owner, p.ID, 1); return err })
		}
		all := allNotifications(t, svc, owner)
		if len(all.Notifications) != 5 || all.Unread != 5 || all.NextPageToken != "" {
			t.Fatalf("owner: %+v, want 5 unread on one page", all)
		}
		var ids []int64 // oldest first
		for _, n := range slices.Backward(all.Notifications) {
			ids = append(ids, n.ID)
		}
		if !slices.IsSorted(ids) {
			t.Fatalf("ids %v, newest first, are not decreasing", ids)
		}
		idsOf := func(ns []store.Notification) []int64 {
			out := make([]int64, len(ns))
			for i, n := range ns {
				out[i] = n.ID
			}
			return out
		}
		list := func(who authn.Identity, q projects.NotificationQuery) projects.NotificationPage {
			t.Helper()
			page, err := svc.ListNotifications(ctx, who, q)
			if err != nil {
				t.Fatalf("ListNotifications(%+v): %v", q, err)
			}
			return page
		}

		// Newest first, in pages of 2.
		var paged []int64
		var pages int
		for token := ""; pages == 0 || token != ""; pages++ {
			if pages > 5 {
				t.Fatal("no last page")
			}
			page := list(owner, projects.NotificationQuery{PageSize: 2, PageToken: token})
			paged, token = append(paged, idsOf(page.Notifications)...), page.NextPageToken
		}
		if want := []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}; !slices.Equal(paged, want) || pages != 3 {
			t.Errorf("pages of 2: %v in %d pages, want %v in 3", paged, pages, want)
		}
		// Oldest first, after an id: where a client that reconnects resumes; no token.
		if page := list(owner, projects.NotificationQuery{AfterID: ids[1], PageSize: 2}); !slices.Equal(idsOf(page.Notifications), ids[2:4]) || page.NextPageToken != "" {
			t.Errorf("after %d: %v (token %q), want %v", ids[1], idsOf(page.Notifications), page.NextPageToken, ids[2:4])
		}
		if page := list(owner, projects.NotificationQuery{AfterID: ids[1], OldestFirst: true}); !slices.Equal(idsOf(page.Notifications), ids[2:]) {
			t.Errorf("after %d, oldest first: %v, want %v", ids[1], idsOf(page.Notifications), ids[2:])
		}
		if page := list(owner, projects.NotificationQuery{OldestFirst: true, PageSize: 3}); !slices.Equal(idsOf(page.Notifications), ids[:3]) || page.NextPageToken != "" {
			t.Errorf("oldest first from the first: %v (token %q), want %v", idsOf(page.Notifications), page.NextPageToken, ids[:3])
		}
		if page := list(owner, projects.NotificationQuery{AfterID: ids[4]}); len(page.Notifications) != 0 {
			t.Errorf("after the last: %v", idsOf(page.Notifications))
		}

		// Nobody reads or marks another's: ed has only his own, and marking all of his up to
		// the owner's newest id leaves the owner's unread.
		if page := list(ed, projects.NotificationQuery{}); len(page.Notifications) != 1 || page.Notifications[0].UserID != ed.UserID || page.Unread != 1 {
			t.Fatalf("ed's notifications: %+v", page)
		}
		if page := list(ed, projects.NotificationQuery{AfterID: ids[0] - 1}); len(page.Notifications) != 0 {
			t.Errorf("ed lists after an id: %+v, want none of the owner's", page.Notifications)
		}
		if unread, err := svc.MarkNotificationsRead(ctx, ed, ids[4]); err != nil || unread != 0 {
			t.Fatalf("ed marks read: %d, %v", unread, err)
		}
		if page := list(owner, projects.NotificationQuery{UnreadOnly: true}); page.Unread != 5 || len(page.Notifications) != 5 {
			t.Fatalf("owner after ed marked his: %d unread, %d listed", page.Unread, len(page.Notifications))
		}

		// Up to an id, then all.
		if unread, err := svc.MarkNotificationsRead(ctx, owner, ids[1]); err != nil || unread != 3 {
			t.Fatalf("mark up to the second: %d unread, %v; want 3", unread, err)
		}
		page := list(owner, projects.NotificationQuery{UnreadOnly: true, PageSize: 2})
		if want := []int64{ids[4], ids[3]}; !slices.Equal(idsOf(page.Notifications), want) || page.Unread != 3 || page.NextPageToken == "" {
			t.Errorf("unread only: %v (%d unread, token %q), want %v", idsOf(page.Notifications), page.Unread, page.NextPageToken, want)
		}
		if next := list(owner, projects.NotificationQuery{UnreadOnly: true, PageSize: 2, PageToken: page.NextPageToken}); !slices.Equal(idsOf(next.Notifications), ids[2:3]) || next.NextPageToken != "" {
			t.Errorf("unread only, page 2: %v (token %q), want %v", idsOf(next.Notifications), next.NextPageToken, ids[2:3])
		}
		if page := list(owner, projects.NotificationQuery{AfterID: ids[0], UnreadOnly: true}); !slices.Equal(idsOf(page.Notifications), ids[2:]) {
			t.Errorf("unread only after %d: %v, want %v", ids[0], idsOf(page.Notifications), ids[2:])
		}
		for _, n := range list(owner, projects.NotificationQuery{}).Notifications {
			if read := !n.ReadAt.IsZero(); read != (n.ID <= ids[1]) {
				t.Errorf("notification %d read %v after marking up to %d", n.ID, read, ids[1])
			}
		}
		if unread, err := svc.MarkNotificationsRead(ctx, owner, 0); err != nil || unread != 0 {
			t.Fatalf("mark all: %d unread, %v", unread, err)
		}
		if page := list(owner, projects.NotificationQuery{UnreadOnly: true}); len(page.Notifications) != 0 || page.Unread != 0 {
			t.Errorf("unread after marking all: %+v", page)
		}

		// Bad input is refused naming the field.
		if _, err := svc.CreateProject(ctx, owner, "Other", "", "traditional", ""); err != nil {
			t.Fatal(err)
		}
		_, token, err := svc.ListProjects(ctx, owner, 1, "")
		if err != nil || token == "" {
			t.Fatalf("ListProjects: token %q, err %v", token, err)
		}
		for _, tc := range []struct {
			name  string
			query projects.NotificationQuery
			field string
		}{
			{"negative afterId", projects.NotificationQuery{AfterID: -1}, "afterId"},
			{"page too large", projects.NotificationQuery{PageSize: 201}, "pageSize"},
			{"negative page size", projects.NotificationQuery{PageSize: -1}, "pageSize"},
			{"garbage token", projects.NotificationQuery{PageToken: "not a token!"}, "pageToken"},
			{"a ListProjects token", projects.NotificationQuery{PageToken: token}, "pageToken"},
			{"token with afterId", projects.NotificationQuery{AfterID: ids[0], PageToken: page.NextPageToken}, "pageToken"},
			{"token oldest first", projects.NotificationQuery{OldestFirst: true, PageToken: page.NextPageToken}, "pageToken"},
		} {
			_, err := svc.ListNotifications(ctx, owner, tc.query)
			wantInvalid(t, tc.name, err, tc.field)
		}
		_, err = svc.MarkNotificationsRead(ctx, owner, -1)
		wantInvalid(t, "negative upToId", err, "upToId")
		if _, err := svc.ListNotifications(ctx, owner, projects.NotificationQuery{PageSize: 200}); err != nil {
			t.Errorf("page of 200: %v", err)
		}
	})
}

// wantInvalid fails the test unless err is INVALID_ARGUMENT naming field, and field only.
func wantInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != field {
		t.Errorf("%s: %v, want invalid %s", what, err, field)
	}
}

// TestNotificationHandlers: the RPCs answer the caller's own notifications, in the public form.
func TestNotificationHandlers(t *testing.T) {
	svc, _ := newService(t, stores["sqlite"])
	h := &projects.Handler{Service: svc}
	ctx := context.Background()
	p, err := svc.CreateProject(ctx, owner, "Shop", "", "traditional", "")
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, func() error {
		_, err := svc.AddMember(ctx, owner, p.ID, "ed@example.com", store.RoleEditor)
		return err
	})
	mustDo(t, func() error { _, err := svc.BlockGate(ctx, ed, p.ID, 1, "stuck"); return err })
	asEd, asOwner := authn.NewContext(ctx, ed), authn.NewContext(ctx, owner)

	resp, err := h.ListNotifications(asOwner, &pb.ListNotificationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetNotifications()) != 1 || resp.GetUnreadCount() != 1 {
		t.Fatalf("owner: %v", resp)
	}
	n := resp.GetNotifications()[0]
	if n.GetKind() != pb.NotificationKind_NOTIFICATION_KIND_GATE_BLOCKED || n.GetGate() != 1 || n.GetUserId() != owner.UserID ||
		n.GetProjectId() != p.ID || n.GetProjectName() != "Shop" || n.GetMessage() != `G1 Scope of "Shop" is blocked: stuck` ||
		n.GetEventId() == 0 || n.GetCreateTime() == nil || n.GetRead() {
		t.Errorf("owner's notification: %v", n)
	}
	mark, err := h.MarkNotificationsRead(asOwner, &pb.MarkNotificationsReadRequest{UpToId: n.GetId()})
	if err != nil || mark.GetUnreadCount() != 0 {
		t.Fatalf("mark read: %v, %v", mark, err)
	}
	resp, err = h.ListNotifications(asOwner, &pb.ListNotificationsRequest{})
	if err != nil || !resp.GetNotifications()[0].GetRead() || resp.GetUnreadCount() != 0 {
		t.Fatalf("after marking read: %v, %v", resp, err)
	}
	// As the live replay asks: oldest first from the first.
	resp, err = h.ListNotifications(asOwner, &pb.ListNotificationsRequest{OldestFirst: true, PageSize: 200})
	if err != nil || len(resp.GetNotifications()) != 1 || resp.GetNotifications()[0].GetId() != n.GetId() {
		t.Fatalf("oldest first: %v, %v", resp, err)
	}
	resp, err = h.ListNotifications(asEd, &pb.ListNotificationsRequest{UnreadOnly: true})
	if err != nil || len(resp.GetNotifications()) != 1 || resp.GetNotifications()[0].GetKind() != pb.NotificationKind_NOTIFICATION_KIND_MEMBER_ADDED {
		t.Fatalf("ed: %v, %v", resp, err)
	}
	_, err = h.MarkNotificationsRead(asEd, &pb.MarkNotificationsReadRequest{UpToId: -1})
	wantInvalid(t, "negative upToId", err, "upToId")
}
