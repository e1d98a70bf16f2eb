package projects

import (
	"fmt"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

// Gate states.
const (
	GatePending          = "pending"
	GateInProgress       = "in_progress"
	GateInReview         = "in_review"
	GateApproved         = "approved"
	GateChangesRequested = "changes_requested"
	GateBlocked          = "blocked"
)

// Gate transitions: each is one explicit RPC.
const (
	transStart          = "start"
	transSubmit         = "submit"
	transApprove        = "approve"
	transRequestChanges = "request changes on"
	transBlock          = "block"
	transUnblock        = "unblock"
)

// legalFrom lists, per transition, the states it may leave and the state it reaches; unblock
// returns to the state the gate was blocked in.
var legalFrom = map[string]struct {
	from []string
	to   string
}{
	transStart:          {[]string{GatePending, GateChangesRequested}, GateInProgress},
	transSubmit:         {[]string{GateInProgress}, GateInReview},
	transApprove:        {[]string{GateInReview}, GateApproved},
	transRequestChanges: {[]string{GateInReview}, GateChangesRequested},
	transBlock:          {[]string{GatePending, GateInProgress, GateInReview, GateChangesRequested}, GateBlocked},
	transUnblock:        {[]string{GateBlocked}, ""},
}

// ReasonIllegalTransition marks a transition refused because of the gate's current state.
const ReasonIllegalTransition = "GATE_STATE_PRECONDITION"

// nextState returns the state a gate in from reaches by the transition, or FailedPrecondition
// naming the current state. blockedFrom is where a blocked gate returns on unblock.
func nextState(gate int, from, transition, blockedFrom string) (string, error) {
	rule, ok := legalFrom[transition]
	if !ok {
		return "", fmt.Errorf("unknown gate transition %q", transition)
	}
	for _, s := range rule.from {
		if s == from {
			if transition == transUnblock {
				return blockedFrom, nil
			}
			return rule.to, nil
		}
	}
	return "", apperr.FailedPrecondition("cannot %s gate G%d: it is %s", transition, gate, upper(from)).
		WithReason(ReasonIllegalTransition)
}
