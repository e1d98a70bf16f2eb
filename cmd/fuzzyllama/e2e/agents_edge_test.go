package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/providertest"
)

// projectDocs returns the project's documents.
func (s *server) projectDocs(t *testing.T, tok, pid string) []documentView {
	t.Helper()
	var out struct{ Documents []documentView }
	s.do("GET", "/api/v1/projects/"+pid+"/documents", tok, nil).want(t, 200, "").data(t, &out)
	return out.Documents
}

func (s *server) gate(t *testing.T, tok, pid string, n int) agentGateView {
	t.Helper()
	var out struct{ Gate agentGateView }
	s.do("GET", fmt.Sprintf("/api/v1/projects/%s/gates/%d", pid, n), tok, nil).want(t, 200, "").data(t, &out)
	return out.Gate
}

// TestStartWorkPastG1: on a project whose G1 was done and approved by hand, startWork runs no
// intake on the frozen G1 (StartRun refuses exactly that); the agents take over at G2.
func TestStartWorkPastG1(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"AGENT_QUEUE_POLL_INTERVAL": "20ms", "RATE_LIMIT_PER_USER_PER_MINUTE": "100000"})
		tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		p := s.createProject(t, tok, "Recipes", "PROJECT_TYPE_TRADITIONAL")
		var wf workflowView
		s.do("GET", "/api/v1/workflows/PROJECT_TYPE_TRADITIONAL", tok, nil).want(t, 200, "").data(t, &wf)
		s.completeGate(t, tok, p.ID, wf, 1)
		s.do("POST", "/api/v1/projects/"+p.ID+"/gates/1:approve", tok, map[string]string{}).want(t, 200, "")
		// The same run by hand is refused: G1 is frozen.
		s.do("POST", "/api/v1/projects/"+p.ID+"/runs", tok, map[string]any{"gate": 1, "role": "AGENT_ROLE_PRODUCT_MANAGER"}).want(t, 400, "FAILED_PRECONDITION")
		run := s.startWork(t, tok, p.ID)
		if run.ID != "" {
			done := s.waitRun(t, tok, p.ID, run.ID)
			t.Fatalf("startWork made a G1 run on the approved G1: %s, finished %s (%s); documents now %d",
				run.ID, done.State, done.Error, len(s.projectDocs(t, tok, p.ID)))
		}
		s.waitGate(t, tok, p.ID, 2, "GATE_STATE_IN_REVIEW")
	})
}

// TestOrchestrationResumesForTheOwner: the work's user (an editor) is removed, so the
// orchestration stops (nobody to work for); the owner's own startWork resumes it for them.
func TestOrchestrationResumesForTheOwner(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"AGENT_QUEUE_POLL_INTERVAL": "20ms", "AGENT_SWEEP_INTERVAL": "1s",
			"RATE_LIMIT_PER_USER_PER_MINUTE": "100000"})
		owner := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		editor := s.register(t, "editor@example.com", goodPassword, "Editor")
		p := s.createProject(t, owner, "Recipes", "PROJECT_TYPE_TRADITIONAL")
		s.do("POST", "/api/v1/projects/"+p.ID+"/members", owner, map[string]string{"email": "editor@example.com", "role": "ROLE_EDITOR"}).
			want(t, http.StatusCreated, "")
		s.startWork(t, editor.AccessToken, p.ID)
		s.waitGate(t, owner, p.ID, 1, "GATE_STATE_IN_REVIEW")
		s.do("DELETE", "/api/v1/projects/"+p.ID+"/members/"+editor.User.ID, owner, nil).want(t, 200, "")
		s.do("POST", "/api/v1/projects/"+p.ID+"/gates/1:approve", owner, map[string]string{}).want(t, 200, "")
		time.Sleep(3 * time.Second) // the reconcile as the removed editor ends the orchestration
		// The owner starts the work again.
		s.do("POST", "/api/v1/projects/"+p.ID+":startWork", owner, map[string]string{}).want(t, 200, "")
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if g := s.gate(t, owner, p.ID, 2); g.State != "GATE_STATE_PENDING" {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		var runs struct{ Runs []runView }
		s.do("GET", "/api/v1/projects/"+p.ID+"/runs", owner, nil).want(t, 200, "").data(t, &runs)
		t.Fatalf("G2 still pending 10 s after the owner's startWork (sweeps every 1 s); runs: %d; log says orchestration stopped: %v",
			len(runs.Runs), strings.Contains(s.logs.String(), "orchestration stops"))
	})
}

