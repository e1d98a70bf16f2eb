import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { apiError, fakeApi, renderWithProviders } from "../../../test/render";
import type { Role } from "../../../shared/labels";
import type { NextAction } from "./data";
import { NextStep } from "./NextStep";
import { nextStep, PID, run } from "./testing";

const BASE = `/api/v1/projects/${PID}`;

function show(step: NextAction, role: Role = "ROLE_OWNER", api = fakeApi()) {
  const onRunStarted = vi.fn();
  renderWithProviders(
    <NextStep
      projectId={PID}
      projectName="Recipes"
      description="A web app for recipes."
      role={role}
      step={step}
      gateName={{ 1: "Scope", 3: "Architecture", 5: "Development", 7: "Security" }[step.gate]}
      activeRuns={[run(), run({ id: "run2", role: "AGENT_ROLE_ARCHITECT", state: "RUN_STATE_QUEUED" })]}
      onRunStarted={onRunStarted}
    />,
    { api },
  );
  return { api, onRunStarted, panel: screen.getByRole("region", { name: "What needs me now" }) };
}

describe("what needs me now", () => {
  it("starts the work with the project's description, which the person may change", async () => {
    const api = fakeApi({ [`POST ${BASE}:startWork`]: () => ({ run: run({ id: "intake" }) }) });
    const { onRunStarted, panel } = show(nextStep("NEXT_ACTION_KIND_START_WORK"), "ROLE_EDITOR", api);
    const description = within(panel).getByRole("textbox", { name: "Describe what you want to build" });
    expect((description as HTMLTextAreaElement).value).toBe("A web app for recipes.");
    await userEvent.type(description, " With meal plans.");
    await userEvent.click(within(panel).getByRole("button", { name: "Start work" }));
    await waitFor(() => expect(onRunStarted).toHaveBeenCalledWith("intake"));
    expect(api.calls(`POST ${BASE}:startWork`)[0]?.body).toEqual({
      description: "A web app for recipes. With meal plans.",
    });
  });

  it.each([
    ["NEXT_ACTION_KIND_START_GATE", "Start G3 Architecture", `POST ${BASE}/gates/3:start`],
    ["NEXT_ACTION_KIND_SUBMIT_GATE", "Submit G3 Architecture for review", `POST ${BASE}/gates/3:submit`],
  ] as const)("%s: a button that does it", async (kind, name, route) => {
    const api = fakeApi({ [route]: () => ({ gate: {} }) });
    const { panel } = show(nextStep(kind, { gate: 3 }), "ROLE_EDITOR", api);
    await userEvent.click(within(panel).getByRole("button", { name }));
    await waitFor(() => expect(api.calls(route)).toHaveLength(1));
    expect(api.calls(route)[0]?.body).toEqual({});
  });

  it("sends the owner to the review; others wait for it", async () => {
    const { panel } = show(nextStep("NEXT_ACTION_KIND_REVIEW_GATE", { gate: 3 }));
    await userEvent.click(within(panel).getByRole("button", { name: "Review G3" }));
    expect(screen.getByTestId("location").textContent).toBe(`/projects/${PID}/gates/3/review`);
  });

  it("tells an editor the owner reviews", () => {
    const { panel } = show(nextStep("NEXT_ACTION_KIND_REVIEW_GATE", { gate: 3 }), "ROLE_EDITOR");
    expect(within(panel).queryByRole("link")).toBeNull();
    expect(within(panel).getByText(/Waiting for the owner's review of G3 Architecture/)).toBeDefined();
  });

  it("records the proofs the gate waits for: only the missing types, with result and summary", async () => {
    const api = fakeApi({
      [`POST ${BASE}/gates/5/proofs`]: ({ body }) => ({
        proof: { ...(body as object), id: "pr1", attested: true },
      }),
    });
    const step = nextStep("NEXT_ACTION_KIND_RECORD_PROOFS", {
      gate: 5,
      missingProofs: ["PROOF_TYPE_BUILD", "PROOF_TYPE_LINT"],
    });
    const { panel } = show(step, "ROLE_EDITOR", api);
    const type = within(panel).getByRole("combobox", { name: "Proof type" });
    expect(
      within(type)
        .getAllByRole("option")
        .map((o) => o.textContent),
    ).toEqual(["build", "lint"]);
    const record = within(panel).getByRole("button", { name: "Record proof" });

    // A summary is required: nothing is sent without one.
    await userEvent.click(record);
    expect(within(panel).getByText("Say what was checked and how it went.")).toBeDefined();
    expect(api.calls(`POST ${BASE}/gates/5/proofs`)).toHaveLength(0);

    await userEvent.selectOptions(type, "lint");
    await userEvent.selectOptions(within(panel).getByRole("combobox", { name: "Result" }), "Warning");
    await userEvent.type(
      within(panel).getByRole("textbox", { name: "Summary" }),
      "  golangci-lint: 2 warnings ",
    );
    await userEvent.click(record);
    await waitFor(() => expect(api.calls(`POST ${BASE}/gates/5/proofs`)).toHaveLength(1));
    expect(api.calls(`POST ${BASE}/gates/5/proofs`)[0]?.body).toEqual({
      type: "PROOF_TYPE_LINT",
      result: "PROOF_RESULT_WARNING",
      summary: "golangci-lint: 2 warnings",
    });
    expect(await within(panel).findByText("Recorded: lint did not pass.")).toBeDefined();
  });

  it("shows the server's complaint about a proof next to its field", async () => {
    const api = fakeApi({
      [`POST ${BASE}/gates/5/proofs`]: () =>
        apiError(400, "INVALID_ARGUMENT", "invalid request: check summary", {
          fields: [{ field: "summary", description: "is too long" }],
        }),
    });
    const step = nextStep("NEXT_ACTION_KIND_RECORD_PROOFS", { gate: 5, missingProofs: ["PROOF_TYPE_BUILD"] });
    const { panel } = show(step, "ROLE_OWNER", api);
    await userEvent.type(within(panel).getByRole("textbox", { name: "Summary" }), "go build ok");
    await userEvent.click(within(panel).getByRole("button", { name: "Record proof" }));
    const summary = within(panel).getByRole("textbox", { name: "Summary" });
    await waitFor(() => expect(summary.getAttribute("aria-invalid")).toBe("true"));
    expect(within(panel).getAllByText(/is too long/).length).toBeGreaterThan(0);
  });

  it("shows why a gate is blocked, and the owner unblocks it", async () => {
    const api = fakeApi({ [`POST ${BASE}/gates/7:unblock`]: () => ({ gate: {} }) });
    const step = nextStep("NEXT_ACTION_KIND_UNBLOCK_GATE", {
      gate: 7,
      blockedReason: "The scanner is down.",
    });
    const { panel } = show(step, "ROLE_OWNER", api);
    expect(within(panel).getByText("The scanner is down.")).toBeDefined();
    await userEvent.click(within(panel).getByRole("button", { name: "Unblock G7" }));
    await waitFor(() => expect(api.calls(`POST ${BASE}/gates/7:unblock`)[0]?.body).toEqual({}));
  });

  it("an editor sees the block's reason but cannot unblock", () => {
    const step = nextStep("NEXT_ACTION_KIND_UNBLOCK_GATE", {
      gate: 7,
      blockedReason: "The scanner is down.",
    });
    const { panel } = show(step, "ROLE_EDITOR");
    expect(within(panel).getByText("The scanner is down.")).toBeDefined();
    expect(within(panel).queryByRole("button")).toBeNull();
  });

  it("says the agents are working, and which", () => {
    const { panel } = show(nextStep("NEXT_ACTION_KIND_WAIT_FOR_AGENTS"));
    expect(within(panel).getByText("Agents are working")).toBeDefined();
    expect(within(panel).getByText("product manager: writing")).toBeDefined();
    expect(within(panel).getByText("architect: queued")).toBeDefined();
  });

  it("says the project is completed, with the ZIP a click away and the other ways to export", () => {
    const { panel } = show(nextStep("NEXT_ACTION_KIND_PROJECT_COMPLETE", { gate: 9 }));
    expect(within(panel).getByText("Project completed.")).toBeDefined();
    expect(within(panel).getByRole("button", { name: "Download ZIP" })).toBeDefined();
    expect(
      within(panel).getByRole("link", { name: "More ways to export (tar.gz, git)" }).getAttribute("href"),
    ).toBe(`/projects/${PID}/export`);
  });

  it.each([
    "NEXT_ACTION_KIND_START_WORK",
    "NEXT_ACTION_KIND_START_GATE",
    "NEXT_ACTION_KIND_SUBMIT_GATE",
    "NEXT_ACTION_KIND_REVIEW_GATE",
    "NEXT_ACTION_KIND_RECORD_PROOFS",
    "NEXT_ACTION_KIND_UNBLOCK_GATE",
  ] as const)("a viewer reads %s but gets no control", (kind) => {
    const step = nextStep(kind, { gate: 5, missingProofs: ["PROOF_TYPE_BUILD"], blockedReason: "down" });
    const { panel } = show(step, "ROLE_VIEWER");
    expect(within(panel).getByText(step.summary)).toBeDefined();
    expect(within(panel).queryByRole("button")).toBeNull();
    expect(within(panel).queryByRole("link")).toBeNull();
    expect(within(panel).queryByRole("textbox")).toBeNull();
  });
});
