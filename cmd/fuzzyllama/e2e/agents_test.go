package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/providertest"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/bwrap"
	"github.com/fuzzyllama/fuzzyllama/services/agents/verify"
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
	Revision   int    `json:"revision"`
	Run        *struct {
		TreeHash   string `json:"treeHash"`
		Command    string `json:"command"`
		ExitCode   int    `json:"exitCode"`
		DurationMs string `json:"durationMs"`
		Runner     string `json:"runner"`
		Artifacts  []struct {
			ID        string `json:"id"`
			Kind      string `json:"kind"`
			MediaType string `json:"mediaType"`
		} `json:"artifacts"`
	} `json:"run"`
}

type agentGateView struct {
	Number        int         `json:"number"`
	State         string      `json:"state"`
	BlockedReason string      `json:"blockedReason"`
	Revision      int         `json:"revision"`
	Proofs        []proofView `json:"proofs"`
}

// waitGate polls gate n until it is in state want, failing on BLOCKED or after four minutes
// (a first verification of a tree downloads its dependencies and fills its build cache).
func (s *server) waitGate(t *testing.T, token, pid string, n int, want string) agentGateView {
	t.Helper()
	// Long enough for a cold sandbox on a busy CI machine (npm and module downloads, the standard
	// library compiled, the scanner built): the gates that run code wait for it.
	const wait = 8 * time.Minute
	deadline := time.Now().Add(wait)
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
			t.Fatalf("G%d is %s after %s, want %s; runs: %+v", n, out.Gate.State, wait, want, runs.Runs)
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
		env := map[string]string{"AGENT_SWEEP_INTERVAL": "1s", "AGENT_QUEUE_POLL_INTERVAL": "20ms",
			"RATE_LIMIT_PER_USER_PER_MINUTE": "100000"}
		sbx := sandboxEnv(t)
		maps.Copy(env, sbx)
		s := start(t, m.env(t), env)
		owner := s.register(t, "owner@example.com", goodPassword, "Owner")
		tok := owner.AccessToken
		p := s.createProject(t, tok, "Recipe box", "PROJECT_TYPE_TRADITIONAL")
		base := "/api/v1/projects/" + p.ID
		s.wantNextStep(t, tok, p.ID, "NEXT_ACTION_KIND_START_WORK", 1)

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
			// in progress, and the next step says exactly which to record; then it goes to review.
			s.attest(t, tok, p.ID, n, wf.Gates[n-1], len(wf.Gates[n-1].Roles))
			g := s.waitGate(t, tok, p.ID, n, "GATE_STATE_IN_REVIEW")
			s.wantNextStep(t, tok, p.ID, "NEXT_ACTION_KIND_REVIEW_GATE", n)
			if n == 5 || n == 6 || n == 7 {
				// The code's build, lint, tests, coverage and vulnerability scan were run in the
				// sandbox, not attested.
				s.wantRunProofs(t, tok, p.ID, g)
			}
			if n == 5 {
				// The architect's fuzzyllama.json declares a preview: it started, answered, and its
				// first page was screenshotted.
				s.wantPreview(t, tok, p.ID, g)
			}
			if n == 5 {
				// The developers wrote a source tree: each file a code document titled by its path.
				var code struct{ Documents []documentView }
				s.do("GET", base+"/documents?gate=5&pageSize=200", tok, nil).want(t, 200, "").data(t, &code)
				var tree struct {
					Files    []struct{ Path, DocumentID string }
					TreeHash string
				}
				s.do("GET", base+"/tree?gate=5", tok, nil).want(t, 200, "").data(t, &tree)
				paths := map[string]bool{}
				for _, f := range tree.Files {
					paths[f.Path] = true
				}
				// The tree at G5 is the developers' files and the architect's fuzzyllama.json (G3).
				if len(code.Documents) < 10 || len(tree.Files) != len(code.Documents)+1 || !paths["fuzzyllama.json"] || !paths["backend/go.mod"] ||
					!paths["frontend/package.json"] || !strings.HasPrefix(tree.TreeHash, "sha256:") {
					t.Fatalf("G5 documents %d, tree %+v", len(code.Documents), tree)
				}
				// What the owner reviews cannot change under them: an edit of the code is refused.
				edit := s.do("PATCH", base+"/documents/"+code.Documents[0].ID, tok, map[string]any{"baseVersion": code.Documents[0].Version,
					"content": "edited during the review"}).want(t, 400, "FAILED_PRECONDITION")
				if edit.env.Error.Details == nil || edit.env.Error.Details.Reason != "GATE_UNDER_REVIEW" {
					t.Fatalf("an edit under review: %s", edit.raw)
				}
				// Changes requested after the proofs were recorded: the developers write the code
				// again, and the proofs of the first code no longer count: they are asked again.
				s.do("POST", base+"/gates/5:request-changes", tok, map[string]string{"notes": "Handle an empty shopping list."}).want(t, 200, "")
				s.attest(t, tok, p.ID, n, wf.Gates[n-1], 2*len(wf.Gates[n-1].Roles))
				g = s.waitGate(t, tok, p.ID, n, "GATE_STATE_IN_REVIEW")
				if g.Revision != 1 {
					t.Fatalf("G5 revision %d after a request for changes", g.Revision)
				}
			}
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
		s.wantNextStep(t, tok, p.ID, "NEXT_ACTION_KIND_PROJECT_COMPLETE", 9)
		// The exported repository builds and its tests pass as it is, in the same sandbox (once:
		// the archive is the same whichever database holds the documents).
		if m.name == "embedded" {
			s.wantExportBuilds(t, tok, p.ID, sbx["SANDBOX_DIR"])
		}
		s.wantEveryTaskDone(t, tok, p.ID) // tasks_test.go
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
		// G1 and G2 (twice) for the product manager, then one run per role of G3-G9, G5's twice.
		if want := 3 + 1 + 1 + 2*2 + 1 + 1 + 1 + 1; len(runs.Runs) != want || tasks == 0 {
			t.Fatalf("%d runs (want %d), %d tasks", len(runs.Runs), want, tasks)
		}
		var costs struct {
			Total struct {
				Runs        int    `json:"runs"`
				OfflineRuns int    `json:"offlineRuns"`
				InputTokens string `json:"inputTokens"`
				CostUsd     string `json:"costUsd"`
			} `json:"total"`
			Gates  []struct{ Gate int } `json:"gates"`
			Models []struct {
				Model string `json:"model"`
				Cost  struct {
					Runs        int `json:"runs"`
					OfflineRuns int `json:"offlineRuns"`
				} `json:"cost"`
			} `json:"models"`
		}
		s.do("GET", base+"/costs", tok, nil).want(t, 200, "").data(t, &costs)
		if costs.Total.Runs != len(runs.Runs) || costs.Total.OfflineRuns != len(runs.Runs) || costs.Total.InputTokens != "0" ||
			costs.Total.CostUsd != "$0.00" || len(costs.Gates) != 9 {
			t.Fatalf("costs: %+v", costs)
		}
		if len(costs.Models) != 1 || costs.Models[0].Model != "offline" || costs.Models[0].Cost.Runs != len(runs.Runs) ||
			costs.Models[0].Cost.OfflineRuns != len(runs.Runs) {
			t.Fatalf("costs per model: %+v", costs.Models)
		}
		// The timeline read back from its end, a page at a time, is the same timeline.
		s.wantTimelineBothWays(t, tok, p.ID)
		// The timeline says who acted: the owner in person (starting the work, proofs attested,
		// decisions), or a service acting for them: the agents (the later gates started, every
		// gate submitted, the spec validated), the documents service (the versions the agents
		// saved, recorded as deliverables).
		by := map[string]map[string]int{} // what happened -> actor service -> events
		for _, e := range s.timeline(t, tok, p.ID) {
			if e.ActorID != owner.User.ID {
				t.Fatalf("event %s made by %q, want the owner", e.ID, e.ActorID)
			}
			what := ""
			switch {
			case e.GateChanged != nil:
				what = e.GateChanged.To
			case e.DeliverableRecorded != nil:
				what = "deliverable"
			case e.ProofRecorded != nil:
				what = e.ProofRecorded.Type
			default:
				continue
			}
			if by[what] == nil {
				by[what] = map[string]int{}
			}
			by[what][e.ActorService]++
		}
		// startWork starts G1 with the owner's own token, which the agents service passes on.
		if started := by["GATE_STATE_IN_PROGRESS"]; started[""] != 1 || started["agents"] == 0 || len(started) != 2 {
			t.Errorf("gates started by %v (service: events), want G1 in person and the rest by the agents", started)
		}
		for what, service := range map[string]string{"GATE_STATE_IN_REVIEW": "agents",
			"GATE_STATE_APPROVED": "", "GATE_STATE_CHANGES_REQUESTED": "", "deliverable": "documents",
			"PROOF_TYPE_SPEC_VALIDATION": "agents", "PROOF_TYPE_BUILD": "agents", "PROOF_TYPE_COVERAGE": "agents",
			"PROOF_TYPE_SECURITY_SCAN": "agents"} {
			if len(by[what]) != 1 || by[what][service] == 0 {
				t.Errorf("%s made by %v (service: events), want by %q only", what, by[what], service)
			}
		}
		// No model ran: the owner's monthly budget is untouched.
		var usage struct {
			Used struct {
				InputTokens, OutputTokens string
				CostMicros                string
				OfflineRuns               int
			}
		}
		s.do("GET", "/api/v1/usage", tok, nil).want(t, 200, "").data(t, &usage)
		if u := usage.Used; u.InputTokens != "0" || u.OutputTokens != "0" || u.CostMicros != "0" || u.OfflineRuns != len(runs.Runs) {
			t.Fatalf("usage: %+v", usage.Used)
		}
		// The product metrics saw the same journey.
		metrics := string(s.do("GET", "/metrics", "", nil).raw)
		for _, want := range []string{
			`fuzzyllama_agent_runs_total{role="product_manager",status="succeeded"} 3`,
			`fuzzyllama_agent_runs_total{role="architect",status="succeeded"} 1`,
			`fuzzyllama_agent_queue_depth{state="queued"} 0`,
			`fuzzyllama_agent_queue_wait_seconds_count{role="architect"} 1`,
			`fuzzyllama_agent_run_duration_seconds_count{role="qa_engineer",status="succeeded"} 1`,
			`fuzzyllama_agent_tokens_total{direction="output",role="devops_engineer"}`,
			`fuzzyllama_gate_transitions_total{gate="9",to="approved"} 1`,
			`fuzzyllama_gate_transitions_total{gate="2",to="changes_requested"} 1`,
			`fuzzyllama_gate_review_duration_seconds_count{decision="approved",gate="1"} 1`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

// attest waits until the gate's agents have finished (runs succeeded in all) and, if the gate
// needs proofs nothing here produces, checks the next step asks the owner for exactly those, that
// submitting it before is refused, then records them.
func (s *server) attest(t *testing.T, tok, pid string, n int, def workflowGateView, runs int) {
	t.Helper()
	var owed []string
	for _, proof := range def.Proofs {
		if !machineProduced[proof] {
			owed = append(owed, proof)
		}
	}
	if len(owed) == 0 {
		return
	}
	s.waitRuns(t, tok, pid, n, runs)
	step := s.wantNextStep(t, tok, pid, "NEXT_ACTION_KIND_RECORD_PROOFS", n)
	if !slices.Equal(step.MissingProofs, owed) || len(step.MissingDeliverables) != 0 || step.Summary == "" {
		t.Fatalf("G%d next step %+v, want the proofs %v", n, step, owed)
	}
	refused := s.do("POST", fmt.Sprintf("/api/v1/projects/%s/gates/%d:submit", pid, n), tok, map[string]string{}).want(t, 400, "FAILED_PRECONDITION")
	for _, proof := range owed {
		if refused.fields()["proofs."+strings.ToLower(strings.TrimPrefix(proof, "PROOF_TYPE_"))] == nil {
			t.Fatalf("G%d submit refused without naming %s: %s", n, proof, refused.raw)
		}
	}
	for _, proof := range owed {
		s.do("POST", fmt.Sprintf("/api/v1/projects/%s/gates/%d/proofs", pid, n), tok, map[string]any{"type": proof,
			"result": "PROOF_RESULT_PASS", "summary": "checked by the owner"}).want(t, http.StatusCreated, "")
	}
}

// machineProduced are the proofs FuzzyLlama produces itself in the journeys: the API
// specification's validation, and what running the code in the sandbox gives.
var machineProduced = map[string]bool{"PROOF_TYPE_SPEC_VALIDATION": true, "PROOF_TYPE_BUILD": true, "PROOF_TYPE_LINT": true,
	"PROOF_TYPE_UNIT_TESTS": true, "PROOF_TYPE_COVERAGE": true, "PROOF_TYPE_SECURITY_SCAN": true}

// sandboxEnv runs the agents' code in the local sandbox. Every server of the package shares one
// sandbox directory, as the processes of one host would: each project keeps caches of its own
// there, and what is the runner's (npm's content-addressed download cache, the vulnerability
// scanner) is fetched once rather than by every test.
func sandboxEnv(t *testing.T) map[string]string {
	t.Helper()
	sharedSandbox.once.Do(func() {
		dir, err := os.MkdirTemp("", "e2e-sandbox-")
		if err != nil {
			sharedSandbox.err = err
			return
		}
		sharedSandbox.dir = dir
		// The sandbox's unprivileged user must reach it.
		for d := dir; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o711); err != nil {
				sharedSandbox.err = err
				return
			}
		}
	})
	if sharedSandbox.err != nil {
		t.Fatal(sharedSandbox.err)
	}
	return map[string]string{"SANDBOX_RUNNER": "local", "SANDBOX_DIR": sharedSandbox.dir}
}

