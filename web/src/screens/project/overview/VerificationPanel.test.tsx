import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../../../api/client";
import { apiError, fakeApi, renderWithProviders, type FakeApi } from "../../../test/render";
import type { Gate } from "./data";
import { gate, PID, verification } from "./testing";
import { VerificationPanel } from "./VerificationPanel";

const BASE = `/api/v1/projects/${PID}`;

const failed = verification({
  id: "ver2",
  state: "VERIFICATION_STATE_FAILED",
  repair: 1,
  error: "lint: backend/main.go:3: unused import",
  steps: [
    {
      proofType: "PROOF_TYPE_BUILD",
      passed: true,
      summary: "go build ./... passed",
      command: "go build ./...",
      exitCode: 0,
      durationMs: "3000",
      artifactIds: ["log-build"],
    },
    {
      proofType: "PROOF_TYPE_LINT",
      passed: false,
      summary: "1 issue: unused import",
      command: "cd backend && go vet ./...",
      exitCode: 1,
      durationMs: "1500",
      artifactIds: ["log-lint"],
    },
  ],
});
const older = verification({ id: "ver1", state: "VERIFICATION_STATE_FAILED", error: "older failure" });

function server(verifications: Schemas["Verification"][] = [failed, older]): FakeApi & {
  list: { verifications: Schemas["Verification"][] };
} {
  const list = { verifications };
  const api = fakeApi({
    [`GET ${BASE}/verifications`]: () => ({ verifications: list.verifications }),
    [`GET ${BASE}/artifacts/log-lint`]: () => ({
      artifact: { id: "log-lint", kind: "log", mediaType: "text/plain; charset=utf-8", sizeBytes: "20" },
      content: btoa("main.go:3: unused import"),
    }),
  });
  return Object.assign(api, { list });
}

/** Waits until the latest verification's state reads state. */
async function stateIs(panel: HTMLElement, state: string) {
  await waitFor(() => expect(panel.querySelector(".verification-state .badge")?.textContent).toBe(state));
}

function show(api: FakeApi, editable = true, g: Gate = gate(5, { state: "GATE_STATE_IN_PROGRESS" })) {
  renderWithProviders(<VerificationPanel gate={g} title="G5 Development" editable={editable} />, { api });
  return screen.getByRole("region", { name: "Verification" });
}

describe("a code gate's verification", () => {
  it("shows the latest one: its state, repairs, error and failed steps with their logs", async () => {
    const user = userEvent.setup();
    const api = server();
    const panel = show(api);
    await stateIs(panel, "failed");
    expect(api.calls(`GET ${BASE}/verifications`)[0]?.query.get("gate")).toBe("5");
    expect(panel.textContent).toContain("after 1 repair");
    expect(
      within(panel).getByText(/Sent to the developers: lint: backend\/main.go:3: unused import/),
    ).toBeDefined();
    expect(within(panel).queryByText(/older failure/)).toBeNull();
    const steps = within(panel).getAllByRole("listitem");
    expect(steps.map((s) => s.textContent?.split(" (")[0])).toEqual([
      "build passed go build ./... passed",
      "lint failed 1 issue: unused import",
    ]);
    expect(within(steps[1]!).getByText("cd backend && go vet ./...")).toBeDefined();
    // The log of a failed step, on demand; a passed step offers none.
    expect(within(steps[0]!).queryByRole("button")).toBeNull();
    await user.click(within(steps[1]!).getByRole("button", { name: "View log of the lint step" }));
    expect((await within(panel).findByRole("region", { name: "Log of the lint step" })).textContent).toBe(
      "main.go:3: unused import",
    );
    expect(
      within(panel).getByRole("link", { name: "The code G5 Development holds" }).getAttribute("href"),
    ).toBe(`/projects/${PID}/code?gate=5`);
  });

  it("lets an editor verify again, and follows the new one while it runs until it ends", async () => {
    const user = userEvent.setup();
    const api = server();
    const queued = verification({ id: "ver3", state: "VERIFICATION_STATE_QUEUED", endTime: null, steps: [] });
    api.on(`POST ${BASE}/gates/5:verify`, () => {
      api.list.verifications = [{ ...queued, state: "VERIFICATION_STATE_RUNNING" }, failed, older];
      return { verification: queued };
    });
    const panel = show(api);
    await user.click(await within(panel).findByRole("button", { name: "Verify again" }));
    expect(api.calls(`POST ${BASE}/gates/5:verify`)[0]?.body).toEqual({});
    await stateIs(panel, "queued");
    // One at a time: the button waits for it to end.
    expect(within(panel).getByRole("button", { name: "Verify again" })).toHaveProperty("disabled", true);

    // Read again while it is under way (every 2 s).
    await stateIs(panel, "running");
    api.list.verifications = [{ ...queued, state: "VERIFICATION_STATE_PASSED" }, failed, older];
    await stateIs(panel, "passed");
    expect(within(panel).getByRole("button", { name: "Verify again" })).toHaveProperty("disabled", false);
  });

  it("shows the server's refusal", async () => {
    const user = userEvent.setup();
    const api = server([]);
    api.on(`POST ${BASE}/gates/5:verify`, () =>
      apiError(
        400,
        "FAILED_PRECONDITION",
        "G5 requires no proof verification produces (build, lint, unit tests, coverage)",
      ),
    );
    const panel = show(api);
    expect(await within(panel).findByText(/No verification of G5 Development yet/)).toBeDefined();
    await user.click(within(panel).getByRole("button", { name: "Verify now" }));
    await waitFor(() =>
      expect(within(panel).getByRole("alert").textContent).toBe(
        "The verification did not start: G5 requires no proof verification produces (build, lint, unit tests, coverage)",
      ),
    );
  });

  it("gives viewers the verification but no button", async () => {
    const panel = show(server(), false);
    await stateIs(panel, "failed");
    expect(within(panel).queryByRole("button", { name: /Verify/ })).toBeNull();
  });

  it("offers no verification of a gate in review", async () => {
    const panel = show(server(), true, gate(5, { state: "GATE_STATE_IN_REVIEW" }));
    await stateIs(panel, "failed");
    expect(within(panel).queryByRole("button", { name: /Verify/ })).toBeNull();
  });
});
