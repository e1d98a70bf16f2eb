package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

type runView struct {
	ID       string `json:"id"`
	Gate     int    `json:"gate"`
	Role     string `json:"role"`
	Revision int    `json:"revision"`
	State    string `json:"state"`
	Model    string `json:"model"`
	Attempt  int    `json:"attempt"`
	Error    string `json:"error"`
	Output   string `json:"output"`
	Feedback string `json:"feedback"`
	UserID   string `json:"userId"`
	Usage    struct {
		InputTokens  string `json:"inputTokens"`
		OutputTokens string `json:"outputTokens"`
		CostUsd      string `json:"costUsd"`
	} `json:"usage"`
	Documents []struct {
		DocumentID   string `json:"documentId"`
		DocumentType string `json:"documentType"`
		Title        string `json:"title"`
		Version      int    `json:"version"`
	} `json:"documents"`
	Handoff *struct {
		Deliverables []string `json:"deliverables"`
		NextRoles    []string `json:"nextRoles"`
		TasksCreated int      `json:"tasksCreated"`
	} `json:"handoff"`
}

type proofView struct {
	Type       string `json:"type"`
	Result     string `json:"result"`
	Summary    string `json:"summary"`
	ProducedBy string `json:"producedBy"`
	Attested   bool   `json:"attested"`
}

type agentGateView struct {
	Number        int         `json:"number"`
	State         string      `json:"state"`
	BlockedReason string      `json:"blockedReason"`
	Revision      int         `json:"revision"`
	Proofs        []proofView `json:"proofs"`
}

// waitGate polls gate n until it is in state want, failing on BLOCKED or after a minute.
func (s *server) waitGate(t *testing.T, token, pid string, n int, want string) agentGateView {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var out struct{ Gate agentGateView }
		s.do("GET", fmt.Sprintf("/api/v1/projects/%s/gates/%d", pid, n), token, nil).want(t, 200, "").data(t, &out)
		if out.Gate.State == want {
			return out.Gate
		}
		if out.Gate.State == "GATE_STATE_BLOCKED" && want != "GATE_STATE_BLOCKED" {
			t.Fatalf("G%d blocked: %s", n, out.Gate.BlockedReason)
		}
		if time.Now().After(deadline) {
			var runs struct{ Runs []runView }
			s.do("GET", fmt.Sprintf("/api/v1/projects/%s/runs?gate=%d", pid, n), token, nil).data(t, &runs)
			t.Fatalf("G%d is %s after a minute, want %s; runs: %+v", n, out.Gate.State, want, runs.Runs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitRuns waits until gate n has n succeeded runs, and checks the gate waits in progress.
func (s *server) waitRuns(t *testing.T, token, pid string, gate, want int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var runs struct{ Runs []runView }
		s.do("GET", fmt.Sprintf("/api/v1/projects/%s/runs?gate=%d", pid, gate), token, nil).want(t, 200, "").data(t, &runs)
		done := 0
		for _, r := range runs.Runs {
			if r.State == "RUN_STATE_SUCCEEDED" {
				done++
			}
		}
		if done == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("G%d runs after a minute: %+v", gate, runs.Runs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.waitGate(t, token, pid, gate, "GATE_STATE_IN_PROGRESS")
}

// TestAgentsJourney is the whole product with the offline provider: a project is started from
// its description, the agents carry every gate to review, the owner requests changes once (new
// versions of the same documents, not new documents), records the evidence nothing here can
// produce, approves through G9, and the project is complete.
func TestAgentsJourney(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"AGENT_SWEEP_INTERVAL": "1s", "AGENT_QUEUE_POLL_INTERVAL": "20ms",
			"RATE_LIMIT_PER_USER_PER_MINUTE": "100000"})
		owner := s.register(t, "owner@example.com", goodPassword, "Owner")
		tok := owner.AccessToken
		p := s.createProject(t, tok, "Recipe box", "PROJECT_TYPE_TRADITIONAL")
		base := "/api/v1/projects/" + p.ID

		var started struct{ Run runView }
		s.do("POST", base+":startWork", tok, map[string]string{
			"description": "A web app that lets home cooks save recipes, plan weekly meals and share shopping lists with their family.",
		}).want(t, 200, "").data(t, &started)
		if started.Run.Gate != 1 || started.Run.Role != "AGENT_ROLE_PRODUCT_MANAGER" || started.Run.Model != "offline" {
			t.Fatalf("start: %+v", started.Run)
		}
		// Starting again returns the same intake run.
		var again struct{ Run runView }
		s.do("POST", base+":startWork", tok, map[string]string{}).want(t, 200, "").data(t, &again)
		if again.Run.ID != started.Run.ID {
			t.Fatalf("second start made run %s, want %s", again.Run.ID, started.Run.ID)
		}

		var wf workflowView
		s.do("GET", "/api/v1/workflows/PROJECT_TYPE_TRADITIONAL", tok, nil).want(t, 200, "").data(t, &wf)
		for n := 1; n <= 9; n++ {
			// Proofs nothing here produces are the owner's attestations; the gate waits for them
			// in progress, then goes to review.
			for i, proof := range wf.Gates[n-1].Proofs {
				if proof != "PROOF_TYPE_SPEC_VALIDATION" {
					if i == 0 {
						s.waitRuns(t, tok, p.ID, n, len(wf.Gates[n-1].Roles))
					}
					s.do("POST", fmt.Sprintf("%s/gates/%d/proofs", base, n), tok, map[string]any{"type": proof,
						"result": "PROOF_RESULT_PASS", "summary": "checked by the owner"}).want(t, http.StatusCreated, "")
				}
			}
			g := s.waitGate(t, tok, p.ID, n, "GATE_STATE_IN_REVIEW")
			if n == 3 {
				// The architect's API specification was validated by a real OpenAPI parser.
				if len(g.Proofs) != 1 || g.Proofs[0].Type != "PROOF_TYPE_SPEC_VALIDATION" || g.Proofs[0].Result != "PROOF_RESULT_PASS" ||
					g.Proofs[0].Attested || g.Proofs[0].ProducedBy != "agents" || !strings.Contains(g.Proofs[0].Summary, "kin-openapi") {
					t.Fatalf("G3 proofs: %+v", g.Proofs)
				}
			}
			if n == 2 {
				s.requestChangesOnce(t, tok, p.ID)
			}
			s.do("POST", fmt.Sprintf("%s/gates/%d:approve", base, n), tok, map[string]string{"notes": "good"}).want(t, 200, "")
		}

		var status struct {
			PercentComplete int    `json:"percentComplete"`
			ProjectStatus   string `json:"projectStatus"`
		}
		s.do("GET", base+"/status", tok, nil).want(t, 200, "").data(t, &status)
		if status.PercentComplete != 100 || status.ProjectStatus != "PROJECT_STATUS_COMPLETED" {
			t.Fatalf("status: %+v", status)
		}
		// Every run succeeded, on the offline model, and the intake proposed the project's tasks.
		var runs struct{ Runs []runView }
		s.do("GET", base+"/runs?pageSize=100", tok, nil).want(t, 200, "").data(t, &runs)
		tasks := 0
		for _, r := range runs.Runs {
			if r.State != "RUN_STATE_SUCCEEDED" || r.Handoff == nil {
				t.Fatalf("run %+v", r)
			}
			tasks += r.Handoff.TasksCreated
		}
		// G1 and G2 (twice) for the product manager, then one run per role of G3-G9.
		if want := 3 + 1 + 1 + 2 + 1 + 1 + 1 + 1; len(runs.Runs) != want || tasks == 0 {
			t.Fatalf("%d runs (want %d), %d tasks", len(runs.Runs), want, tasks)
		}
		var costs struct {
			Total struct {
				Runs        int    `json:"runs"`
				InputTokens string `json:"inputTokens"`
				CostUsd     string `json:"costUsd"`
			} `json:"total"`
			Gates []struct{ Gate int } `json:"gates"`
		}
		s.do("GET", base+"/costs", tok, nil).want(t, 200, "").data(t, &costs)
		if costs.Total.Runs != len(runs.Runs) || costs.Total.InputTokens == "" || costs.Total.CostUsd != "$0.00" || len(costs.Gates) != 9 {
			t.Fatalf("costs: %+v", costs)
		}
	})
}