// sharedSandbox is the package's sandbox directory, removed by TestMain.
var sharedSandbox struct {
	once sync.Once
	dir  string
	err  error
}

// wantRunProofs checks the gate's current proofs that the sandbox produces: passed, recorded by
// the agents service with how they ran, on the tree the gate holds, with a log that shows the
// commands.
func (s *server) wantRunProofs(t *testing.T, tok, pid string, g agentGateView) {
	t.Helper()
	type treeView struct {
		Files    []struct{ Path, DocumentID string }
		TreeHash string
	}
	var tree treeView
	s.do("GET", fmt.Sprintf("/api/v1/projects/%s/tree?gate=%d", pid, g.Number), tok, nil).want(t, 200, "").data(t, &tree)
	// The tree a proof ran on is listed by its hash, as the verification read it.
	var ran treeView
	s.do("GET", fmt.Sprintf("/api/v1/projects/%s/tree?treeHash=%s", pid, tree.TreeHash), tok, nil).want(t, 200, "").data(t, &ran)
	if ran.TreeHash != tree.TreeHash || len(ran.Files) != len(tree.Files) || ran.Files[0] != tree.Files[0] {
		t.Fatalf("G%d: the tree of hash %s: %+v, want %+v", g.Number, tree.TreeHash, ran, tree)
	}
	s.do("GET", fmt.Sprintf("/api/v1/projects/%s/tree?treeHash=sha256:%s", pid, strings.Repeat("0", 64)), tok, nil).want(t, 404, "NOT_FOUND")
	if bad := s.do("GET", fmt.Sprintf("/api/v1/projects/%s/tree?treeHash=abc", pid), tok, nil).want(t, 400, "INVALID_ARGUMENT"); bad.fields()["tree_hash"] == nil {
		t.Errorf("a malformed tree hash: %s", bad.raw)
	}
	found := 0
	for _, p := range g.Proofs {
		if !machineProduced[p.Type] || p.Type == "PROOF_TYPE_SPEC_VALIDATION" || p.Revision != g.Revision {
			continue
		}
		found++
		if p.Result != "PROOF_RESULT_PASS" || p.Attested || p.ProducedBy != "agents" || p.Run == nil || p.Run.Runner != "local" ||
			p.Run.TreeHash != tree.TreeHash || p.Run.ExitCode != 0 || len(p.Run.Artifacts) == 0 || p.Run.Artifacts[0].Kind != "log" {
			t.Fatalf("G%d proof %s: %+v (tree %s)", g.Number, p.Type, p, tree.TreeHash)
		}
		var art struct {
			Artifact struct{ MediaType string }
			Content  []byte
		}
		s.do("GET", fmt.Sprintf("/api/v1/projects/%s/artifacts/%s", pid, p.Run.Artifacts[0].ID), tok, nil).want(t, 200, "").data(t, &art)
		want := "$ cd backend && go " // the commands, as they ran
		switch p.Type {
		case "PROOF_TYPE_COVERAGE":
			want = "statements covered" // the coverage of each component
		case "PROOF_TYPE_SECURITY_SCAN":
			// govulncheck on the backend; the frontend is named as not scanned.
			want = "$ cd backend && govulncheck -db file:///opt/fuzzyllama/vulndb"
			if !strings.Contains(p.Summary, "not scanned: frontend") {
				t.Errorf("G%d security scan summary %q", g.Number, p.Summary)
			}
		}
		if !strings.HasPrefix(art.Artifact.MediaType, "text/plain") || !strings.Contains(string(art.Content), want) {
			t.Fatalf("G%d %s log (%s):\n%s", g.Number, p.Type, art.Artifact.MediaType, art.Content)
		}
	}
	if found == 0 {
		t.Fatalf("G%d has no proof produced in the sandbox: %+v", g.Number, g.Proofs)
	}
	// How long verification took (docs/PERFORMANCE.md quotes these).
	var list struct {
		Verifications []struct {
			State, CreateTime, EndTime string
			Steps                      []struct {
				ProofType  string
				DurationMs string
			}
		}
	}
	s.do("GET", fmt.Sprintf("/api/v1/projects/%s/verifications?gate=%d", pid, g.Number), tok, nil).want(t, 200, "").data(t, &list)
	for _, v := range list.Verifications {
		created, _ := time.Parse(time.RFC3339Nano, v.CreateTime)
		ended, _ := time.Parse(time.RFC3339Nano, v.EndTime)
		t.Logf("G%d verification %s in %s (queued to done): steps %+v", g.Number, v.State, ended.Sub(created).Round(time.Millisecond), v.Steps)
	}
}

