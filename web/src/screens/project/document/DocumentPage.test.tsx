import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { queryKeys } from "../../../api/queryKeys";
import { apiError, renderWithProviders } from "../../../test/render";
import { Component as DocumentPage } from "./DocumentPage";
import { documentServer, inProject } from "./testFixtures";

const v1 = "# Plan\nalpha\nbeta\n";
const v2 = "# Plan\nalpha\nbeta\ngamma\n";
const theirs = "# Plan\nALPHA from Bob\nbeta\ngamma\n";
const mine = "# Plan\nalpha\nbeta\ngamma\ndelta from Ann\n";
const patchRoute = "PATCH /api/v1/projects/p1/documents/d1";

function renderPage(server: ReturnType<typeof documentServer>, search = "", role?: "ROLE_VIEWER") {
  return renderWithProviders(
    inProject("/projects/:projectId/documents/:documentId", <DocumentPage />, role),
    {
      api: server,
      route: `/projects/p1/documents/d1${search}`,
    },
  );
}

/** Opens the editor, replaces the content with text and saves. */
async function editAndSave(text: string, note: string) {
  const user = userEvent.setup();
  await user.click(await screen.findByRole("tab", { name: "Edit" }));
  const content = screen.getByRole("textbox", { name: "Content" });
  expect(content).toHaveProperty("value", v2);
  await user.clear(content);
  await user.paste(text);
  await user.type(screen.getByRole("textbox", { name: "Change note" }), note);
  await user.click(screen.getByRole("button", { name: "Save" }));
  return user;
}

/** A server where Bob saved version 3 after the page loaded version 2: the first save is refused. */
function conflictedServer() {
  const server = documentServer([v1, v2]);
  let saves = 0;
  server.on(patchRoute, ({ body }) => {
    saves++;
    if (saves === 1) {
      server.save(theirs);
      return apiError(
        409,
        "ABORTED",
        "document d1 is at version 3: your change was based on version 2; merge it with the current version and save again",
        { reason: "STALE_VERSION", metadata: { currentVersion: "3" } },
      );
    }
    const b = body as { content: string };
    server.save(b.content);
    return {
      document: documentFor(4),
      outcome: "SAVE_OUTCOME_NEW_VERSION",
      deliverable: null,
    };
  });
  return server;
}

function documentFor(version: number) {
  return {
    id: "d1",
    projectId: "p1",
    gate: 2,
    type: "DOCUMENT_TYPE_REQUIREMENTS",
    title: "Product Requirements",
    version,
    contentHash: "sha256:44444444",
    sizeBytes: "40",
    author: { userId: "u-ann", agent: null },
    changeNote: "delta",
    createdBy: "u-ann",
    createTime: "2025-01-01T00:00:00Z",
    updateTime: new Date().toISOString(),
  };
}