// TestLongNonASCIIFailureBlocks: a run fails with a long message that is not ASCII (the
// output-contract problems quote the model's Japanese titles); the gate is blocked with it, cut
// on a character boundary, and the role is not run again until the owner unblocks the gate.
func TestLongNonASCIIFailureBlocks(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		title := strings.Repeat("要件定義書", 12) // 60 characters, 180 bytes
		var b strings.Builder
		for i := 0; i < 8; i++ {
			fmt.Fprintf(&b, "<document type=\"intake\" title=\"%s\">\n</document>\n", title)
		}
		vendor := providertest.NewAnthropic(t, providertest.Script{Text: b.String(), Chunks: 2, InputTokens: 10, OutputTokens: 10})
		s := start(t, m.env(t), map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": vendor.URL,
			"AGENT_QUEUE_POLL_INTERVAL": "20ms", "AGENT_SWEEP_INTERVAL": "1s", "AGENT_GATE_MAX_RERUNS": "1",
			"RATE_LIMIT_PER_USER_PER_MINUTE": "100000"})
		tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		p := s.createProject(t, tok, "Recipes", "PROJECT_TYPE_TRADITIONAL")
		run := s.waitRun(t, tok, p.ID, s.startWork(t, tok, p.ID).ID)
		if run.State != "RUN_STATE_FAILED" {
			t.Fatalf("run: %+v", run)
		}
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			if g := s.gate(t, tok, p.ID, 1); g.State == "GATE_STATE_BLOCKED" {
				time.Sleep(2 * time.Second) // two sweeps: nothing runs again while blocked
				if vendor.Calls() != 1 || !strings.Contains(g.BlockedReason, "要件定義書") {
					t.Fatalf("%d vendor calls while blocked; reason %q", vendor.Calls(), g.BlockedReason)
				}
				return // the owner was told
			}
			time.Sleep(200 * time.Millisecond)
		}
		var runs struct{ Runs []runView }
		s.do("GET", "/api/v1/projects/"+p.ID+"/runs?pageSize=200", tok, nil).want(t, 200, "").data(t, &runs)
		utf8Err := 0
		for _, l := range strings.Split(s.logs.String(), "\n") {
			if strings.Contains(l, "invalid UTF-8") {
				if utf8Err == 0 {
					t.Logf("log: %.300s", l)
				}
				utf8Err++
			}
		}
		t.Fatalf("G1 never blocked after its run failed (%d bytes of error); %d runs of G1 so far, %d vendor calls (cap: 1 re-run); %d log lines say invalid UTF-8",
			len(run.Error), len(runs.Runs), vendor.Calls(), utf8Err)
	})
}

// TestNULInAnswer: a model answer with a NUL character (valid UTF-8, but PostgreSQL text refuses
// it) is stored without it, on either database, in one attempt.
func TestNULInAnswer(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		answer := strings.Replace(intakeAnswer(), "Recipes for home cooks.", "Recipes for home cooks.\x00", 1)
		vendor := providertest.NewAnthropic(t, providertest.Script{Text: answer, Chunks: 4, InputTokens: 1000, OutputTokens: 200})
		s := start(t, m.env(t), map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": vendor.URL,
			"AGENT_RETRY_BASE": "10ms", "AGENT_RETRY_MAX": "50ms", "AGENT_QUEUE_POLL_INTERVAL": "20ms", "RATE_LIMIT_PER_USER_PER_MINUTE": "100000"})
		tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		p := s.createProject(t, tok, "Recipes", "PROJECT_TYPE_TRADITIONAL")
		run := s.waitRun(t, tok, p.ID, s.startWork(t, tok, p.ID).ID)
		if run.State != "RUN_STATE_SUCCEEDED" || run.Attempt != 1 || vendor.Calls() != 1 {
			t.Errorf("run %s after %d attempts (%d vendor calls, %s input tokens billed): %.300s", run.State, run.Attempt, vendor.Calls(),
				run.Usage.InputTokens, run.Error)
		}
	})
}