// nextStepView is the structured next step of a project's status.
type nextStepView struct {
	Kind                string   `json:"kind"`
	Gate                int      `json:"gate"`
	MissingDeliverables []string `json:"missingDeliverables"`
	MissingProofs       []string `json:"missingProofs"`
	Summary             string   `json:"summary"`
}

// wantNextStep checks what the status tells the person to do next.
func (s *server) wantNextStep(t *testing.T, tok, pid, kind string, gate int) nextStepView {
	t.Helper()
	var st struct {
		NextAction string       `json:"nextAction"`
		NextStep   nextStepView `json:"nextStep"`
	}
	s.do("GET", "/api/v1/projects/"+pid+"/status", tok, nil).want(t, 200, "").data(t, &st)
	if st.NextStep.Kind != kind || st.NextStep.Gate != gate || st.NextAction == "" || st.NextAction != st.NextStep.Summary {
		t.Fatalf("next step %+v (%q), want %s at G%d", st.NextStep, st.NextAction, kind, gate)
	}
	return st.NextStep
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
	for _, d := range after.Documents {
		if d.Author.Agent == nil || d.Author.Agent.RunID == "" || d.Author.UserID == "" {
			t.Fatalf("document %q is not attributed to its run and user: %+v", d.Title, d.Author)
		}
	}
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

// intakeAnswer is a vendor's answer that follows the output contract for the G1 intake.
func intakeAnswer() string {
	return output.Format(output.Output{
		Documents: []output.Document{{Type: "intake", Title: "Project Intake", Content: "# Project Intake\n\nRecipes for home cooks.\n"}},
		Handoff:   output.Handoff{Deliverables: []string{"intake"}, NextRoles: []string{"product_manager"}, Notes: "scope agreed"},
	})
}

// startWork starts a project's work and returns its intake run.
func (s *server) startWork(t *testing.T, tok, pid string) runView {
	t.Helper()
	var started struct{ Run runView }
	s.do("POST", "/api/v1/projects/"+pid+":startWork", tok, map[string]string{"description": "Recipes for home cooks, with shopping lists."}).
		want(t, 200, "").data(t, &started)
	return started.Run
}

// waitRun polls a run until it has finished.
func (s *server) waitRun(t *testing.T, tok, pid, runID string) runView {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var out struct{ Run runView }
		s.do("GET", fmt.Sprintf("/api/v1/projects/%s/runs/%s", pid, runID), tok, nil).want(t, 200, "").data(t, &out)
		if out.Run.State != "RUN_STATE_QUEUED" && out.Run.State != "RUN_STATE_RUNNING" {
			return out.Run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run still %s after a minute: %+v", out.Run.State, out.Run)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestVendorFailures runs against a fake Anthropic API speaking its real streaming format: a
// rate limit (honouring Retry-After) and an overload in the middle of the stream are retried and
// the run succeeds on its third attempt; a bad request fails the run at once with the vendor's
// message, and the gate is blocked with it instead of spending more.
func TestVendorFailures(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		vendor := providertest.NewAnthropic(t,
			providertest.Script{Status: 429, ErrorType: "rate_limit_error", ErrorMessage: "slow down", RetryAfter: "1"},
			providertest.Script{Text: intakeAnswer(), Chunks: 8, InputTokens: 900, Fault: providertest.MidStreamError, FaultAfter: 3,
				ErrorType: "overloaded_error", ErrorMessage: "Overloaded"},
			providertest.Script{Text: intakeAnswer(), Chunks: 8, InputTokens: 1000, OutputTokens: 200},
			providertest.Script{Status: 400, ErrorType: "invalid_request_error", ErrorMessage: "max_tokens: 999999 > 64000, which is the maximum"},
		)
		s := start(t, m.env(t), map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": vendor.URL,
			"AGENT_RETRY_BASE": "10ms", "AGENT_RETRY_MAX": "50ms", "AGENT_QUEUE_POLL_INTERVAL": "20ms", "RATE_LIMIT_PER_USER_PER_MINUTE": "100000"})
		tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		p := s.createProject(t, tok, "Recipes", "PROJECT_TYPE_TRADITIONAL")
		startedAt := time.Now()
		run := s.waitRun(t, tok, p.ID, s.startWork(t, tok, p.ID).ID)
		if run.State != "RUN_STATE_SUCCEEDED" || run.Attempt != 3 || run.Model != "claude-sonnet-4-5" || run.Usage.OutputTokens != "200" {
			t.Fatalf("run after two transient failures: %+v", run)
		}
		if waited := time.Since(startedAt); waited < time.Second {
			t.Fatalf("the run was retried after %v, before the vendor's Retry-After of 1s", waited)
		}
		if vendor.Calls() != 3 || vendor.Requests()[0].Header.Get("X-Api-Key") != "sk-ant-test" || !strings.Contains(vendor.Requests()[0].System, "Output format") {
			t.Fatalf("vendor calls: %d, first %+v", vendor.Calls(), vendor.Requests()[0])
		}
		s.waitGate(t, tok, p.ID, 1, "GATE_STATE_IN_REVIEW")

		// G2's run gets the 400: no retry, the run fails with the vendor's words, the gate blocks.
		s.do("POST", "/api/v1/projects/"+p.ID+"/gates/1:approve", tok, map[string]string{}).want(t, 200, "")
		g := s.waitGate(t, tok, p.ID, 2, "GATE_STATE_BLOCKED")
		if !strings.Contains(g.BlockedReason, "max_tokens: 999999 > 64000") || !strings.Contains(g.BlockedReason, "Unblock G2") {
			t.Fatalf("blocked reason: %q", g.BlockedReason)
		}
		var runs struct{ Runs []runView }
		s.do("GET", "/api/v1/projects/"+p.ID+"/runs?gate=2", tok, nil).want(t, 200, "").data(t, &runs)
		if len(runs.Runs) != 1 || runs.Runs[0].State != "RUN_STATE_FAILED" || runs.Runs[0].Attempt != 1 ||
			!strings.Contains(runs.Runs[0].Error, "invalid_request_error") || vendor.Calls() != 4 {
			t.Fatalf("G2 runs: %+v (vendor calls %d)", runs.Runs, vendor.Calls())
		}
		if strings.Contains(s.logs.String(), "sk-ant-test") {
			t.Fatal("the API key reached the logs")
		}
	})
}

