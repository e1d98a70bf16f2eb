package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type project struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Status      string `json:"status"`
	CurrentGate int    `json:"currentGate"`
	Role        string `json:"role"`
	OwnerID     string `json:"ownerId"`
}

type gateView struct {
	Number       int    `json:"number"`
	Name         string `json:"name"`
	State        string `json:"state"`
	Deliverables []struct {
		DocumentType string `json:"documentType"`
		Required     bool   `json:"required"`
		Complete     bool   `json:"complete"`
		Version      int    `json:"version"`
		ContentHash  string `json:"contentHash"`
	} `json:"deliverables"`
	Reviews []struct {
		Decision             string `json:"decision"`
		ReviewerID           string `json:"reviewerId"`
		Notes                string `json:"notes"`
		ReviewedDeliverables []struct {
			DocumentType string `json:"documentType"`
			DocumentID   string `json:"documentId"`
			Version      int    `json:"version"`
			ContentHash  string `json:"contentHash"`
			Required     bool   `json:"required"`
		} `json:"reviewedDeliverables"`
	} `json:"reviews"`
}

type workflowView struct {
	Gates []workflowGateView `json:"gates"`
}

type workflowGateView struct {
	Number       int      `json:"number"`
	Deliverables []string `json:"deliverables"`
	Proofs       []string `json:"proofs"`
	Roles        []string `json:"roles"`
}

func (s *server) createProject(t *testing.T, token, name, typ string) project {
	t.Helper()
	var out struct{ Project project }
	s.do("POST", "/api/v1/projects", token, map[string]string{"name": name, "description": "A todo app", "type": typ}).
		want(t, http.StatusCreated, "").data(t, &out)
	return out.Project
}

// saveDeliverable saves the document of type docType for gate n (a new version when it exists),
// which the documents service records as the gate's deliverable.
func (s *server) saveDeliverable(t *testing.T, token, pid string, n int, docType string) {
	t.Helper()
	title := fmt.Sprintf("G%d %s", n, docType)
	content := fmt.Sprintf("# %s\n\nSaved at %s.\n", title, time.Now().Format(time.RFC3339Nano))
	var list struct{ Documents []documentView }
	s.do("GET", fmt.Sprintf("/api/v1/projects/%s/documents?gate=%d&type=%s", pid, n, docType), token, nil).want(t, 200, "").data(t, &list)
	for _, d := range list.Documents {
		if d.Title == title {
			var updated struct{ Deliverable deliverableRecord }
			s.do("PATCH", "/api/v1/projects/"+pid+"/documents/"+d.ID, token, map[string]any{"baseVersion": d.Version, "content": content}).
				want(t, 200, "").data(t, &updated)
			if !updated.Deliverable.Recorded {
				t.Fatalf("%s saved again, not recorded: %+v", title, updated.Deliverable)
			}
			return
		}
	}
	if _, rec := s.createDocument(t, token, pid, map[string]any{"gate": n, "type": docType, "title": title, "content": content}); rec == nil || !rec.Recorded {
		t.Fatalf("%s saved, not recorded: %+v", title, rec)
	}
}

// completeGate saves a document of every type the workflow requires for gate n (recorded as its
// deliverables), records its proofs, and takes the gate through start and submit to review.
func (s *server) completeGate(t *testing.T, token, pid string, wf workflowView, n int) {
	t.Helper()
	base := fmt.Sprintf("/api/v1/projects/%s/gates/%d", pid, n)
	s.do("POST", base+":start", token, map[string]string{}).want(t, 200, "")
	for _, d := range wf.Gates[n-1].Deliverables {
		s.saveDeliverable(t, token, pid, n, d)
	}
	for _, p := range wf.Gates[n-1].Proofs {
		s.do("POST", base+"/proofs", token, map[string]any{"type": p, "result": "PROOF_RESULT_PASS", "summary": "checked by hand"}).
			want(t, http.StatusCreated, "")
	}
	s.do("POST", base+":submit", token, map[string]string{}).want(t, 200, "")
}

