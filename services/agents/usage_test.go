package agents

import (
	"context"
	"testing"

	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
)

// journey carries a project from G1 to G9 on whatever the harness's providers are: the owner
// attests the proofs nothing here produces, requests changes at G2 once, and approves each gate.
// It returns the number of runs it took.
func (h *harness) journey(pid string) int {
	h.t.Helper()
	h.startWork(pid)
	runs := 0
	for _, wg := range traditionalWorkflow {
		for i, proof := range wg.Proofs {
			if proof == proofSpecValidation {
				continue
			}
			if i == 0 {
				h.waitRuns(pid, wg.Number, len(wg.Roles))
			}
			h.attest(pid, wg.Number, proof)
		}
		h.waitGate(pid, wg.Number, GateInReview)
		runs += len(wg.Roles)
		if wg.Number == 2 {
			h.requestChanges(pid, 2, "Add offline mode for the shopping list.")
			h.waitGate(pid, 2, GateInReview)
			runs++
		}
		h.approve(pid, wg.Number)
	}
	return runs
}

// TestOfflineRunsSpendNothing: a whole journey on the offline provider, for a user whose monthly
// budget is one token and one micro-dollar and with gate budgets as small: no model ran, so the
// runs spend nothing, no budget stops them (the re-run after changes included), the user's
// monthly usage stays at zero, and the runs and costs still list every run, marked offline.
func TestOfflineRunsSpendNothing(t *testing.T) {
	eachDatabase(t, func(t *testing.T, database string) {
		h := newHarness(t, database, harnessConfig{limits: func(l *Limits) {
			l.UserMonthlyTokens, l.UserMonthlyCostMicros, l.GateTokenBudget, l.GateCostBudgetMicros = 1, 1, 1, 1
		}})
		pid := h.newProject("Recipes")
		runs := h.journey(pid)
		if p, _ := h.projects.Project(context.Background(), pid); !p.Completed {
			t.Fatal("the project is not complete")
		}

		ctx := authn.NewContext(context.Background(), authn.Identity{UserID: owner})
		hd := &Handler{Service: h.s}
		usage, err := hd.GetUsage(ctx, &pb.GetUsageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if u := usage.GetUsed(); u.GetInputTokens() != 0 || u.GetOutputTokens() != 0 || u.GetCostMicros() != 0 || u.GetCostUsd() != "$0.00" ||
			u.GetRuns() != int32(runs) || u.GetOfflineRuns() != int32(runs) {
			t.Fatalf("monthly usage after an offline journey of %d runs: %+v", runs, u)
		}
		list, err := hd.ListRuns(ctx, &pb.ListRunsRequest{ProjectId: pid, PageSize: 100})
		if err != nil || len(list.GetRuns()) != runs {
			t.Fatalf("runs listed: %d, want %d (%v)", len(list.GetRuns()), runs, err)
		}
		for _, r := range list.GetRuns() {
			if u := r.GetUsage(); r.GetState() != pb.RunState_RUN_STATE_SUCCEEDED || r.GetModel() != "offline" ||
				u.GetInputTokens() != 0 || u.GetOutputTokens() != 0 || u.GetCostMicros() != 0 || u.GetOfflineRuns() != 1 {
				t.Fatalf("run %s (%s at G%d): %v, usage %+v", r.GetId(), r.GetRole(), r.GetGate(), r.GetState(), u)
			}
		}
		costs, err := hd.GetProjectCosts(ctx, &pb.GetProjectCostsRequest{ProjectId: pid})
		if err != nil {
			t.Fatal(err)
		}
		if c := costs.GetTotal(); c.GetRuns() != int32(runs) || c.GetOfflineRuns() != int32(runs) || c.GetInputTokens() != 0 ||
			c.GetCostMicros() != 0 || len(costs.GetGates()) != 9 {
			t.Fatalf("project costs: %+v, %d gates", c, len(costs.GetGates()))
		}
		for _, g := range costs.GetGates() {
			if g.GetCost().GetOfflineRuns() != g.GetCost().GetRuns() || g.GetCost().GetRuns() == 0 {
				t.Fatalf("G%d's cost: %+v", g.GetGate(), g.GetCost())
			}
		}
		// One model answered every run: the offline provider.
		if m := costs.GetModels(); len(m) != 1 || m[0].GetModel() != "offline" || m[0].GetCost().GetRuns() != int32(runs) ||
			m[0].GetCost().GetOfflineRuns() != int32(runs) || m[0].GetCost().GetCostMicros() != 0 {
			t.Fatalf("project costs per model: %+v", m)
		}
	})
}