// TestRunawayGuards: a gate's re-run cap blocks it with a reason saying what to do, unblocking
// grants as many again, and a user over their monthly budget gets RESOURCE_EXHAUSTED.
func TestRunawayGuards(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"AGENT_GATE_MAX_RERUNS": "1", "AGENT_USER_MONTHLY_TOKENS": "60000",
			"AGENT_QUEUE_POLL_INTERVAL": "20ms", "RATE_LIMIT_PER_USER_PER_MINUTE": "100000"})
		tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		p := s.createProject(t, tok, "Recipes", "PROJECT_TYPE_TRADITIONAL")
		base := "/api/v1/projects/" + p.ID
		s.startWork(t, tok, p.ID)
		s.waitGate(t, tok, p.ID, 1, "GATE_STATE_IN_REVIEW")
		s.do("POST", base+"/gates/1:request-changes", tok, map[string]string{"notes": "name the users"}).want(t, 200, "")
		s.waitGate(t, tok, p.ID, 1, "GATE_STATE_IN_REVIEW")
		// The second request for changes exceeds the cap of one re-run per role.
		s.do("POST", base+"/gates/1:request-changes", tok, map[string]string{"notes": "and their goals"}).want(t, 200, "")
		g := s.waitGate(t, tok, p.ID, 1, "GATE_STATE_BLOCKED")
		if !strings.Contains(g.BlockedReason, "cap is 1 per role") || !strings.Contains(g.BlockedReason, "Unblock G1") || strings.Contains(g.BlockedReason, "approve") {
			t.Fatalf("blocked reason: %q", g.BlockedReason)
		}
		var runs struct{ Runs []runView }
		s.do("GET", base+"/runs", tok, nil).want(t, 200, "").data(t, &runs)
		if len(runs.Runs) != 2 {
			t.Fatalf("%d runs, want 2: the cap let another start", len(runs.Runs))
		}
		s.do("POST", base+"/gates/1:unblock", tok, map[string]string{}).want(t, 200, "")
		s.waitGate(t, tok, p.ID, 1, "GATE_STATE_IN_REVIEW")

		// A user over their monthly budget (spent on a vendor's model: offline runs spend nothing):
		// the orchestration blocks the gate instead of running, and a run asked for by hand is
		// refused up front.
		vendor := providertest.NewAnthropic(t, providertest.Script{Text: intakeAnswer(), Chunks: 4, InputTokens: 10, OutputTokens: 5})
		s2 := start(t, m.env(t), map[string]string{"AGENT_USER_MONTHLY_TOKENS": "1", "AGENT_QUEUE_POLL_INTERVAL": "20ms",
			"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": vendor.URL, "RATE_LIMIT_PER_USER_PER_MINUTE": "100000"})
		tok = s2.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		p = s2.createProject(t, tok, "Recipes", "PROJECT_TYPE_TRADITIONAL")
		base = "/api/v1/projects/" + p.ID
		s2.startWork(t, tok, p.ID) // nothing spent yet
		s2.waitGate(t, tok, p.ID, 1, "GATE_STATE_IN_REVIEW")
		s2.do("POST", base+"/gates/1:request-changes", tok, map[string]string{"notes": "name the users"}).want(t, 200, "")
		g = s2.waitGate(t, tok, p.ID, 1, "GATE_STATE_BLOCKED")
		if !strings.Contains(g.BlockedReason, "token budget spent") {
			t.Fatalf("blocked reason: %q", g.BlockedReason)
		}
		r := s2.do("POST", base+"/runs", tok, map[string]any{"gate": 1, "role": "AGENT_ROLE_PRODUCT_MANAGER"}).want(t, 429, "RESOURCE_EXHAUSTED")
		var usage struct {
			Used        struct{ Runs int }
			TokenBudget string    `json:"tokenBudget"`
			MonthEnd    time.Time `json:"monthEnd"`
		}
		s2.do("GET", "/api/v1/usage", tok, nil).want(t, 200, "").data(t, &usage)
		if !strings.Contains(r.env.Error.Message, "monthly token budget spent") || usage.TokenBudget != "1" || usage.Used.Runs != 1 ||
			usage.MonthEnd.Day() != 1 || r.header.Get("Retry-After") == "" {
			t.Fatalf("over budget: %s (usage %+v)", r.raw, usage)
		}
	})
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// TestWatchRun follows a run as server-sent events: the run, its output in order as it is
// written, and the finished run; the chunks add up to the stored output.
func TestWatchRun(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s := start(t, m.env(t), map[string]string{"OFFLINE_CHUNK_DELAY": "5ms", "AGENT_QUEUE_POLL_INTERVAL": "20ms"})
		tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
		p := s.createProject(t, tok, "Recipes", "PROJECT_TYPE_TRADITIONAL")
		run := s.startWork(t, tok, p.ID)
		states, text, chunks := s.watch(t, tok, p.ID, run.ID)
		var got struct{ Run runView }
		s.do("GET", fmt.Sprintf("/api/v1/projects/%s/runs/%s", p.ID, run.ID), tok, nil).want(t, 200, "").data(t, &got)
		if len(states) < 2 || states[len(states)-1] != "RUN_STATE_SUCCEEDED" || chunks < 2 || text != got.Run.Output {
			t.Fatalf("states %v, %d chunks, %d bytes streamed, %d stored", states, chunks, len(text), len(got.Run.Output))
		}
		// A finished run replays as the run, then its output in one piece.
		states, text, chunks = s.watch(t, tok, p.ID, run.ID)
		if len(states) != 1 || states[0] != "RUN_STATE_SUCCEEDED" || chunks != 1 || text != got.Run.Output {
			t.Fatalf("replay of a finished run: states %v, %d chunks, %d bytes", states, chunks, len(text))
		}
		// Another user's watch is refused as not found.
		stranger := s.register(t, "stranger@example.com", goodPassword, "Stranger").AccessToken
		s.do("GET", fmt.Sprintf("/api/v1/projects/%s/runs/%s:watch", p.ID, run.ID), stranger, nil).want(t, 404, "NOT_FOUND")
	})
}

