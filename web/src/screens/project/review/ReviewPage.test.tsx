import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../../../api/client";
import { apiError, testUser, type FakeApi } from "../../../test/render";
import type { Gate } from "../overview/data";
import {
  deliverable,
  gate,
  members,
  PID,
  project,
  projectApi,
  proof,
  proofRun,
  renderProjectPage,
  review,
  run,
  verification,
} from "../overview/testing";
import { Component as ReviewPage } from "./ReviewPage";
import { diffBase } from "./documents";

const BASE = `/api/v1/projects/${PID}`;
const PATH = "/projects/:projectId/gates/:gate/review";

/** G2 in review at revision 2: the PRD was seen at v1 and v2 by earlier reviews and is now v4. */
function inReview(): Gate {
  return gate(2, {
    state: "GATE_STATE_IN_REVIEW",
    revision: 2,
    deliverables: [
      deliverable("doc-prd", 4, { documentType: "DOCUMENT_TYPE_REQUIREMENTS", revision: 2 }),
      deliverable("doc-stories", 1, { documentType: "DOCUMENT_TYPE_USER_STORY", revision: 2 }),
    ],
    proofs: [
      proof("pr-old", "PROOF_TYPE_MANUAL_VERIFICATION", { revision: 1, summary: "old check" }),
      proof("pr-1", "PROOF_TYPE_MANUAL_VERIFICATION", {
        producedBy: "u-bob",
        summary: "Walked through every story.",
      }),
      proof("pr-2", "PROOF_TYPE_SPEC_VALIDATION", {
        attested: false,
        producedBy: "agents",
        summary: "OpenAPI 3.0.3 is valid (kin-openapi)",
      }),
    ],
    reviews: [
      review({
        id: "r-a",
        gate: 2,
        decision: "GATE_STATE_CHANGES_REQUESTED",
        notes: "Add offline mode.",
        reviewerId: "u-carol",
        createTime: "2026-12-06T09:00:00Z",
        reviewedDeliverables: [deliverable("doc-prd", 1)],
      }),
      review({
        id: "r-b",
        gate: 2,
        revision: 1,
        decision: "GATE_STATE_CHANGES_REQUESTED",
        notes: "Name the sharing rules.",
        reviewerId: "u-bob",
        createTime: "2026-12-06T12:00:00Z",
        reviewedDeliverables: [deliverable("doc-prd", 2)],
      }),
    ],
  });
}

function api(g: Gate = inReview()): FakeApi {
  const a = projectApi({
    gates: [gate(1, { state: "GATE_STATE_APPROVED" }), g],
    members: members([testUser.id, "Ann", "ROLE_OWNER"], ["u-bob", "Bob"]),
    runs: [
      run({
        gate: 2,
        state: "RUN_STATE_SUCCEEDED",
        documents: [
          {
            documentId: "doc-prd",
            documentType: "DOCUMENT_TYPE_REQUIREMENTS",
            title: "Product Requirements",
            version: 4,
          },
        ],
      }),
    ],
  });
  for (const v of [1, 2, 3, 4]) {
    a.on(`GET ${BASE}/documents/doc-prd/versions/${v}`, () => ({
      version: { documentId: "doc-prd", version: v },
      content: `# PRD\n\nversion ${v} text\n`,
    }));
  }
  a.on(`GET ${BASE}/documents/doc-prd:render`, ({ query }) => ({
    version: Number(query.get("version")),
    contentHash: "sha256:x",
    html: `<h1>PRD rendered v${query.get("version")}</h1><p>Body</p><script>window.hacked = true</script>`,
  }));
  a.on(`GET ${BASE}/documents/doc-stories:render`, () => ({
    version: 1,
    contentHash: "sha256:y",
    html: "<p>Stories</p>",
  }));
  return a;
}

async function open(a: FakeApi, role: Schemas["Role"] = "ROLE_OWNER", number = 2) {
  await renderProjectPage(<ReviewPage />, {
    api: a,
    project: project({ role, currentGate: 2 }),
    route: `/projects/${PID}/gates/${number}/review`,
    path: PATH,
  });
  return screen.findByRole("region", { name: new RegExp(`^Review G${number}`) });
}

