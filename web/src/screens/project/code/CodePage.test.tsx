import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../../../api/client";
import { apiError, fakeApi, renderWithProviders } from "../../../test/render";
import { InProject, testWorkflow } from "../../../test/project";
import { Component as CodePage } from "./CodePage";
import { buildTree, type TreeNode } from "./tree";

const TREE = "/api/v1/projects/p1/tree";

function file(path: string, overrides: Partial<Schemas["SourceFile"]> = {}): Schemas["SourceFile"] {
  return {
    path,
    documentId: `doc-${path}`,
    version: 1,
    gate: 0,
    contentHash: `sha256:${path}`,
    sizeBytes: "1000",
    ...overrides,
  };
}

const files = [
  file("README.md", { sizeBytes: "500" }),
  file("backend/main.go", { version: 3 }),
  file("backend/internal/store/store.go", { sizeBytes: "2500" }),
  file("backend/go.mod"),
  file("web/package.json"),
];

/** A tree's shape as names: folders with their children, files as their names. */
function shape(nodes: readonly TreeNode[]): unknown[] {
  return nodes.map((n) =>
    n.kind === "folder" ? { [n.name]: shape(n.children), files: n.fileCount, bytes: n.sizeBytes } : n.name,
  );
}

describe("buildTree", () => {
  it("makes folders of the paths, folders before files, each alphabetical, with their files and bytes summed", () => {
    expect(shape(buildTree(files))).toEqual([
      {
        backend: [
          { internal: [{ store: ["store.go"], files: 1, bytes: 2500 }], files: 1, bytes: 2500 },
          "go.mod",
          "main.go",
        ],
        files: 3,
        bytes: 4500,
      },
      { web: ["package.json"], files: 1, bytes: 1000 },
      "README.md",
    ]);
  });
});

/** The hash of a tree a verification ran. */
const VERIFIED = `sha256:${"ab".repeat(32)}`;

function server(tree: Schemas["SourceFile"][] = files) {
  return fakeApi({
    [`GET ${TREE}`]: ({ query }) =>
      query.get("gate") === "6"
        ? { files: [file("backend/main.go", { version: 2, gate: 5 })], treeHash: "sha256:feedfacecafe0000" }
        : query.get("treeHash") === VERIFIED
          ? { files: [file("backend/main.go", { version: 1, gate: 5 })], treeHash: VERIFIED }
          : { files: tree, treeHash: tree.length ? "sha256:0123456789abcdef0123" : "" },
    "GET /api/v1/workflows/PROJECT_TYPE_TRADITIONAL": () => testWorkflow,
  });
}

function renderCode(api = server(), route = "/projects/p1/code") {
  return renderWithProviders(
    <InProject>
      <CodePage />
    </InProject>,
    {
      api,
      route,
      routes: { "/projects/:projectId/documents/:documentId": <p>document page</p> },
    },
  );
}