// watch follows a run's server-sent events to their end and returns the run states seen, the
// output text and the number of chunks, checking the chunks come in order and the finished run
// comes last.
func (s *server) watch(t *testing.T, tok, pid, runID string) (states []string, text string, chunks int) {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/projects/%s/runs/%s:watch", s.base, pid, runID), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("watch: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	checkEvent := s.checkStream(req, resp)
	var out strings.Builder
	var seq int64
	last := ""
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 4<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		data, isData := strings.CutPrefix(line, "data: ")
		if isData {
			checkEvent(event, []byte(data))
		}
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case isData && event == "run":
			var r runView
			if err := json.Unmarshal([]byte(data), &r); err != nil {
				t.Fatal(err)
			}
			states = append(states, r.State)
			last = "run"
		case isData && event == "chunk":
			var c struct {
				Seq  string `json:"seq"`
				Text string `json:"text"`
			}
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				t.Fatal(err)
			}
			if n := int64(atoi(c.Seq)); n != seq+1 {
				t.Fatalf("chunk %d after %d", n, seq)
			}
			seq++
			out.WriteString(c.Text)
			last = "chunk"
		case isData && event == "error":
			t.Fatalf("error event: %s", line)
		}
	}
	if last != "run" && !(len(states) == 1 && seq == 1) {
		t.Fatalf("the stream did not end with the finished run (last event %q)", last)
	}
	return states, out.String(), int(seq)
}