// requestChangesOnce sends G2 back with notes and checks the product manager's re-run revised the
// same documents: new versions carrying the feedback, no new documents.
func (s *server) requestChangesOnce(t *testing.T, tok, pid string) {
	t.Helper()
	base := "/api/v1/projects/" + pid
	var before struct{ Documents []documentView }
	s.do("GET", base+"/documents?gate=2", tok, nil).want(t, 200, "").data(t, &before)
	s.do("POST", base+"/gates/2:request-changes", tok, map[string]string{"notes": "Add offline mode for the shopping list."}).want(t, 200, "")
	g := s.waitGate(t, tok, pid, 2, "GATE_STATE_IN_REVIEW")
	if g.Revision != 1 {
		t.Fatalf("G2 revision %d after one request for changes", g.Revision)
	}
	var after struct{ Documents []documentView }
	s.do("GET", base+"/documents?gate=2", tok, nil).want(t, 200, "").data(t, &after)
	if len(after.Documents) != len(before.Documents) || len(after.Documents) != 2 {
		t.Fatalf("documents before %d, after %d", len(before.Documents), len(after.Documents))
	}
	for i, d := range after.Documents {
		if d.ID != before.Documents[i].ID || d.Version != before.Documents[i].Version+1 {
			t.Fatalf("document %q: version %d -> %d (ids %s, %s)", d.Title, before.Documents[i].Version, d.Version, before.Documents[i].ID, d.ID)
		}
		var got struct{ Content string }
		s.do("GET", fmt.Sprintf("%s/documents/%s", base, d.ID), tok, nil).want(t, 200, "").data(t, &got)
		if !strings.Contains(got.Content, "Add offline mode for the shopping list.") {
			t.Fatalf("document %q does not address the feedback:\n%s", d.Title, got.Content)
		}
	}
	var runs struct{ Runs []runView }
	s.do("GET", base+"/runs?gate=2", tok, nil).want(t, 200, "").data(t, &runs)
	if len(runs.Runs) != 2 || runs.Runs[0].Revision != 1 || runs.Runs[0].Feedback != "Add offline mode for the shopping list." {
		t.Fatalf("G2 runs: %+v", runs.Runs)
	}
}