// TestProjectGatesByHand walks one project through its first gates the way a user does without
// agents: record deliverables and proofs, submit, approve. G3's spec validation cannot be
// attested by hand: only the agents service produces it (TestAgentsJourney goes on from there).
func TestProjectGatesByHand(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), nil)
		owner := s.register(t, "owner@example.com", goodPassword, "Owner")
		tok := owner.AccessToken
		p := s.createProject(t, tok, "Todo app", "PROJECT_TYPE_AI_ML")
		if p.CurrentGate != 1 || p.Status != "PROJECT_STATUS_ACTIVE" || p.Role != "ROLE_OWNER" || p.Type != "PROJECT_TYPE_AI_ML" {
			t.Fatalf("created: %+v", p)
		}
		var wf workflowView
		s.do("GET", "/api/v1/workflows/PROJECT_TYPE_AI_ML", tok, nil).want(t, 200, "").data(t, &wf)
		if len(wf.Gates) != 9 || !strings.Contains(strings.Join(wf.Gates[4].Roles, ","), "AGENT_ROLE_ML_ENGINEER") {
			t.Fatalf("workflow: %+v", wf)
		}

		// A gate goes to review only with what its approval needs, and the refusal names it.
		base := "/api/v1/projects/" + p.ID
		s.do("POST", base+"/gates/1:start", tok, map[string]string{}).want(t, 200, "")
		r := s.do("POST", base+"/gates/1:submit", tok, map[string]string{}).want(t, 400, "FAILED_PRECONDITION")
		if got := r.fields(); len(got["deliverables.intake"]) == 0 {
			t.Fatalf("missing deliverable not named: %s", r.raw)
		}
		s.saveDeliverable(t, tok, p.ID, 1, "DOCUMENT_TYPE_INTAKE")
		s.do("POST", base+"/gates/1:submit", tok, map[string]string{}).want(t, 200, "")
		s.do("POST", base+"/gates/1:request-changes", tok, map[string]string{"notes": "write the intake"}).want(t, 200, "")
		// The new revision needs its own intake: the one reviewed does not count any more.
		var st struct {
			MissingDeliverables []string `json:"missingDeliverables"`
			NextStep            struct {
				Kind string `json:"kind"`
			} `json:"nextStep"`
		}
		s.do("GET", base+"/status", tok, nil).want(t, 200, "").data(t, &st)
		if len(st.MissingDeliverables) != 1 || st.NextStep.Kind != "NEXT_ACTION_KIND_START_GATE" {
			t.Fatalf("status after the request for changes: %+v", st)
		}
		wantVersion := map[int]int{1: 2, 2: 1} // G1's intake was saved again after the request for changes
		for n := 1; n <= 2; n++ {
			s.completeGate(t, tok, p.ID, wf, n)
			var approved struct {
				Gate     gateView
				NextGate *gateView
				Project  project
			}
			s.do("POST", fmt.Sprintf("%s/gates/%d:approve", base, n), tok, map[string]string{"notes": fmt.Sprintf("G%d looks right", n)}).
				want(t, 200, "").data(t, &approved)
			if approved.Gate.State != "GATE_STATE_APPROVED" {
				t.Fatalf("G%d: %+v", n, approved.Gate)
			}
			last := approved.Gate.Reviews[len(approved.Gate.Reviews)-1]
			if last.Decision != "GATE_STATE_APPROVED" || last.ReviewerID != owner.User.ID || len(last.ReviewedDeliverables) != len(wf.Gates[n-1].Deliverables) ||
				last.ReviewedDeliverables[0].Version != wantVersion[n] || last.ReviewedDeliverables[0].ContentHash == "" || !last.ReviewedDeliverables[0].Required {
				t.Fatalf("G%d review record: %+v", n, last)
			}
			if n < 9 && (approved.NextGate == nil || approved.NextGate.Number != n+1 || approved.Project.CurrentGate != n+1) {
				t.Fatalf("G%d: next gate %+v, project %+v", n, approved.NextGate, approved.Project)
			}
			// What was approved cannot change.
			s.do("POST", fmt.Sprintf("%s/gates/%d/proofs", base, n), tok, map[string]any{"type": "PROOF_TYPE_LINT", "result": "PROOF_RESULT_FAIL", "summary": "late"}).
				want(t, 400, "FAILED_PRECONDITION")
		}
		// G3's spec validation is FuzzyLlama's own check, never a person's word.
		s.do("POST", base+"/gates/3:start", tok, map[string]string{}).want(t, 200, "")
		r = s.do("POST", base+"/gates/3/proofs", tok, map[string]any{"type": "PROOF_TYPE_SPEC_VALIDATION", "result": "PROOF_RESULT_PASS", "summary": "looks valid"}).
			want(t, 400, "INVALID_ARGUMENT")
		if got := r.fields(); !strings.Contains(strings.Join(got["type"], " "), "cannot be attested") {
			t.Fatalf("spec validation attested by hand: %s", r.raw)
		}
		// G1's history keeps both decisions, the request for changes first.
		var g1 struct{ Gate gateView }
		s.do("GET", base+"/gates/1", tok, nil).want(t, 200, "").data(t, &g1)
		if len(g1.Gate.Reviews) != 2 || g1.Gate.Reviews[0].Decision != "GATE_STATE_CHANGES_REQUESTED" || g1.Gate.Reviews[0].Notes != "write the intake" {
			t.Fatalf("G1 reviews: %+v", g1.Gate.Reviews)
		}
		// The timeline has it all, in order, and can be resumed from any event.
		var events struct {
			Events []struct {
				ID          string         `json:"id"`
				GateChanged map[string]any `json:"gateChanged"`
			} `json:"events"`
		}
		s.do("GET", base+"/events?pageSize=200", tok, nil).want(t, 200, "").data(t, &events)
		gateChanges := 0
		for _, e := range events.Events {
			if e.GateChanged != nil {
				gateChanges++
			}
		}
		// Per gate: started, submitted, approved, and the next gate opened; plus G1's first
		// round (started, submitted, changes requested) and G3 started.
		if want := 2*4 + 3 + 1; gateChanges != want {
			t.Fatalf("%d gate changes in the timeline, want %d", gateChanges, want)
		}
		mid := events.Events[len(events.Events)/2].ID
		var rest struct{ Events []struct{ ID string } }
		s.do("GET", base+"/events?after="+mid, tok, nil).want(t, 200, "").data(t, &rest)
		if len(rest.Events) != len(events.Events)-len(events.Events)/2-1 {
			t.Fatalf("resume after %s: %d events of %d", mid, len(rest.Events), len(events.Events))
		}
	})
}