// TestAgentsAuthorizationMatrix: the agents routes of a project as owner, editor, viewer and
// stranger.
func TestAgentsAuthorizationMatrix(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s, users, fixture := startMatrix(t, m)
		owner := users["owner"].AccessToken
		withRun := func(pid string) string { return s.startWork(t, owner, pid).ID }
		calls := []call{
			{"start work", "POST", "/api/v1/projects/%s:startWork", map[string]string{"description": "Recipes for home cooks."}, 2, nil},
			{"start run", "POST", "/api/v1/projects/%s/runs", map[string]any{"gate": 1, "role": "AGENT_ROLE_ORCHESTRATOR"}, 2, nil},
			{"list runs", "GET", "/api/v1/projects/%s/runs", nil, 1, nil},
			{"get run", "GET", "/api/v1/projects/%s/runs/%s", nil, 1, withRun},
			{"cancel run", "POST", "/api/v1/projects/%s/runs/%s:cancel", map[string]string{}, 2, func(pid string) string {
				// A run that cannot finish before it is cancelled: the orchestrator at a gate not yet reached
				// would be refused, so cancel a queued orchestrator run right after starting it.
				var out struct{ Run runView }
				s.do("POST", "/api/v1/projects/"+pid+"/runs", owner, map[string]any{"gate": 1, "role": "AGENT_ROLE_ORCHESTRATOR"}).data(t, &out)
				return out.Run.ID
			}},
			{"costs", "GET", "/api/v1/projects/%s/costs", nil, 1, nil},
		}
		checkMatrix(t, s, users, fixture, calls)
		// The catalog is for every signed-in user; a run of another project is not found.
		var agents struct{ Agents []struct{ Role string } }
		s.do("GET", "/api/v1/agents", users["stranger"].AccessToken, nil).want(t, 200, "").data(t, &agents)
		if len(agents.Agents) != 14 {
			t.Fatalf("%d agents in the catalog", len(agents.Agents))
		}
		a, b := fixture(), fixture()
		run := withRun(a)
		s.do("GET", fmt.Sprintf("/api/v1/projects/%s/runs/%s", b, run), owner, nil).want(t, 404, "NOT_FOUND")
	})
}

