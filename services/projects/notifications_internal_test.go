package projects

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
)

// TestNoticeRules is the table of who is told about which event. Events nobody is told about
// cost a change no query at all.
func TestNoticeRules(t *testing.T) {
	event := func(typ string, payload any) store.Event {
		b, _ := json.Marshal(payload)
		return store.Event{ID: 7, ProjectID: "p", ActorID: "u-owner", Type: typ, Payload: b}
	}
	members := []store.Member{{UserID: "u-owner", Role: store.RoleOwner}, {UserID: "u-ed", Role: store.RoleEditor}, {UserID: "u-vi", Role: store.RoleViewer}}
	project := store.Project{ID: "p", Name: "Shop", Type: "ai_ml"}
	for _, tc := range []struct {
		name    string
		e       store.Event
		kind    string
		message string
		// told in person (the owner acting), and when a service acted for the owner.
		told, toldDelegated []string
	}{
		{"submitted", event(EventGateChanged, GateChanged{Gate: 3, From: GateInProgress, To: GateInReview}),
			NotifyGateReadyForReview, `G3 Architecture of "Shop" is ready for your review`, nil, []string{"u-owner"}},
		{"blocked", event(EventGateChanged, GateChanged{Gate: 12, From: GateInProgress, To: GateBlocked, Reason: "no\naccess"}),
			NotifyGateBlocked, `G12 of "Shop" is blocked: no access`, []string{"u-ed"}, []string{"u-owner", "u-ed"}},
		{"added", event(EventMemberChanged, MemberChanged{UserID: "u-vi", Role: store.RoleViewer, Change: MemberAdded}),
			NotifyMemberAdded, `You were added to "Shop" as viewer`, []string{"u-vi"}, []string{"u-vi"}},
		{"role changed", event(EventMemberChanged, MemberChanged{UserID: "u-ed", Role: store.RoleViewer, Change: MemberRoleChanged}),
			NotifyMemberRoleChanged, `Your role in "Shop" is now viewer`, []string{"u-ed"}, []string{"u-ed"}},
		{"removed", event(EventMemberChanged, MemberChanged{UserID: "u-ed", Change: MemberRemoved}),
			NotifyMemberRemoved, `You were removed from "Shop"`, []string{"u-ed"}, []string{"u-ed"}},
		{"completed", event(EventProjectChanged, ProjectChanged{Change: "completed", Status: store.StatusCompleted}),
			NotifyProjectCompleted, `"Shop" is complete: G9 was approved`, []string{"u-ed", "u-vi"}, []string{"u-owner", "u-ed", "u-vi"}},
		{"started", event(EventGateChanged, GateChanged{Gate: 1, From: GatePending, To: GateInProgress}), "", "", nil, nil},
		{"approved", event(EventGateChanged, GateChanged{Gate: 1, From: GateInReview, To: GateApproved}), "", "", nil, nil},
		{"changes requested", event(EventGateChanged, GateChanged{Gate: 1, From: GateInReview, To: GateChangesRequested}), "", "", nil, nil},
		{"next gate", event(EventGateChanged, GateChanged{Gate: 2, To: GatePending}), "", "", nil, nil},
		{"renamed", event(EventProjectChanged, ProjectChanged{Change: "updated", Status: store.StatusActive}), "", "", nil, nil},
		{"archived", event(EventProjectChanged, ProjectChanged{Change: "archived", Status: store.StatusArchived}), "", "", nil, nil},
		{"deliverable", event(EventDeliverableRecorded, DeliverableRecorded{Gate: 1}), "", "", nil, nil},
		{"proof", event(EventProofRecorded, ProofRecorded{Gate: 1}), "", "", nil, nil},
		{"tasks", event(EventTasksChanged, TasksChanged{Change: "created"}), "", "", nil, nil},
	} {
		n, ok := noticeOf(tc.e)
		if ok != (tc.kind != "") || n.kind != tc.kind {
			t.Errorf("%s: notice %+v (%v), want kind %q", tc.name, n, ok, tc.kind)
			continue
		}
		if !ok {
			continue
		}
		for inPerson, want := range map[bool][]string{true: tc.told, false: tc.toldDelegated} {
			var got []string
			for _, x := range n.notifications(tc.e, inPerson, project, members) {
				got = append(got, x.UserID)
				if x.Kind != tc.kind || x.Message != tc.message || x.EventID != 7 || x.ProjectName != "Shop" {
					t.Errorf("%s: %+v, want %s %q", tc.name, x, tc.kind, tc.message)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s (in person %v): told %v, want %v", tc.name, inPerson, got, want)
			}
		}
	}
}
