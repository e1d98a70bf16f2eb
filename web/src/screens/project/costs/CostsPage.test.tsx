import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../../../api/client";
import { InProject, testWorkflow } from "../../../test/project";
import { fakeApi, renderWithProviders } from "../../../test/render";
import { Component as CostsPage } from "./CostsPage";

function cost(over: Partial<Schemas["Cost"]> = {}): Schemas["Cost"] {
  return {
    inputTokens: "0",
    outputTokens: "0",
    costMicros: "0",
    costUsd: "$0.00",
    runs: 0,
    unpricedRuns: 0,
    offlineRuns: 0,
    ...over,
  };
}

function render(usage: Partial<Schemas["GetUsageResponse"]>) {
  const g1 = cost({ inputTokens: "1000", outputTokens: "500", costMicros: "12000", runs: 1 });
  const g3 = cost({ runs: 2, offlineRuns: 2 });
  const api = fakeApi({
    "GET /api/v1/projects/p1/costs": () => ({
      total: cost({ inputTokens: "1000", outputTokens: "500", costMicros: "12000", runs: 3, offlineRuns: 2 }),
      gates: [
        { gate: 3, cost: g3 },
        { gate: 1, cost: g1 },
      ],
      roles: [
        { role: "AGENT_ROLE_PRODUCT_MANAGER", cost: g1 },
        { role: "AGENT_ROLE_ARCHITECT", cost: g3 },
      ],
      models: [
        { model: "claude-sonnet-4-5-20250929", cost: g1 },
        { model: "offline", cost: g3 },
      ],
    }),
    "GET /api/v1/usage": () => ({
      monthStart: "2025-01-01T00:00:00Z",
      monthEnd: "2025-02-01T00:00:00Z",
      used: cost({ inputTokens: "150000", outputTokens: "50000", costMicros: "2500000", runs: 4 }),
      tokenBudget: "0",
      costBudgetMicros: "10000000",
      ...usage,
    }),
    "GET /api/v1/workflows/PROJECT_TYPE_TRADITIONAL": () => testWorkflow,
  });
  renderWithProviders(
    <InProject role="ROLE_VIEWER">
      <CostsPage />
    </InProject>,
    { api },
  );
}

describe("CostsPage", () => {
  it("shows the costs per gate, role and model, with the total, and why offline runs cost nothing", async () => {
    render({});
    const byGate = await screen.findByRole("table", { name: "By gate" });
    const rows = within(byGate).getAllByRole("row");
    expect(rows[1]?.textContent).toContain("G1 Scope");
    expect(rows[1]?.textContent).toContain("1,000");
    expect(rows[1]?.textContent).toContain("$0.012");
    expect(rows[2]?.textContent).toContain("G3 Architecture");
    expect(rows.at(-1)?.textContent).toContain("Total");
    expect(within(screen.getByRole("table", { name: "By role" })).getByText("architect")).toBeTruthy();
    const byModel = within(screen.getByRole("table", { name: "By model" })).getAllByRole("row");
    expect(byModel[0]?.textContent).toContain("Model");
    expect(byModel[1]?.textContent).toContain("claude-sonnet-4-5-20250929");
    expect(byModel[1]?.textContent).toContain("$0.012");
    expect(byModel[2]?.textContent).toContain("offline provider (no model)");
    // Runs, offline runs, tokens in, tokens out, cost.
    expect(
      within(byModel[2]!)
        .getAllByRole("cell")
        .map((c) => c.textContent),
    ).toEqual(["2", "2", "0", "0", "$0.00"]);
    expect(byModel.at(-1)?.textContent).toContain("Total");
    expect(screen.getByText(/2 runs were answered by the offline provider/)).toBeTruthy();
  });

  it("shows the month against the budget in a bar and in words; no budget says so", async () => {
    render({});
    const bar = await screen.findByRole("progressbar", { name: "Cost used this month" });
    expect(bar.getAttribute("aria-valuetext")).toBe("$2.50 of $10.00 (25%)");
    expect(screen.getByText("$2.50 of $10.00 (25%)")).toBeTruthy();
    expect(screen.getByText(/200,000 tokens used, no budget/)).toBeTruthy();
    expect(screen.queryByRole("progressbar", { name: "Tokens used this month" })).toBeNull();
  });

  it("says when the budget is spent", async () => {
    render({ tokenBudget: "100000" });
    expect(
      await screen.findByText(/200,000 tokens of 100,000 tokens \(200%\): the budget is spent/),
    ).toBeTruthy();
  });
});