// wantExportBuilds downloads the project's ZIP export, and builds, lints and tests the files it
// holds outside docs/ with the sandbox runner the agents use (on the project's caches in
// sandboxDir): the export is a repository that builds as it is.
func (s *server) wantExportBuilds(t *testing.T, tok, pid, sandboxDir string) {
	t.Helper()
	r := s.do("GET", "/api/v1/projects/"+pid+"/documents:export?format=ARCHIVE_FORMAT_ZIP", tok, nil)
	if r.status != 200 {
		t.Fatalf("export: %d %.200s", r.status, r.raw)
	}
	var files []sandbox.File
	for path, content := range unpackArchive(t, r.header.Get("Content-Type"), r.raw) {
		if !strings.HasPrefix(path, "docs/") {
			files = append(files, sandbox.File{Path: path, Content: []byte(content)})
		}
	}
	plan, err := verify.NewPlan(pid, files, []string{"build", "lint", "unit_tests"}, 0)
	if err != nil {
		t.Fatalf("export plan: %v (%d files)", err, len(files))
	}
	runner, err := bwrap.New(bwrap.Config{CacheDir: filepath.Join(sandboxDir, "cache"), WorkDir: filepath.Join(sandboxDir, "work")})
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	res, err := runner.Run(context.Background(), plan.Job)
	if err != nil {
		t.Fatalf("export run: %v", err)
	}
	for _, p := range plan.Evaluate(res) {
		if !p.Pass {
			t.Errorf("the exported tree's %s: %s\n%s", p.Type, p.Summary, p.Failure)
		}
	}
	if len(plan.Components) < 2 {
		t.Errorf("the export has components %+v, want the backend and the frontend", plan.Components)
	}
}

// wantPreview checks G5's preview_startup proof: passed, with a PNG screenshot.
func (s *server) wantPreview(t *testing.T, tok, pid string, g agentGateView) {
	t.Helper()
	for _, p := range g.Proofs {
		if p.Type != "PROOF_TYPE_PREVIEW_STARTUP" || p.Revision != g.Revision {
			continue
		}
		if p.Result != "PROOF_RESULT_PASS" || p.Run == nil || len(p.Run.Artifacts) != 2 || p.Run.Artifacts[1].Kind != "screenshot" {
			t.Fatalf("preview proof: %+v", p)
		}
		var shot struct{ Content []byte }
		s.do("GET", fmt.Sprintf("/api/v1/projects/%s/artifacts/%s", pid, p.Run.Artifacts[1].ID), tok, nil).want(t, 200, "").data(t, &shot)
		if !strings.HasPrefix(string(shot.Content), "\x89PNG\r\n\x1a\n") || len(shot.Content) < 1000 {
			t.Fatalf("the preview's screenshot is not a PNG: %d bytes %q", len(shot.Content), shot.Content[:min(16, len(shot.Content))])
		}
		return
	}
	t.Fatalf("G5 has no preview proof: %+v", g.Proofs)
}
