import { act, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { fakeApi, renderWithProviders } from "../../../test/render";
import { documentAt, inProject, members } from "../document/testFixtures";
import { Component as DocumentsPage } from "./DocumentsPage";
import { groupDocuments } from "./groups";

const intake = documentAt(1, {
  id: "intake",
  gate: 1,
  type: "DOCUMENT_TYPE_INTAKE",
  title: "Project Intake",
});
const prd = documentAt(2, {
  id: "prd",
  gate: 2,
  type: "DOCUMENT_TYPE_REQUIREMENTS",
  title: "Product Requirements",
});
const stories = documentAt(1, {
  id: "stories",
  gate: 2,
  type: "DOCUMENT_TYPE_USER_STORY",
  title: "User Stories",
});
const adr = documentAt(1, { id: "adr", gate: 3, type: "DOCUMENT_TYPE_ARCHITECTURE", title: "b decisions" });
const overview = documentAt(1, {
  id: "ov",
  gate: 3,
  type: "DOCUMENT_TYPE_ARCHITECTURE",
  title: "A overview",
});
const loose = documentAt(1, { id: "loose", gate: 0, type: "DOCUMENT_TYPE_OTHER", title: "Notes" });

function server(documents: Schemas["Document"][]) {
  const list = { documents };
  const api = fakeApi({
    "GET /api/v1/projects/p1/documents": () => ({ documents: list.documents, nextPageToken: "" }),
    "GET /api/v1/projects/p1/members": () => members,
  });
  return Object.assign(api, { list });
}

function renderList(api: ReturnType<typeof server>) {
  return renderWithProviders(inProject("/projects/:projectId/documents", <DocumentsPage />), {
    api,
    route: "/projects/p1/documents",
    routes: {
      "/projects/:projectId/documents/:documentId": <p>document page</p>,
      "/projects/:projectId/code": <p>code page</p>,
    },
  });
}

describe("groupDocuments", () => {
  it("groups by gate (no gate last), then type in workflow order, then title", () => {
    const groups = groupDocuments([loose, adr, stories, prd, overview, intake]);
    expect(
      groups.map((g) => [g.gate, g.types.map((t) => [t.type, t.documents.map((d) => d.title)])]),
    ).toEqual([
      [1, [["DOCUMENT_TYPE_INTAKE", ["Project Intake"]]]],
      [
        2,
        [
          ["DOCUMENT_TYPE_REQUIREMENTS", ["Product Requirements"]],
          ["DOCUMENT_TYPE_USER_STORY", ["User Stories"]],
        ],
      ],
      [3, [["DOCUMENT_TYPE_ARCHITECTURE", ["A overview", "b decisions"]]]],
      [0, [["DOCUMENT_TYPE_OTHER", ["Notes"]]]],
    ]);
  });
});

describe("DocumentsPage", () => {
  it("lists the documents by gate and type, each with version, author and time, linking to it", async () => {
    const user = userEvent.setup();
    renderList(server([prd, intake, stories]));
    expect(screen.getByRole("heading", { level: 2, name: "Documents" })).toBeDefined();
    const g2 = await screen.findByRole("region", { name: /^G2/ });
    expect(
      within(g2)
        .getAllByRole("heading", { level: 4 })
        .map((h) => h.textContent),
    ).toEqual(["Requirements", "User story"]);
    const item = within(within(g2).getByRole("list", { name: "Requirements" })).getByRole("listitem");
    expect(item.textContent).toMatch(/Product Requirements.*version 2.*Bob.*min ago/);
    expect(screen.getByRole("region", { name: /^G1/ }).textContent).toMatch(
      /Project Intake.*Product manager \(agent\)/,
    );
    await user.click(within(g2).getByRole("link", { name: "Product Requirements" }));
    expect(screen.getByTestId("location").textContent).toBe("/projects/p1/documents/prd");
  });

  it("leaves source files (code documents titled by a path) to the Code page, and says so", async () => {
    const user = userEvent.setup();
    const notes = documentAt(1, {
      id: "notes",
      gate: 5,
      type: "DOCUMENT_TYPE_CODE",
      title: "Implementation notes",
    });
    const main = documentAt(1, { id: "main", gate: 5, type: "DOCUMENT_TYPE_CODE", title: "backend/main.go" });
    const mod = documentAt(1, { id: "mod", gate: 5, type: "DOCUMENT_TYPE_CODE", title: "go.mod" });
    // A path-like title of another type is a document like any other.
    const spec = documentAt(1, {
      id: "api",
      gate: 3,
      type: "DOCUMENT_TYPE_API_SPEC",
      title: "api/openapi.yaml",
    });
    renderList(server([intake, notes, main, mod, spec]));
    const g5 = await screen.findByRole("region", { name: /^G5/ });
    expect(
      within(g5)
        .getAllByRole("link")
        .map((l) => l.textContent),
    ).toEqual(["Implementation notes"]);
    expect(screen.getByRole("link", { name: "api/openapi.yaml" })).toBeDefined();
    expect(screen.getByText(/2 source files are listed under/).textContent).toContain("as a tree of folders");
    await user.click(screen.getByRole("link", { name: "Code" }));
    expect(screen.getByTestId("location").textContent).toBe("/projects/p1/code");
  });

  it("says what fills an empty list, and shows documents as they are saved", async () => {
    const api = server([]);
    const { queryClient } = renderList(api);
    expect(
      await screen.findByText(
        /No documents yet: the agents write them as the gates progress\. The first, G1's intake/,
      ),
    ).toBeDefined();
    api.list.documents = [intake];
    // What a live document message does (live/cache.ts).
    await act(() => queryClient.invalidateQueries({ queryKey: queryKeys.documents("p1") }));
    expect(await screen.findByRole("link", { name: "Project Intake" })).toBeDefined();
  });
});
