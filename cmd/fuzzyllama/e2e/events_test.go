package e2e

import (
	"net/url"
	"slices"
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

// timelineNewestFirst reads a project's whole timeline newest first, pageSize events a page,
// following each page's token back to the first event.
func (s *server) timelineNewestFirst(t *testing.T, tok, pid, pageSize string) []eventView {
	t.Helper()
	var all []eventView
	for token, pages := "", 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the newest-first pages never end")
		}
		var page struct {
			Events        []eventView
			NextPageToken string
		}
		s.do("GET", "/api/v1/projects/"+pid+"/events?newestFirst=true&pageSize="+pageSize+"&pageToken="+url.QueryEscape(token), tok, nil).
			want(t, 200, "").data(t, &page)
		all = append(all, page.Events...)
		if token = page.NextPageToken; token == "" {
			return all
		}
	}
}

// wantTimelineBothWays checks that the timeline read newest first is the timeline read oldest
// first, reversed.
func (s *server) wantTimelineBothWays(t *testing.T, tok, pid string) {
	t.Helper()
	ids := func(events []eventView) []string {
		out := make([]string, len(events))
		for i, e := range events {
			out[i] = e.ID
		}
		return out
	}
	oldest := ids(s.timeline(t, tok, pid))
	slices.Reverse(oldest)
	for _, size := range []string{"7", "200"} {
		if newest := ids(s.timelineNewestFirst(t, tok, pid, size)); !slices.Equal(newest, oldest) {
			t.Fatalf("newest first in pages of %s: %d events %v, want the %d of the timeline reversed %v", size, len(newest), newest, len(oldest), oldest)
		}
	}
}
