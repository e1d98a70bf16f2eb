package e2e

import (
	"net/url"
	"testing"
)

// wantEveryTaskDone checks the end of a journey: the tasks the intake proposed followed the
// work, so once the project is complete each is done (marked by the run of its owner at its
// gate), none is left ready, and each still names its gate, owner and key.
func (s *server) wantEveryTaskDone(t *testing.T, tok, pid string) {
	t.Helper()
	type task struct {
		Key, Title, Status, OwnerRole string
		Gate                          int
	}
	var all []task
	for token := ""; ; {
		var page struct {
			Tasks         []task
			NextPageToken string
		}
		s.do("GET", "/api/v1/projects/"+pid+"/tasks?pageToken="+url.QueryEscape(token), tok, nil).want(t, 200, "").data(t, &page)
		all = append(all, page.Tasks...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if len(all) < 9 {
		t.Fatalf("%d tasks, want at least one per gate: %+v", len(all), all)
	}
	for _, x := range all {
		if x.Status != "TASK_STATUS_DONE" || x.Key == "" || x.Gate < 1 || x.OwnerRole == "" || x.OwnerRole == "AGENT_ROLE_UNSPECIFIED" {
			t.Errorf("task after the project completed: %+v", x)
		}
	}
	var ready struct{ Tasks []task }
	s.do("GET", "/api/v1/projects/"+pid+"/tasks?readyOnly=true", tok, nil).want(t, 200, "").data(t, &ready)
	if len(ready.Tasks) != 0 {
		t.Errorf("tasks still ready after the project completed: %+v", ready.Tasks)
	}
}