// TestCancelRunningRun: a run cancelled while its model streams ends at once as CANCELLED, stores
// nothing, and its gate is blocked for the owner to decide, instead of being run again.
func TestCancelRunningRun(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s, vendor, tok, pid, run := streamingRun(t, m.env(t))
		p := project{ID: pid}
		var cancelled struct{ Run runView }
		s.do("POST", fmt.Sprintf("/api/v1/projects/%s/runs/%s:cancel", p.ID, run.ID), tok, map[string]string{}).want(t, 200, "").data(t, &cancelled)
		if cancelled.Run.State != "RUN_STATE_CANCELLED" {
			t.Fatalf("cancel: %+v", cancelled.Run)
		}
		s.do("POST", fmt.Sprintf("/api/v1/projects/%s/runs/%s:cancel", p.ID, run.ID), tok, map[string]string{}).want(t, 400, "FAILED_PRECONDITION")
		g := s.waitGate(t, tok, p.ID, 1, "GATE_STATE_BLOCKED")
		if !strings.Contains(g.BlockedReason, "cancelled") || len(s.projectDocs(t, tok, p.ID)) != 0 || vendor.Calls() != 1 {
			t.Fatalf("after the cancel: reason %q, %d documents, %d vendor calls", g.BlockedReason, len(s.projectDocs(t, tok, p.ID)), vendor.Calls())
		}
	})
}

// TestBudgetCheckedWhenARunStarts: two runs queued while the budget still had room; the first to
// run spends it (a vendor's model: offline runs spend nothing), so the other fails as it starts,
// without calling a model.
func TestBudgetCheckedWhenARunStarts(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		// One answer that serves both roles at G1, streamed slowly enough that both are queued
		// before the first one ends.
		answer := output.Format(output.Output{
			Documents: []output.Document{{Type: "intake", Title: "Project Intake", Content: "# Project Intake\n\nRecipes.\n"},
				{Type: "other", Title: "Project Plan", Content: "# Project Plan\n\nG1 first.\n"}},
			Handoff: output.Handoff{Deliverables: []string{"intake", "other"}, NextRoles: []string{"product_manager"}, Notes: "planned"},
		})
		vendor := providertest.NewAnthropic(t, providertest.Script{Text: answer, Chunks: 20, Delay: 20 * time.Millisecond, InputTokens: 10, OutputTokens: 10})
		s := start(t, m.env(t), map[string]string{"AGENT_USER_MONTHLY_TOKENS": "1", "AGENT_WORKERS": "1",
			"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": vendor.URL,
			"AGENT_QUEUE_POLL_INTERVAL": "20ms", "RATE_LIMIT_PER_USER_PER_MINUTE": "100000"})
		tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		p := s.createProject(t, tok, "Recipes", "PROJECT_TYPE_TRADITIONAL")
		base := "/api/v1/projects/" + p.ID
		s.do("POST", base+"/gates/1:start", tok, map[string]string{}).want(t, 200, "")
		var first, second struct{ Run runView }
		s.do("POST", base+"/runs", tok, map[string]any{"gate": 1, "role": "AGENT_ROLE_PRODUCT_MANAGER"}).want(t, http.StatusAccepted, "").data(t, &first)
		s.do("POST", base+"/runs", tok, map[string]any{"gate": 1, "role": "AGENT_ROLE_ORCHESTRATOR"}).want(t, http.StatusAccepted, "").data(t, &second)
		// Whichever starts first spends the budget (the idle worker may take the first before the
		// second, of higher priority, is queued).
		a, b := s.waitRun(t, tok, p.ID, first.Run.ID), s.waitRun(t, tok, p.ID, second.Run.ID)
		if a.State == "RUN_STATE_FAILED" {
			a, b = b, a
		}
		if a.State != "RUN_STATE_SUCCEEDED" || b.State != "RUN_STATE_FAILED" || !strings.Contains(b.Error, "monthly token budget spent") ||
			b.Usage.InputTokens != "0" {
			t.Fatalf("one run %s, the other %s (%s) with %s tokens", a.State, b.State, b.Error, b.Usage.InputTokens)
		}
	})
}