// TestConcurrentApprovalsOneWins: parallel approvals of the same gate: exactly one succeeds.
func TestConcurrentApprovalsOneWins(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"RATE_LIMIT_PER_USER_PER_MINUTE": "1000", "RATE_LIMIT_PER_IP_PER_MINUTE": "1000"})
		tok := s.register(t, "racer@example.com", goodPassword, "Racer").AccessToken
		p := s.createProject(t, tok, "Race", "PROJECT_TYPE_TRADITIONAL")
		var wf workflowView
		s.do("GET", "/api/v1/workflows/PROJECT_TYPE_TRADITIONAL", tok, nil).want(t, 200, "").data(t, &wf)
		s.completeGate(t, tok, p.ID, wf, 1)
		const n = 8
		type outcome struct {
			status int
			code   string
		}
		codes := make([]outcome, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.do("POST", "/api/v1/projects/"+p.ID+"/gates/1:approve", tok, map[string]string{})
				codes[i].status = r.status
				if r.env.Error != nil {
					codes[i].code = r.env.Error.Code
				}
			}()
		}
		wg.Wait()
		ok := 0
		for i, c := range codes {
			switch {
			case c.status == 200:
				ok++
			case c.status == 400 && c.code == "FAILED_PRECONDITION", c.status == 409 && c.code == "ABORTED":
				// lost the race: already approved, or changed concurrently
			default:
				t.Errorf("approval %d: unexpected %d %s", i, c.status, c.code)
			}
		}
		if ok != 1 {
			t.Fatalf("%d approvals succeeded (%v), want exactly 1", ok, codes)
		}
		var gates struct{ Gates []gateView }
		s.do("GET", "/api/v1/projects/"+p.ID+"/gates", tok, nil).want(t, 200, "").data(t, &gates)
		if len(gates.Gates) != 2 {
			t.Fatalf("want G1 and one G2 after the race: %+v", gates.Gates)
		}
		var g1 struct{ Gate gateView }
		s.do("GET", "/api/v1/projects/"+p.ID+"/gates/1", tok, nil).want(t, 200, "").data(t, &g1)
		if len(g1.Gate.Reviews) != 1 {
			t.Fatalf("want one approval record, got %+v", g1.Gate.Reviews)
		}
	})
}

