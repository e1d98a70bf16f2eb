import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { apiError, testUser } from "../../../test/render";
import { Component as OverviewPage } from "./OverviewPage";
import {
  deliverable,
  gate,
  members,
  nextStep,
  PID,
  project,
  projectApi,
  renderProjectPage,
  review,
  status,
} from "./testing";

const gates = [
  gate(1, {
    state: "GATE_STATE_APPROVED",
    reviews: [
      review({ id: "r0", decision: "GATE_STATE_CHANGES_REQUESTED", createTime: "2026-12-06T09:00:00Z" }),
      review({ id: "r1", createTime: "2026-12-06T10:00:00Z", revision: 1 }),
    ],
  }),
  gate(2, {
    state: "GATE_STATE_APPROVED",
    reviews: [review({ id: "r2", gate: 2, reviewerId: "u-bob", createTime: "2026-12-06T11:00:00Z" })],
  }),
  gate(3, {
    state: "GATE_STATE_IN_PROGRESS",
    deliverables: [
      deliverable("doc-arch", 2, { documentType: "DOCUMENT_TYPE_ARCHITECTURE" }),
      deliverable("", 0, { documentType: "DOCUMENT_TYPE_API_SPEC", complete: false }),
    ],
    missingDeliverables: ["DOCUMENT_TYPE_API_SPEC"],
    missingProofs: ["PROOF_TYPE_SPEC_VALIDATION"],
  }),
];

function api(
  memberList: ReturnType<typeof members> | null = members(
    [testUser.id, "Ann", "ROLE_OWNER"],
    ["u-bob", "Bob"],
  ),
) {
  const a = projectApi({
    gates,
    status: status(nextStep("NEXT_ACTION_KIND_PRODUCE_DELIVERABLES", { gate: 3 }), { percentComplete: 22 }),
    ...(memberList ? { members: memberList } : {}),
  });
  if (memberList === null) {
    a.on(`GET /api/v1/projects/${PID}/members`, () => apiError(403, "PERMISSION_DENIED", "no"));
  }
  return a;
}

describe("the gate flow", () => {
  it("names the nine gates with phase and state in their text, marks the current one, and says who approved", async () => {
    await renderProjectPage(<OverviewPage />, { api: api(), project: project({ currentGate: 3 }) });
    const flow = await screen.findByRole("list", { name: "Gates" });
    const buttons = within(flow).getAllByRole("button");
    expect(buttons.map((b) => b.textContent?.split(",")[0])).toEqual([
      "G1 Scope",
      "G2 PRD",
      "G3 Architecture",
      "G4 Design",
      "G5 Development",
      "G6 Testing",
      "G7 Security",
      "G8 Staging",
      "G9 Production",
    ]);
    const g1 = within(flow).getByRole("button", { name: /^G1 Scope/ });
    expect(g1.textContent).toContain("intake phase");
    expect(g1.textContent).toContain("approved");
    await waitFor(() => expect(g1.textContent).toContain("by Ann (you)"));
    expect(within(g1).getByRole("time").getAttribute("datetime")).toBe("2026-12-06T10:00:00Z");
    expect(within(flow).getByRole("button", { name: /^G2 PRD/ }).textContent).toContain("by Bob");

    const g3 = within(flow).getByRole("button", {
      name: /^G3 Architecture, architecture phase, in progress/,
    });
    expect(g3.getAttribute("aria-current")).toBe("step");
    expect(buttons.filter((b) => b.getAttribute("aria-current") === "step")).toEqual([g3]);
    expect(within(flow).getByRole("button", { name: /^G4 Design/ }).textContent).toContain("not started");
    expect(screen.getByText("22% complete")).toBeDefined();
  });

  it("shows the current gate's details, and another gate's when it is selected", async () => {
    await renderProjectPage(<OverviewPage />, { api: api(), project: project({ currentGate: 3 }) });
    const details = await screen.findByRole("region", { name: /^G3 Architecture/ });
    const table = within(details).getByRole("table", { name: "Deliverables of G3 Architecture" });
    expect(within(table).getByRole("link", { name: "architecture v2" }).getAttribute("href")).toBe(
      `/projects/${PID}/documents/doc-arch`,
    );
    expect(within(table).getByText("missing")).toBeDefined();
    expect(within(details).getByText(/a complete api spec document/)).toBeDefined();
    expect(within(details).getByText(/a passing spec validation proof/)).toBeDefined();

    await userEvent.click(screen.getByRole("button", { name: /^G1 Scope/ }));
    expect(screen.getByRole("button", { name: /^G1 Scope/ }).getAttribute("aria-pressed")).toBe("true");
    const g1 = screen.getByRole("region", { name: /^G1 Scope/ });
    expect(within(g1).getByRole("article", { name: "Approved by Ann (you)" })).toBeDefined();
    expect(within(g1).getByRole("article", { name: "Changes requested by Ann (you)" })).toBeDefined();
    expect(screen.getByRole("region", { name: "Agent work at G1 Scope" })).toBeDefined();
    expect(screen.getByTestId("location").textContent).toBe(`/projects/${PID}?gate=1`);

    await userEvent.click(screen.getByRole("button", { name: /^G5 Development/ }));
    const g5 = screen.getByRole("region", { name: /^G5 Development/ });
    expect(within(g5).getByText(/Not started yet/)).toBeDefined();
    expect(within(g5).getByText("a passing build proof")).toBeDefined();
  });

  it("says “you” for the signed-in user when the members cannot be listed", async () => {
    await renderProjectPage(<OverviewPage />, { api: api(null), project: project({ currentGate: 3 }) });
    const g1 = await screen.findByRole("button", { name: /^G1 Scope/ });
    expect(g1.textContent).toContain("by you,");
    expect(screen.getByRole("button", { name: /^G2 PRD/ }).textContent).toContain("by a former member");
  });
});
