package agents

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/anthropic"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/providertest"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// vendorIntake is a vendor's answer that follows the output contract for the G1 intake.
func vendorIntake() string {
	return output.Format(output.Output{
		Documents: []output.Document{{Type: "intake", Title: "Project Intake", Content: "# Project Intake\n\nRecipes for home cooks.\n"}},
		Handoff:   output.Handoff{Deliverables: []string{"intake"}, NextRoles: []string{"product_manager"}, Notes: "scope agreed"},
	})
}

// TestGateBudget: the per-gate budget of the orchestration, in tokens and in money, with runs
// on a vendor's model (a fake Anthropic API) that report real usage: 900 tokens in and 300 out
// per run, $0.0072 at Claude Sonnet's price. A request for changes that would run the gate past
// its budget blocks it with a reason that says what was spent and how to go on, and nothing
// runs (the vendor is not called); once the owner has seen the block, unblocking grants one
// budget more, so the re-run happens and the gate goes back to review; the next request for
// changes blocks it again, counting from the unblock.
func TestGateBudget(t *testing.T) {
	for _, c := range []struct {
		name   string
		limits func(*Limits)
		reason []string
	}{
		{"tokens", func(l *Limits) { l.GateTokenBudget = 1000 },
			[]string{"G1's runs have used 1200 tokens, its budget of 1000", "Unblock G1 to allow 1000 more"}},
		{"cost", func(l *Limits) { l.GateCostBudgetMicros = 5000 },
			[]string{"G1's runs have cost $0.0072, its budget of $0.005", "Unblock G1 to allow as much again"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachDatabase(t, func(t *testing.T, database string) {
				vendor := providertest.NewAnthropic(t, providertest.Script{Text: vendorIntake(), Chunks: 3, InputTokens: 900, OutputTokens: 300})
				h := newHarness(t, database, harnessConfig{limits: c.limits,
					vendor: &anthropic.Client{APIKey: "sk-ant-test", BaseURL: vendor.URL, IdleTimeout: 10 * time.Second}})
				ctx := context.Background()
				pid := h.newProject("Recipes")
				h.startWork(pid)
				h.waitGate(pid, 1, GateInReview)
				runs := func() []store.Run {
					t.Helper()
					rs, err := h.db.Runs(ctx, pid, store.RunPage{Gate: 1, Limit: 50})
					if err != nil {
						t.Fatal(err)
					}
					return rs
				}
				if rs := runs(); len(rs) != 1 || rs[0].InputTokens != 900 || rs[0].CostMicros != 7200 || rs[0].Offline {
					t.Fatalf("the intake run: %+v", rs)
				}

				// The re-run the request for changes asks for would go past the budget.
				seen := time.Now()
				h.requestChanges(pid, 1, "name the users")
				g := h.waitGate(pid, 1, GateBlocked)
				blocked, _ := h.projects.gate(pid, 1)
				for _, want := range c.reason {
					if !strings.Contains(blocked.blockedReason, want) {
						t.Fatalf("blocked reason %q lacks %q", blocked.blockedReason, want)
					}
				}
				if rs := runs(); len(rs) != 1 || vendor.Calls() != 1 || g.Revision != 1 {
					t.Fatalf("after the block: %d runs, %d vendor calls, revision %d", len(rs), vendor.Calls(), g.Revision)
				}
				if a := h.waitAcknowledged(pid, 1, seen); a.TokensSpent != 1200 || a.CostSpent != 7200 {
					t.Fatalf("the allowance recorded on seeing the block: %+v", a)
				}

				// Unblocking grants one budget more: the re-run happens, with the reviewer's notes.
				h.unblock(pid, 1)
				h.waitGate(pid, 1, GateInReview)
				rs := runs()
				if len(rs) != 2 || vendor.Calls() != 2 || rs[0].Revision != 1 || rs[0].Feedback != "name the users" || rs[0].State != store.StateSucceeded {
					t.Fatalf("after the unblock: %d vendor calls, runs %+v", vendor.Calls(), rs)
				}

				// That re-run spent the budget granted: the next request for changes blocks again.
				h.requestChanges(pid, 1, "and their goals")
				h.waitGate(pid, 1, GateBlocked)
				blocked, _ = h.projects.gate(pid, 1)
				if !strings.Contains(blocked.blockedReason, c.reason[0]) || len(runs()) != 2 || vendor.Calls() != 2 {
					t.Fatalf("second block: %q, %d runs, %d vendor calls", blocked.blockedReason, len(runs()), vendor.Calls())
				}
			})
		})
	}
}
