// Test helpers for the project's pages: a project, and the project layout's outlet around a
// screen (the pages read the project from it with useCurrentProject).
//
//   renderWithProviders(<InProject role="ROLE_VIEWER"><Component /></InProject>, { api });
import type { ReactNode } from "react";
import { Outlet, Route, Routes } from "react-router";
import type { Schemas } from "../api/client";
import type { ProjectContext } from "../screens/project/ProjectLayout";

/** A project for tests (its id is p1; the caller owns it unless role says otherwise). */
export function testProject(overrides: Partial<Schemas["Project"]> = {}): Schemas["Project"] {
  return {
    id: "p1",
    name: "Recipes",
    description: "A recipe book",
    type: "PROJECT_TYPE_TRADITIONAL",
    repositoryUrl: "",
    ownerId: "u-ann",
    status: "PROJECT_STATUS_ACTIVE",
    currentGate: 3,
    role: "ROLE_OWNER",
    createTime: "2025-01-01T00:00:00Z",
    updateTime: "2025-01-01T00:00:00Z",
    ...overrides,
  };
}

/** The nine gates of the traditional workflow, as GET /api/v1/workflows/{projectType} answers. */
export const testWorkflow: Schemas["GetWorkflowResponse"] = {
  projectType: "PROJECT_TYPE_TRADITIONAL",
  gates: [
    "Scope",
    "PRD",
    "Architecture",
    "Design",
    "Development",
    "Testing",
    "Security",
    "Staging",
    "Production",
  ].map((name, i) => ({
    number: i + 1,
    name,
    phase: name.toLowerCase(),
    roles: [],
    deliverables: [],
    proofs: [],
    coverageThresholdPercent: 0,
  })),
};

/** Renders children as a page of the project, with the caller's role in it. */
export function InProject({
  children,
  role = "ROLE_OWNER",
  project,
}: {
  children: ReactNode;
  role?: Schemas["Role"];
  project?: Schemas["Project"];
}) {
  const context: ProjectContext = { project: { ...(project ?? testProject()), role } };
  return (
    <Routes>
      <Route element={<Outlet context={context} />}>
        <Route path="*" element={children} />
      </Route>
    </Routes>
  );
}