describe("the review of a gate", () => {
  it("shows each deliverable rendered, with its changes since the version the previous review saw", async () => {
    const a = api();
    const page = await open(a);
    const prd = await within(page).findByRole("article", { name: "Product Requirements v4" });
    expect(await within(prd).findByRole("heading", { name: "PRD rendered v4" })).toBeDefined();
    // The document's own h1 sits under the page's headings; its script is gone.
    expect(within(prd).getByRole("heading", { name: "PRD rendered v4" }).tagName).toBe("H5");
    expect(prd.querySelector("script")).toBeNull();
    // Compared with v2, seen at the latest review — not v3, the version before.
    const diff = await within(prd).findByRole("region", { name: "Changes from v2 to v4" });
    expect(within(diff).getByText("version 2 text")).toBeDefined();
    expect(within(diff).getByText("version 4 text")).toBeDefined();
    expect(a.calls(`GET ${BASE}/documents/doc-prd/versions/3`)).toHaveLength(0);
    expect(within(prd).getByText(/Changes since v2, seen at the previous review/)).toBeDefined();

    const stories = within(page).getByRole("article", { name: "user story v1" });
    expect(within(stories).getByText(/The first version: nothing earlier to compare it with/)).toBeDefined();
  });

  it("lists the proofs that count, with who produced them and their summaries", async () => {
    const page = await open(api());
    await waitFor(() => expect(within(page).getByText(/attested by Bob/)).toBeDefined());
    expect(within(page).getByText("Walked through every story.")).toBeDefined();
    expect(within(page).getByText(/produced by FuzzyLlama/)).toBeDefined();
    expect(within(page).getByText("OpenAPI 3.0.3 is valid (kin-openapi)")).toBeDefined();
    expect(within(page).queryByText("old check")).toBeNull();
  });

  it("shows how FuzzyLlama's proofs of a code gate ran, and its latest verification", async () => {
    const g5 = gate(5, {
      state: "GATE_STATE_IN_REVIEW",
      revision: 2,
      proofs: [
        proof("pr-build", "PROOF_TYPE_BUILD", {
          attested: false,
          producedBy: "agents",
          summary: "go build ./... passed",
          run: proofRun(),
        }),
      ],
    });
    const a = api(g5);
    a.on(`GET ${BASE}/verifications`, () => ({
      verifications: [verification({ revision: 2, state: "VERIFICATION_STATE_PASSED" })],
    }));
    const page = await open(a, "ROLE_OWNER", 5);
    expect(await within(page).findByText(/produced by FuzzyLlama/)).toBeDefined();
    expect(within(page).getByText("cd backend && go build ./...")).toBeDefined();
    expect(within(page).getByRole("button", { name: "View log of the build proof" })).toBeDefined();
    const panel = within(page).getByRole("region", { name: "Verification" });
    await waitFor(() => expect(panel.textContent).toMatch(/^Verificationpassed revision 2/));
    // A gate in review is not verified again: the button is the open gate's.
    expect(within(panel).queryByRole("button", { name: /Verify/ })).toBeNull();
  });

  it("approves with optional notes, then shows the review record with the approved versions' hashes", async () => {
    const a = api();
    const approved: Gate = {
      ...inReview(),
      state: "GATE_STATE_APPROVED",
      reviews: [
        ...inReview().reviews,
        review({
          id: "r-c",
          gate: 2,
          revision: 2,
          createTime: "2026-12-07T09:00:00Z",
          reviewedDeliverables: inReview().deliverables,
        }),
      ],
    };
    a.on(`POST ${BASE}/gates/2:approve`, () => ({ gate: approved, nextGate: gate(3), project: project() }));
    const page = await open(a);
    await userEvent.click(await within(page).findByRole("button", { name: "Approve" }));
    await waitFor(() => expect(a.calls(`POST ${BASE}/gates/2:approve`)).toHaveLength(1));
    expect(a.calls(`POST ${BASE}/gates/2:approve`)[0]?.body).toEqual({});

    expect(await within(page).findByText("You approved G2 PRD.")).toBeDefined();
    const record = within(page).getByRole("article", { name: "Approved by Ann (you)" });
    expect(within(record).getByText("sha256:doc-prd-v4")).toBeDefined();
    expect(within(record).getByText("sha256:doc-stories-v1")).toBeDefined();
    expect(within(record).getByRole("heading", { name: "Approved versions" })).toBeDefined();
    expect(within(page).queryByRole("button", { name: "Approve" })).toBeNull();
    // The earlier reviews stay listed.
    expect(within(page).getByRole("article", { name: "Changes requested by Bob" })).toBeDefined();
  });

  it("sends the notes with an approval when there are some", async () => {
    const a = api();
    a.on(`POST ${BASE}/gates/2:approve`, () => ({ gate: inReview(), nextGate: null, project: project() }));
    const page = await open(a);
    await userEvent.type(await within(page).findByRole("textbox", { name: "Notes" }), "Looks right.");
    await userEvent.click(within(page).getByRole("button", { name: "Approve" }));
    await waitFor(() =>
      expect(a.calls(`POST ${BASE}/gates/2:approve`)[0]?.body).toEqual({ notes: "Looks right." }),
    );
  });

  it("refuses a request for changes without notes before asking the server, and shows the server's field error", async () => {
    const a = api();
    a.on(`POST ${BASE}/gates/2:request-changes`, () =>
      apiError(400, "INVALID_ARGUMENT", "invalid request: check notes", {
        fields: [{ field: "notes", description: "is required" }],
      }),
    );
    const page = await open(a);
    const notes = await within(page).findByRole("textbox", { name: "Notes" });
    await userEvent.type(notes, "   ");
    await userEvent.click(within(page).getByRole("button", { name: "Request changes" }));
    expect(within(page).getByText(/Notes are required to request changes/)).toBeDefined();
    expect(notes.getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(notes);
    expect(a.calls(`POST ${BASE}/gates/2:request-changes`)).toHaveLength(0);

    await userEvent.type(notes, "x");
    await userEvent.click(within(page).getByRole("button", { name: "Request changes" }));
    await waitFor(() => expect(a.calls(`POST ${BASE}/gates/2:request-changes`)).toHaveLength(1));
    expect(a.calls(`POST ${BASE}/gates/2:request-changes`)[0]?.body).toEqual({ notes: "x" });
    expect(await within(page).findAllByText(/is required/)).not.toHaveLength(0);
  });

  it("records a request for changes and shows it", async () => {
    const a = api();
    const changed: Gate = {
      ...inReview(),
      state: "GATE_STATE_CHANGES_REQUESTED",
      revision: 3,
      reviews: [
        ...inReview().reviews,
        review({
          id: "r-c",
          gate: 2,
          revision: 2,
          decision: "GATE_STATE_CHANGES_REQUESTED",
          notes: "Cover account deletion.",
          createTime: "2026-12-07T09:00:00Z",
          reviewedDeliverables: inReview().deliverables,
        }),
      ],
    };
    a.on(`POST ${BASE}/gates/2:request-changes`, () => ({ gate: changed }));
    const page = await open(a);
    await userEvent.type(
      await within(page).findByRole("textbox", { name: "Notes" }),
      "Cover account deletion.",
    );
    await userEvent.click(within(page).getByRole("button", { name: "Request changes" }));
    expect(await within(page).findByText(/You requested changes to G2 PRD/)).toBeDefined();
    const record = within(page).getByRole("article", { name: "Changes requested by Ann (you)" });
    expect(within(record).getByText("Cover account deletion.")).toBeDefined();
    expect(within(record).getByRole("heading", { name: "Versions reviewed" })).toBeDefined();
  });

  it("gives others than the owner no decision controls", async () => {
    const page = await open(api(), "ROLE_EDITOR");
    expect(await within(page).findByText(/Only the owner approves or requests changes/)).toBeDefined();
    expect(within(page).queryByRole("button", { name: "Approve" })).toBeNull();
    expect(within(page).queryByRole("button", { name: "Request changes" })).toBeNull();
    expect(within(page).queryByRole("textbox", { name: "Notes" })).toBeNull();
  });

  it("says when the gate is not in review, and shows its past review records", async () => {
    const page = await open(api({ ...inReview(), state: "GATE_STATE_IN_PROGRESS" }));
    expect(await within(page).findByText("G2 PRD is not in review: it is in progress.")).toBeDefined();
    expect(within(page).queryByRole("button", { name: "Approve" })).toBeNull();
    const records = within(page).getByRole("region", { name: "Review records" });
    await waitFor(() =>
      expect(
        within(records)
          .getAllByRole("article")
          .map((r) => r.querySelector("h4")?.textContent),
      ).toEqual(["Changes requested by Bob", "Changes requested by a former member"]),
    );
  });

  it("says when the gate has not started", async () => {
    const page = await open(api(), "ROLE_OWNER", 5);
    expect(await within(page).findByText(/G5 Development has not started yet/)).toBeDefined();
  });
});

describe("diffBase", () => {
  it("is the previous version when no review saw the document", () => {
    expect(diffBase(gate(3), deliverable("d", 3))).toEqual({ version: 2, reason: "previous" });
    expect(diffBase(gate(3), deliverable("d", 1))).toBeNull();
  });
});
