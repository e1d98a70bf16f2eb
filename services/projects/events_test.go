package projects_test

import (
	"context"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/services/projects"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

// publicEvents are the project's events oldest first, in their public form (the Event message
// ListEvents answers with and the bus carries).
func publicEvents(t *testing.T, svc *projects.Service, projectID string) []*pb.Event {
	t.Helper()
	events, err := svc.ListEvents(context.Background(), owner, projectID, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*pb.Event, len(events))
	for i, e := range events {
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