// TestBadProjectInputIsA4xx: malformed input never reaches the database and never gets a 5xx.
func TestBadProjectInputIsA4xx(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"RATE_LIMIT_PER_USER_PER_MINUTE": "10000"})
		owner := s.register(t, "picky@example.com", goodPassword, "Picky")
		tok := owner.AccessToken
		p := s.createProject(t, tok, "Input", "PROJECT_TYPE_TRADITIONAL")
		base := "/api/v1/projects/" + p.ID
		cases := []struct {
			name, method, path string
			body               any
			status             int
			field              string
		}{
			{"NUL in a name", "POST", "/api/v1/projects", `{"name":"a\u0000b","type":"PROJECT_TYPE_TRADITIONAL"}`, 400, "name"},
			{"no type", "POST", "/api/v1/projects", `{"name":"x"}`, 400, "type"},
			{"unknown type number", "POST", "/api/v1/projects", `{"name":"x","type":99}`, 400, "type"},
			{"ftp repository", "POST", "/api/v1/projects", `{"name":"x","type":"PROJECT_TYPE_TRADITIONAL","repositoryUrl":"ftp://x"}`, 400, "repositoryUrl"},
			{"NUL in a project id", "GET", "/api/v1/projects/a%00b", nil, 404, ""},
			{"invalid UTF-8 in the path", "GET", "/api/v1/projects/%ff", nil, 400, ""},
			{"invalid UTF-8 in a query", "GET", "/api/v1/projects?pageToken=%ff", nil, 400, ""},
			{"bad page token", "GET", "/api/v1/projects?pageToken=bm90LWEtdG9rZW4", nil, 400, "pageToken"},
			{"page too large", "GET", "/api/v1/projects?pageSize=1000", nil, 400, "pageSize"},
			{"gate 0", "GET", base + "/gates/0", nil, 400, "gate"},
			{"gate 99", "POST", base + "/gates/99:start", `{}`, 400, "gate"},
			{"gate not reached", "POST", base + "/gates/3:start", `{}`, 400, ""},
			{"unknown priority number", "POST", base + "/tasks:batchCreate", `{"tasks":[{"key":"a","gate":1,"title":"t","priority":99}]}`, 400, "tasks[0].priority"},
			{"task cycle", "POST", base + "/tasks:batchCreate", `{"tasks":[{"key":"a","gate":1,"title":"t","dependsOn":["a"]}]}`, 400, "tasks"},
			{"NUL in a dependency", "POST", base + "/tasks:batchCreate", `{"tasks":[{"key":"a","gate":1,"title":"t","dependsOn":["x\u0000"]}]}`, 400, "tasks[0].dependsOn[0]"},
			{"no tasks", "POST", base + "/tasks:batchCreate", `{"tasks":[]}`, 400, "tasks"},
			{"unknown task", "PATCH", base + "/tasks/no-such-task", `{"status":"TASK_STATUS_DONE"}`, 404, ""},
			{"line break in a project name", "POST", "/api/v1/projects", `{"name":"Todo\nContent-Type: forged","type":"PROJECT_TYPE_TRADITIONAL"}`, 400, "name"},
			{"line break in a new name", "PATCH", base, `{"name":"a\nb"}`, 400, "name"},
			{"line break in a task title", "POST", base + "/tasks:batchCreate", `{"tasks":[{"key":"a","gate":1,"title":"t\nu"}]}`, 400, "tasks[0].title"},
			{"NUL in a proof summary", "POST", base + "/gates/1/proofs", `{"type":"PROOF_TYPE_LINT","result":"PROOF_RESULT_PASS","summary":"a\u0000"}`, 400, "summary"},
			{"events after -1", "GET", base + "/events?after=-1", nil, 400, "after"},
			{"events page too large", "GET", base + "/events?pageSize=5000", nil, 400, "pageSize"},
			{"events after, newest first", "GET", base + "/events?newestFirst=true&after=3", nil, 400, "after"},
			{"bad events page token", "GET", base + "/events?newestFirst=true&pageToken=bm90LWEtdG9rZW4", nil, 400, "pageToken"},
			{"events page token oldest first", "GET", base + "/events?pageToken=Mw", nil, 400, "pageToken"},
			{"bad tasks page token", "GET", base + "/tasks?pageToken=bm90LWEtdG9rZW4", nil, 400, "pageToken"},
			{"tasks page token of position 0", "GET", base + "/tasks?pageToken=MA", nil, 400, "pageToken"},
			{"tasks page too large", "GET", base + "/tasks?pageSize=501", nil, 400, "pageSize"},
			{"owner as a role", "POST", base + "/members", `{"email":"x@example.com","role":"ROLE_OWNER"}`, 400, "role"},
			{"malformed member email", "POST", base + "/members", `{"email":"not-an-email","role":"ROLE_VIEWER"}`, 400, "email"},
			{"member without an account", "POST", base + "/members", `{"email":"nobody@example.com","role":"ROLE_VIEWER"}`, 400, "email"},
		}
		for _, c := range cases {
			r := s.do(c.method, c.path, tok, c.body)
			if r.status != c.status {
				t.Errorf("%s: %d, want %d: %s", c.name, r.status, c.status, r.raw)
				continue
			}
			if c.field != "" && len(r.fields()[c.field]) == 0 {
				t.Errorf("%s: field %s not named: %s", c.name, c.field, r.raw)
			}
		}
		// Nothing of the refused requests was stored.
		var list struct{ Projects []project }
		s.do("GET", "/api/v1/projects", tok, nil).want(t, 200, "").data(t, &list)
		var tasks struct{ Tasks []any }
		s.do("GET", base+"/tasks", tok, nil).want(t, 200, "").data(t, &tasks)
		if len(list.Projects) != 1 || len(tasks.Tasks) != 0 {
			t.Fatalf("refused requests stored something: %d projects, %d tasks", len(list.Projects), len(tasks.Tasks))
		}
	})
}

