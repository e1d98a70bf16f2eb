package projects_test

import (
	"context"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/services/projects"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

// publicEvents are the project's events oldest first, in their public form (the Event message
// ListEvents answers with and the bus carries).
func publicEvents(t *testing.T, svc *projects.Service, projectID string) []*pb.Event {
	t.Helper()
	page, err := svc.ListEvents(context.Background(), owner, projectID, projects.EventQuery{PageSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*pb.Event, len(page.Events))
	for i, e := range page.Events {
		b, err := projects.PublicEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = &pb.Event{}
		if err := protojson.Unmarshal(b, out[i]); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
	}
	return out
}

// TestMemberEventsSayWhatChanged: the timeline tells an addition, a role change and a removal
// apart; events stored before the change was recorded say nothing of it.
func TestMemberEventsSayWhatChanged(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		p := teamProject(t, svc, "Members") // adds ed (editor) and vi (viewer)
		mustDo(t, func() error { _, err := svc.UpdateMember(ctx, owner, p.ID, ed.UserID, store.RoleViewer); return err })
		mustDo(t, func() error { _, err := svc.UpdateMember(ctx, owner, p.ID, ed.UserID, store.RoleViewer); return err }) // no change: no event
		mustDo(t, func() error { return svc.RemoveMember(ctx, owner, p.ID, vi.UserID) })
		// An event of before (its payload as stored then: an addition said "added").
		if _, err := svc.Store.AppendEvents(ctx, []store.Event{{ProjectID: p.ID, ActorID: owner.UserID, Type: projects.EventMemberChanged,
			Payload: []byte(`{"userId":"u-old","role":"editor","added":true}`)}}); err != nil {
			t.Fatal(err)
		}

		type change struct {
			user   string
			role   pb.Role
			change pb.MemberChange
		}
		var got []change
		for _, e := range publicEvents(t, svc, p.ID) {
			if m := e.GetMemberChanged(); m != nil {
				got = append(got, change{m.GetUserId(), m.GetRole(), m.GetChange()})
			}
		}
		want := []change{
			{ed.UserID, pb.Role_ROLE_EDITOR, pb.MemberChange_MEMBER_CHANGE_ADDED},
			{vi.UserID, pb.Role_ROLE_VIEWER, pb.MemberChange_MEMBER_CHANGE_ADDED},
			{ed.UserID, pb.Role_ROLE_VIEWER, pb.MemberChange_MEMBER_CHANGE_ROLE_CHANGED},
			{vi.UserID, pb.Role_ROLE_UNSPECIFIED, pb.MemberChange_MEMBER_CHANGE_REMOVED},
			{"u-old", pb.Role_ROLE_EDITOR, pb.MemberChange_MEMBER_CHANGE_UNSPECIFIED},
		}
		if !slices.Equal(got, want) {
			t.Errorf("member events:\n got %+v\nwant %+v", got, want)
		}
	})
}

// TestEventsSayWhoActed: every event names the user, and the service when one acted for them
// with a delegated token; the bus carries the same.
func TestEventsSayWhoActed(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		p := teamProject(t, svc, "Actors")
		mustDo(t, func() error { _, err := svc.StartGate(ctx, agents, p.ID, 1); return err })
		deliver(t, svc, p.ID, 1, workflow.DocIntake, "d-intake", 1, "intake") // the documents service, for the owner
		mustDo(t, func() error { _, err := svc.BlockGate(ctx, ed, p.ID, 1, "waiting"); return err })

		type actor struct{ what, user, service string }
		var got []actor
		for _, e := range publicEvents(t, svc, p.ID) {
			what := "project"
			switch {
			case e.GetMemberChanged() != nil:
				what = "member"
			case e.GetGateChanged() != nil:
				what = "gate " + e.GetGateChanged().GetTo().String()
			case e.GetDeliverableRecorded() != nil:
				what = "deliverable"
			}
			got = append(got, actor{what, e.GetActorId(), e.GetActorService()})
		}
		want := []actor{
			{"project", owner.UserID, ""},
			{"member", owner.UserID, ""},
			{"member", owner.UserID, ""},
			{"gate GATE_STATE_IN_PROGRESS", owner.UserID, "agents"},
			{"deliverable", owner.UserID, "documents"},
			{"gate GATE_STATE_BLOCKED", ed.UserID, ""},
		}
		if !slices.Equal(got, want) {
			t.Errorf("events:\n got %+v\nwant %+v", got, want)
		}
	})
}

