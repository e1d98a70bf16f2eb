package e2e

import (
	"testing"
)

// eventView is a timeline event as the API writes it.
type eventView struct {
	ID           string `json:"id"`
	ActorID      string `json:"actorId"`
	ActorService string `json:"actorService"`
	GateChanged  *struct {
		Gate int    `json:"gate"`
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"gateChanged"`
	DeliverableRecorded *struct {
		Gate int `json:"gate"`
	} `json:"deliverableRecorded"`
	ProofRecorded *struct {
		Type string `json:"type"`
	} `json:"proofRecorded"`
	MemberChanged *struct {
		UserID string `json:"userId"`
		Role   string `json:"role"`
		Change string `json:"change"`
	} `json:"memberChanged"`
}

// timeline reads a project's whole timeline, oldest first, resuming after the last event of
// each page.
func (s *server) timeline(t *testing.T, tok, pid string) []eventView {
	t.Helper()
	var all []eventView
	for after := "0"; ; {
		var page struct{ Events []eventView }
		s.do("GET", "/api/v1/projects/"+pid+"/events?pageSize=200&after="+after, tok, nil).want(t, 200, "").data(t, &page)
		all = append(all, page.Events...)
		if len(page.Events) == 0 {
			return all
		}
		after = page.Events[len(page.Events)-1].ID
	}
}