// TestArchivedProjectsStillManageAccess: archiving freezes the content, not who may see it.
func TestArchivedProjectsStillManageAccess(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), nil)
		owner := s.register(t, "keeper@example.com", goodPassword, "Keeper").AccessToken
		viewer := s.register(t, "reader@example.com", goodPassword, "Reader")
		p := s.createProject(t, owner, "Archive me", "PROJECT_TYPE_TRADITIONAL")
		s.do("POST", "/api/v1/projects/"+p.ID+"/members", owner, map[string]string{"email": "reader@example.com", "role": "ROLE_VIEWER"}).want(t, http.StatusCreated, "")
		s.do("POST", "/api/v1/projects/"+p.ID+":archive", owner, map[string]string{}).want(t, 200, "")
		s.do("PATCH", "/api/v1/projects/"+p.ID, owner, map[string]string{"name": "x"}).want(t, 400, "FAILED_PRECONDITION")
		s.do("GET", "/api/v1/projects/"+p.ID, viewer.AccessToken, nil).want(t, 200, "")
		s.do("DELETE", "/api/v1/projects/"+p.ID+"/members/"+viewer.User.ID, owner, nil).want(t, 200, "")
		s.do("GET", "/api/v1/projects/"+p.ID, viewer.AccessToken, nil).want(t, 404, "NOT_FOUND")
		// The timeline says what happened to the membership.
		var events struct {
			Events []struct {
				MemberChanged *struct {
					UserID string `json:"userId"`
					Role   string `json:"role"`
					Change string `json:"change"`
				} `json:"memberChanged"`
			} `json:"events"`
		}
		s.do("GET", "/api/v1/projects/"+p.ID+"/events", owner, nil).want(t, 200, "").data(t, &events)
		var changes []string
		for _, e := range events.Events {
			if m := e.MemberChanged; m != nil && m.UserID == viewer.User.ID {
				changes = append(changes, m.Change+" "+m.Role)
			}
		}
		if want := []string{"MEMBER_CHANGE_ADDED ROLE_VIEWER", "MEMBER_CHANGE_REMOVED ROLE_UNSPECIFIED"}; !slices.Equal(changes, want) {
			t.Fatalf("member events: %v, want %v", changes, want)
		}
	})
}