// TestListEventsNewestFirst: the timeline read back from its end, a page at a time, is the
// timeline reversed; the last page says so with no token; events recorded meanwhile shift no
// page; bad input is refused naming the field.
func TestListEventsNewestFirst(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		h := &projects.Handler{Service: svc}
		ctx := context.Background()
		p := teamProject(t, svc, "Pages") // 3 events; 6 more make 9, three pages of 3
		record := func(n int) {
			t.Helper()
			for range n {
				if _, err := svc.Store.AppendEvents(ctx, []store.Event{{ProjectID: p.ID, ActorID: owner.UserID,
					Type: projects.EventProjectChanged, Payload: []byte(`{"change":"updated","status":"active"}`)}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		record(6)
		list := func(q projects.EventQuery) projects.EventPage {
			t.Helper()
			page, err := svc.ListEvents(ctx, owner, p.ID, q)
			if err != nil {
				t.Fatalf("ListEvents(%+v): %v", q, err)
			}
			return page
		}
		idsOf := func(events []store.Event) []int64 {
			ids := make([]int64, len(events))
			for i, e := range events {
				ids[i] = e.ID
			}
			return ids
		}
		oldest := list(projects.EventQuery{})
		if len(oldest.Events) != 9 || oldest.NextPageToken != "" {
			t.Fatalf("oldest first: %d events, token %q; want 9 and none", len(oldest.Events), oldest.NextPageToken)
		}
		want := idsOf(oldest.Events)
		slices.Reverse(want)

		// Three full pages: the third, ending with the first event, has no token.
		var got []int64
		var tokens []string
		for token := ""; len(tokens) == 0 || token != ""; {
			if len(tokens) > 4 {
				t.Fatal("no last page")
			}
			page := list(projects.EventQuery{NewestFirst: true, PageSize: 3, PageToken: token})
			got, token = append(got, idsOf(page.Events)...), page.NextPageToken
			tokens = append(tokens, token)
			if len(tokens) == 1 {
				record(2) // new events: the next pages are the same
			}
		}
		if !slices.Equal(got, want) || len(tokens) != 3 {
			t.Errorf("newest first in pages of 3: %v in %d pages, want %v in 3", got, len(tokens), want)
		}
		// A page larger than what is left: the rest, no token. The default size takes it all.
		if page := list(projects.EventQuery{NewestFirst: true, PageSize: 50, PageToken: tokens[0]}); !slices.Equal(idsOf(page.Events), want[3:]) ||
			page.NextPageToken != "" {
			t.Errorf("after the first page, in one: %v (token %q), want %v", idsOf(page.Events), page.NextPageToken, want[3:])
		}
		if page := list(projects.EventQuery{NewestFirst: true}); len(page.Events) != 11 || page.Events[0].ID <= want[0] || page.NextPageToken != "" {
			t.Errorf("newest first, default size: %v (token %q), want the 11 events from the two new ones", idsOf(page.Events), page.NextPageToken)
		}

		// The RPC says the same, in the public form.
		in := authn.NewContext(ctx, owner)
		first, err := h.ListEvents(in, &pb.ListEventsRequest{ProjectId: p.ID, NewestFirst: true, PageSize: 10})
		if err != nil || len(first.GetEvents()) != 10 || first.GetNextPageToken() == "" {
			t.Fatalf("ListEvents(newest first, 10): %d events, token %q, %v", len(first.GetEvents()), first.GetNextPageToken(), err)
		}
		last, err := h.ListEvents(in, &pb.ListEventsRequest{ProjectId: p.ID, NewestFirst: true, PageSize: 10, PageToken: first.GetNextPageToken()})
		if err != nil || len(last.GetEvents()) != 1 || last.GetEvents()[0].GetId() != oldest.Events[0].ID || last.GetNextPageToken() != "" {
			t.Fatalf("ListEvents(the page after): %+v, %v; want the first event and no token", last, err)
		}
		if old, err := h.ListEvents(in, &pb.ListEventsRequest{ProjectId: p.ID, PageSize: 3}); err != nil || old.GetNextPageToken() != "" ||
			old.GetEvents()[0].GetId() != oldest.Events[0].ID {
			t.Fatalf("ListEvents(oldest first): %+v, %v; want the first events and no token", old, err)
		}

		// Only members read it, either way.
		if _, err := svc.ListEvents(ctx, authn.Identity{UserID: "stranger"}, p.ID, projects.EventQuery{NewestFirst: true}); !apperr.IsKind(err, apperr.KindNotFound) {
			t.Errorf("a stranger reads the timeline: %v", err)
		}
		// Bad input is refused naming the field.
		for _, tc := range []struct {
			name  string
			query projects.EventQuery
			field string
		}{
			{"negative after", projects.EventQuery{After: -1}, "after"},
			{"after, newest first", projects.EventQuery{After: want[4], NewestFirst: true}, "after"},
			{"page too large", projects.EventQuery{NewestFirst: true, PageSize: 201}, "pageSize"},
			{"garbage token", projects.EventQuery{NewestFirst: true, PageToken: "not a token!"}, "pageToken"},
			{"token oldest first", projects.EventQuery{PageToken: tokens[0]}, "pageToken"},
			{"token with after", projects.EventQuery{After: want[4], PageToken: tokens[0]}, "pageToken"},
		} {
			_, err := svc.ListEvents(ctx, owner, p.ID, tc.query)
			wantInvalid(t, tc.name, err, tc.field)
		}
	})
}