describe("the code page", () => {
  it("shows the source tree as folders and files, each file linking to its document", async () => {
    const user = userEvent.setup();
    renderCode();
    const tree = await screen.findByRole("tree", { name: "Source files" });
    expect(screen.getByText(/5 files, 6\.0 kB/)).toBeDefined();
    expect(screen.getByText("sha256:0123456789ab").getAttribute("title")).toBe("sha256:0123456789abcdef0123");
    const backend = within(tree).getByRole("treeitem", { name: "backend" });
    expect(backend.getAttribute("aria-expanded")).toBe("true");
    expect(backend.getAttribute("aria-describedby")).toBeTruthy();
    expect(document.getElementById(backend.getAttribute("aria-describedby") ?? "")?.textContent).toBe(
      "3 files, 4.5 kB",
    );
    expect(
      within(tree)
        .getAllByRole("treeitem")
        .map((i) => i.dataset["key"]),
    ).toEqual([
      "folder:backend",
      "folder:backend/internal",
      "folder:backend/internal/store",
      "file:backend/internal/store/store.go",
      "file:backend/go.mod",
      "file:backend/main.go",
      "folder:web",
      "file:web/package.json",
      "file:README.md",
    ]);
    // A folder owns its items' group (a sibling of its treeitem in the page).
    const group = document.getElementById(backend.getAttribute("aria-owns") ?? "");
    expect(group?.getAttribute("role")).toBe("group");
    const main = within(group!).getByRole("treeitem", { name: "main.go" });
    expect(main.getAttribute("href")).toBe("/projects/p1/documents/doc-backend/main.go");
    await user.click(main);
    expect(screen.getByTestId("location").textContent).toBe("/projects/p1/documents/doc-backend/main.go");
  });

  it("opens and closes folders with the keyboard, moving through what is shown, with one tab stop", async () => {
    const user = userEvent.setup();
    renderCode();
    const tree = await screen.findByRole("tree", { name: "Source files" });
    const item = (name: string) => within(tree).getByRole("treeitem", { name });
    // One tab stop: the first item.
    expect(
      within(tree)
        .getAllByRole("treeitem")
        .filter((i) => i.tabIndex === 0),
    ).toEqual([item("backend")]);
    await user.tab(); // the gate's choice
    await user.tab();
    expect(document.activeElement).toBe(item("backend"));

    // Left closes the open folder; its files are no longer shown.
    await user.keyboard("{ArrowLeft}");
    expect(item("backend").getAttribute("aria-expanded")).toBe("false");
    expect(within(tree).queryByRole("treeitem", { name: "main.go" })).toBeNull();
    // Down goes to the next item shown: web.
    await user.keyboard("{ArrowDown}");
    expect(document.activeElement).toBe(item("web"));
    expect(item("web").tabIndex).toBe(0);
    expect(item("backend").tabIndex).toBe(-1);
    // Up and Right open backend again; Right once more enters it.
    await user.keyboard("{ArrowUp}{ArrowRight}");
    expect(item("backend").getAttribute("aria-expanded")).toBe("true");
    await user.keyboard("{ArrowRight}");
    expect(document.activeElement).toBe(item("internal"));
    // Left on an open folder closes it; again goes up to its folder.
    await user.keyboard("{ArrowLeft}");
    expect(item("internal").getAttribute("aria-expanded")).toBe("false");
    await user.keyboard("{ArrowLeft}");
    expect(document.activeElement).toBe(item("backend"));
    // Enter and Space toggle a folder; End goes to the last item, Home to the first.
    await user.keyboard("{Enter}");
    expect(item("backend").getAttribute("aria-expanded")).toBe("false");
    await user.keyboard(" ");
    expect(item("backend").getAttribute("aria-expanded")).toBe("true");
    await user.keyboard("{End}");
    expect(document.activeElement).toBe(item("README.md"));
    await user.keyboard("{Home}");
    expect(document.activeElement).toBe(item("backend"));
    // Enter on a file follows its link (internal, closed, hides store.go).
    await user.keyboard("{ArrowDown}{ArrowDown}");
    expect(document.activeElement).toBe(item("go.mod"));
    await user.keyboard("{Enter}");
    expect(screen.getByTestId("location").textContent).toBe("/projects/p1/documents/doc-backend/go.mod");
  });

  it("closes a folder with a click", async () => {
    const user = userEvent.setup();
    renderCode();
    const tree = await screen.findByRole("tree", { name: "Source files" });
    await user.click(within(tree).getByText("web"));
    expect(within(tree).getByRole("treeitem", { name: "web" }).getAttribute("aria-expanded")).toBe("false");
    expect(within(tree).queryByRole("treeitem", { name: "package.json" })).toBeNull();
  });

  it("shows the tree a gate holds, its files linking to the versions it recorded", async () => {
    const user = userEvent.setup();
    const api = server();
    renderCode(api);
    await screen.findByRole("tree", { name: "Source files" });
    await user.selectOptions(screen.getByRole("combobox", { name: "Files" }), "As G6 Testing holds them");
    const main = await screen.findByRole("treeitem", { name: "main.go" });
    expect(main.getAttribute("href")).toBe("/projects/p1/documents/doc-backend/main.go?version=2");
    expect(screen.getByTestId("location").textContent).toBe("/projects/p1/code?gate=6");
    expect(api.calls(`GET ${TREE}`).map((r) => r.query.get("gate"))).toEqual([null, "6"]);
  });

  it("shows the tree a verification ran (a proof's link), its files at the versions it ran", async () => {
    const user = userEvent.setup();
    const api = server();
    renderCode(api, `/projects/p1/code?tree=${VERIFIED}`);
    const main = await screen.findByRole("treeitem", { name: "main.go" });
    expect(main.getAttribute("href")).toBe("/projects/p1/documents/doc-backend/main.go?version=1");
    const choice = screen.getByRole("combobox", { name: "Files" });
    expect((choice as HTMLSelectElement).selectedOptions[0]?.textContent).toBe(
      "The tree sha256:abababababab as a verification ran it",
    );
    expect(api.calls(`GET ${TREE}`).map((r) => r.query.get("treeHash"))).toEqual([VERIFIED]);
    // Choosing another listing leaves that tree.
    await user.selectOptions(choice, "The latest version of every file");
    await screen.findByRole("treeitem", { name: "README.md" });
    expect(screen.getByTestId("location").textContent).toBe("/projects/p1/code");
  });

  it("says when there are no source files yet", async () => {
    renderCode(server([]));
    expect(await screen.findByText(/No source files yet: the developers write them from G5/)).toBeDefined();
  });

  it("shows why the tree could not be loaded", async () => {
    const api = server();
    api.on(`GET ${TREE}`, () => apiError(503, "UNAVAILABLE", "The agents service is unavailable."));
    renderCode(api);
    await waitFor(() =>
      expect(screen.getByRole("alert").textContent).toContain("agents service is unavailable"),
    );
  });
});
