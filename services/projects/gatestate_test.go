package projects

import (
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

// TestStateMachine covers every transition from every state: the legal ones reach the expected
// state, every other one is FailedPrecondition naming the current state.
func TestStateMachine(t *testing.T) {
	states := []string{GatePending, GateInProgress, GateInReview, GateApproved, GateChangesRequested, GateBlocked}
	legal := map[[2]string]string{
		{GatePending, transStart}:           GateInProgress,
		{GateChangesRequested, transStart}:  GateInProgress,
		{GateInProgress, transSubmit}:       GateInReview,
		{GateInReview, transApprove}:        GateApproved,
		{GateInReview, transRequestChanges}: GateChangesRequested,
		{GatePending, transBlock}:           GateBlocked,
		{GateInProgress, transBlock}:        GateBlocked,
		{GateInReview, transBlock}:          GateBlocked,
		{GateChangesRequested, transBlock}:  GateBlocked,
		{GateBlocked, transUnblock}:         GateInReview, // back to where it was blocked
	}
	for _, from := range states {
		for _, tr := range []string{transStart, transSubmit, transApprove, transRequestChanges, transBlock, transUnblock} {
			got, err := nextState(3, from, tr, GateInReview)
			want, ok := legal[[2]string{from, tr}]
			switch {
			case ok && (err != nil || got != want):
				t.Errorf("%s from %s: got %q, %v; want %q", tr, from, got, err, want)
			case !ok && !apperr.IsKind(err, apperr.KindFailedPrecondition):
				t.Errorf("%s from %s: want FailedPrecondition, got %q, %v", tr, from, got, err)
			case !ok:
				if e, _ := apperr.As(err); e.Message != "cannot "+tr+" gate G3: it is "+upper(from) {
					t.Errorf("%s from %s: message %q", tr, from, e.Message)
				}
			}
		}
	}
}

func TestFindCycle(t *testing.T) {
	cases := []struct {
		tasks []NewTask
		cycle bool
	}{
		{[]NewTask{{Key: "a"}, {Key: "b", DependsOn: []string{"a"}}, {Key: "c", DependsOn: []string{"a", "b"}}}, false},
		{[]NewTask{{Key: "a", DependsOn: []string{"existing-task-id"}}}, false},
		{[]NewTask{{Key: "a", DependsOn: []string{"a"}}}, true},
		{[]NewTask{{Key: "a", DependsOn: []string{"c"}}, {Key: "b", DependsOn: []string{"a"}}, {Key: "c", DependsOn: []string{"b"}}}, true},
	}
	for i, c := range cases {
		got := findCycle(c.tasks)
		if (got != nil) != c.cycle {
			t.Errorf("case %d: cycle %v", i, got)
		}
		if got != nil && got[0] != got[len(got)-1] {
			t.Errorf("case %d: cycle path %v does not close", i, got)
		}
	}
}