describe("DocumentPage", () => {
  it("shows the title, the meta and the rendered latest version; Source shows the text", async () => {
    renderPage(documentServer([v1, v2]));
    expect(await screen.findByRole("heading", { level: 2, name: "Product Requirements" })).toBeDefined();
    expect(await screen.findByText("gamma")).toBeDefined();
    expect(screen.getByText("requirements")).toBeDefined();
    expect(screen.getByText(/2\s+\(latest\)/)).toBeDefined();
    expect(await screen.findByText("Bob")).toBeDefined();
    expect(screen.getByText("sha256:22222222")).toBeDefined();
    await userEvent.click(screen.getByRole("tab", { name: "Source" }));
    expect(screen.getByLabelText("Source of version 2").textContent).toBe(v2);
  });

  it("sanitizes the rendered html: no script, no event handler, no javascript: link", async () => {
    const server = documentServer([v1]);
    server.on("GET /api/v1/projects/p1/documents/d1:render", () => ({
      version: 1,
      contentHash: "sha256:1",
      html:
        '<p>Hello</p><script>window.pwned = 1</script><img src="x.png" alt="pic" onerror="window.pwned = 2">' +
        '<a href="javascript:window.pwned = 3">click me</a><svg><script>window.pwned = 4</script></svg>',
    }));
    const { container } = renderPage(server);
    expect(await screen.findByText("Hello")).toBeDefined();
    const rendered = container.querySelector(".rendered");
    expect(rendered).not.toBeNull();
    expect(rendered?.querySelector("script")).toBeNull();
    expect(rendered?.innerHTML).not.toMatch(/onerror|javascript:|pwned/);
    expect(screen.getByRole("img", { name: "pic" }).getAttribute("onerror")).toBeNull();
    expect(screen.getByText("click me").getAttribute("href")).toBeNull();
    expect((window as { pwned?: number }).pwned).toBeUndefined();
  });

  it("compares any two versions picked, unified or side by side", async () => {
    const user = userEvent.setup();
    renderPage(documentServer([v1, v2, theirs]));
    await user.click(await screen.findByRole("tab", { name: "Compare" }));
    const from = screen.getByRole("combobox", { name: "From version" });
    const to = screen.getByRole("combobox", { name: "To version" });
    expect(from).toHaveProperty("value", "2");
    expect(to).toHaveProperty("value", "3");
    await user.selectOptions(from, "1");
    const diff = await screen.findByRole("region", { name: "Changes from Version 1 to Version 3" });
    const cells = within(within(diff).getByRole("table", { name: "Unified diff" }))
      .getAllByRole("cell")
      .map((c) => c.textContent);
    expect(cells).toEqual([
      "  # Plan",
      "− removed: alpha",
      "+ added: ALPHA from Bob",
      "  beta",
      "+ added: gamma",
    ]);
    await user.click(within(diff).getByLabelText("Side by side"));
    expect(within(diff).getByRole("table", { name: "Side-by-side diff" })).toBeDefined();
  });

  it("history lists the versions; viewing one shows it, not the latest", async () => {
    const user = userEvent.setup();
    renderPage(documentServer([v1, v2]));
    await user.click(await screen.findByRole("tab", { name: "History" }));
    const rows = await screen.findAllByRole("row");
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining("Version"),
      expect.stringMatching(/^2.*Bob.*note 2/),
      expect.stringMatching(/^1.*Product manager \(agent\).*note 1/),
    ]);
    await user.click(screen.getByRole("button", { name: "View version 1" }));
    expect(screen.getByRole("tab", { name: "Rendered", selected: true })).toBeDefined();
    expect(await screen.findByText(/You are viewing version 1; the latest is version 2/)).toBeDefined();
    await waitFor(() => expect(screen.queryByText("gamma")).toBeNull());
    expect(screen.getByText("beta")).toBeDefined();
  });

  it("409: shows the draft and the newer version with their diff; Keep my version saves on the newer base", async () => {
    const server = conflictedServer();
    renderPage(server);
    const user = await editAndSave(mine, "add delta");

    const panel = await screen.findByRole("region", { name: "Version 3 was saved while you were editing" });
    expect(within(panel).getByText(/Your save was not made: your draft is based on version 2/)).toBeDefined();
    expect(within(panel).getByLabelText("Your draft's text").textContent).toBe(mine);
    expect((await within(panel).findByLabelText("Version 3's text")).textContent).toBe(theirs);
    const diff = within(panel).getByRole("region", { name: "Changes from Version 3 to Your draft" });
    expect(within(diff).getByText("ALPHA from Bob")).toBeDefined();
    expect(within(diff).getByText("delta from Ann")).toBeDefined();
    expect(server.calls(patchRoute)[0]?.body).toEqual({
      content: mine,
      changeNote: "add delta",
      baseVersion: 2,
    });

    await user.click(within(panel).getByRole("button", { name: "Keep my version" }));
    expect(await screen.findByText("Saved as version 4.")).toBeDefined();
    expect(server.calls(patchRoute)).toHaveLength(2);
    expect(server.calls(patchRoute)[1]?.body).toEqual({
      content: mine,
      changeNote: "add delta",
      baseVersion: 3,
    });
    expect(screen.queryByRole("textbox", { name: "Content" })).toBeNull();
  });

  it("409: Use theirs drops the draft and shows the saved version", async () => {
    const server = conflictedServer();
    renderPage(server);
    const user = await editAndSave(mine, "add delta");
    const panel = await screen.findByRole("region", { name: "Version 3 was saved while you were editing" });
    await user.click(within(panel).getByRole("button", { name: "Use theirs" }));

    expect(screen.getByText("Your draft was discarded: the saved version stands.")).toBeDefined();
    expect(await screen.findByText("ALPHA from Bob")).toBeDefined();
    expect(screen.queryByText(/delta from Ann/)).toBeNull();
    expect(server.calls(patchRoute)).toHaveLength(1);
    // Editing again starts from their version, not the dropped draft.
    await user.click(screen.getByRole("tab", { name: "Edit" }));
    expect(screen.getByRole("textbox", { name: "Content" })).toHaveProperty("value", theirs);
  });

  it("409: Keep editing returns to the draft, now based on the newer version", async () => {
    const server = conflictedServer();
    renderPage(server);
    const user = await editAndSave(mine, "add delta");
    const panel = await screen.findByRole("region", { name: "Version 3 was saved while you were editing" });
    await user.click(within(panel).getByRole("button", { name: "Keep editing" }));
    expect(screen.getByRole("textbox", { name: "Content" })).toHaveProperty("value", mine);
    expect(screen.getByText(/Your draft is based on version 3/)).toBeDefined();
    expect(screen.getByText("Version 3's text, to merge from")).toBeDefined();
  });

  it("a newer version saved while reading is announced, not swapped in; the draft is kept", async () => {
    const user = userEvent.setup();
    const server = documentServer([v1, v2]);
    const { queryClient } = renderPage(server);
    expect(await screen.findByText("gamma")).toBeDefined();

    server.save(theirs);
    // What a live document message does (live/cache.ts).
    await act(() => queryClient.invalidateQueries({ queryKey: queryKeys.documents("p1") }));
    expect(await screen.findByText(/A newer version was saved: version 3, by Bob/)).toBeDefined();
    expect(screen.getByText("alpha")).toBeDefined();
    await user.click(screen.getByRole("button", { name: "Load the newer version" }));
    expect(await screen.findByText("ALPHA from Bob")).toBeDefined();
    expect(screen.queryByText(/A newer version was saved/)).toBeNull();

    // With a draft open, the newer version is offered for comparison; the draft stays.
    await user.click(screen.getByRole("tab", { name: "Edit" }));
    await user.type(screen.getByRole("textbox", { name: "Content" }), "mine");
    server.save(v1);
    await act(() => queryClient.invalidateQueries({ queryKey: queryKeys.documents("p1") }));
    await user.click(await screen.findByRole("button", { name: "Compare with my draft" }));
    const panel = await screen.findByRole("region", { name: "Version 4 was saved while you were editing" });
    expect(within(panel).getByLabelText("Your draft's text").textContent).toBe(`${theirs}mine`);
  });

  it("shows the server's refusal of an edit while the gate is in review, keeping the draft", async () => {
    const server = documentServer([v1, v2]);
    server.on(patchRoute, () =>
      apiError(
        400,
        "FAILED_PRECONDITION",
        "gate G2 is IN_REVIEW: what is under review cannot change; request changes to revise it",
        {
          reason: "GATE_UNDER_REVIEW",
        },
      ),
    );
    renderPage(server);
    await editAndSave(mine, "add delta");
    expect((await screen.findByRole("alert")).textContent).toMatch(
      /Not saved.*gate G2 is IN_REVIEW: what is under review cannot change/,
    );
    expect(screen.getByRole("textbox", { name: "Content" })).toHaveProperty("value", mine);
  });

  it("offers no editing to a viewer", async () => {
    renderPage(documentServer([v1, v2]), "", "ROLE_VIEWER");
    expect(await screen.findByRole("tab", { name: "Rendered" })).toBeDefined();
    expect(screen.queryByRole("tab", { name: "Edit" })).toBeNull();
  });

  it("says when the document does not exist", async () => {
    const server = documentServer([v1]);
    server.on("GET /api/v1/projects/p1/documents/d1", () =>
      apiError(404, "NOT_FOUND", "document d1 not found"),
    );
    renderPage(server);
    expect(await screen.findByRole("heading", { name: "Document not found" })).toBeDefined();
  });
});
