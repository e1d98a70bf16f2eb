// Test fixtures of the documents screens: a project, documents and their versions on a fake API,
// and the project layout's outlet (the screens read the project from it).
import type { ReactElement } from "react";
import { Outlet, Route, Routes } from "react-router";
import type { Schemas } from "../../../api/client";
import { fakeApi, type FakeApi } from "../../../test/render";
import type { ProjectContext } from "../ProjectLayout";

export const project: Schemas["Project"] = {
  id: "p1",
  name: "Recipes",
  description: "A recipe book",
  type: "PROJECT_TYPE_TRADITIONAL",
  repositoryUrl: "",
  ownerId: "u-ann",
  status: "PROJECT_STATUS_ACTIVE",
  currentGate: 2,
  role: "ROLE_OWNER",
  createTime: "2025-01-01T00:00:00Z",
  updateTime: "2025-01-01T00:00:00Z",
};

export function documentAt(
  version: number,
  overrides: Partial<Schemas["Document"]> = {},
): Schemas["Document"] {
  return {
    id: "d1",
    projectId: "p1",
    gate: 2,
    type: "DOCUMENT_TYPE_REQUIREMENTS",
    title: "Product Requirements",
    version,
    contentHash: `sha256:${String(version).repeat(8)}`,
    sizeBytes: "20",
    author:
      version === 1
        ? { userId: "u-ann", agent: { runId: "r1", role: "AGENT_ROLE_PRODUCT_MANAGER" } }
        : { userId: "u-bob", agent: null },
    changeNote: `note ${version}`,
    createdBy: "u-ann",
    createTime: "2025-01-01T00:00:00Z",
    updateTime: new Date(Date.now() - 60_000 * (10 - version)).toISOString(),
    ...overrides,
  };
}

/** Renders a project's screen at its route, with the project layout's outlet around it. */
export function inProject(path: string, screen: ReactElement, role: Schemas["Role"] = "ROLE_OWNER") {
  const context: ProjectContext = { project: { ...project, role } };
  return (
    <Routes>
      <Route element={<Outlet context={context} />}>
        <Route path={path} element={screen} />
      </Route>
    </Routes>
  );
}

export const members = {
  members: [
    {
      userId: "u-ann",
      email: "ann@example.com",
      name: "Ann",
      role: "ROLE_OWNER",
      createTime: "2025-01-01T00:00:00Z",
    },
    {
      userId: "u-bob",
      email: "bob@example.com",
      name: "Bob",
      role: "ROLE_EDITOR",
      createTime: "2025-01-01T00:00:00Z",
    },
  ],
};

/**
 * A server holding document d1 with the given versions' texts (1, 2, ...): get, versions, render
 * (each paragraph a <p>), members. save() adds a version as someone else would.
 */
export function documentServer(texts: string[]): FakeApi & { save: (text: string) => void } {
  const versions = [...texts];
  const base = "/api/v1/projects/p1/documents/d1";
  const api = fakeApi({
    "GET /api/v1/projects/p1/members": () => members,
    [`GET ${base}`]: () => ({ document: documentAt(versions.length), content: versions.at(-1) }),
    [`GET ${base}/versions`]: () => ({
      versions: versions
        .map((_, i) => {
          const d = documentAt(i + 1);
          return {
            documentId: "d1",
            version: i + 1,
            contentHash: d.contentHash,
            sizeBytes: d.sizeBytes,
            author: d.author,
            changeNote: d.changeNote,
            createTime: d.updateTime,
          };
        })
        .reverse(),
      nextPageToken: "",
    }),
    [`GET ${base}:render`]: ({ query }) => {
      const version = Number(query.get("version")) || versions.length;
      return {
        version,
        contentHash: documentAt(version).contentHash,
        html: (versions[version - 1] ?? "")
          .split("\n")
          .filter(Boolean)
          .map((line) => `<p>${line}</p>`)
          .join(""),
      };
    },
  });
  const versionRoute = (n: number) => {
    const d = documentAt(n);
    api.on(`GET ${base}/versions/${n}`, () => ({
      version: {
        documentId: "d1",
        version: n,
        contentHash: d.contentHash,
        sizeBytes: d.sizeBytes,
        author: d.author,
        changeNote: d.changeNote,
        createTime: d.updateTime,
      },
      content: versions[n - 1],
    }));
  };
  versions.forEach((_, i) => versionRoute(i + 1));
  return Object.assign(api, {
    save: (text: string) => {
      versions.push(text);
      versionRoute(versions.length);
    },
  });
}
