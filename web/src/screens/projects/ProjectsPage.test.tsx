import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/client";
import { fakeApi, renderWithProviders, type FakeApi, type FakeHandler } from "../../test/render";
import { Component as ProjectsPage } from "./ProjectsPage";

type Project = Schemas["Project"];

function project(id: string, over: Partial<Project> = {}): Project {
  return {
    id,
    name: id,
    description: "",
    type: "PROJECT_TYPE_TRADITIONAL",
    repositoryUrl: "",
    ownerId: "u-ann",
    status: "PROJECT_STATUS_ACTIVE",
    currentGate: 1,
    role: "ROLE_OWNER",
    createTime: "2025-01-01T00:00:00Z",
    updateTime: new Date().toISOString(),
    ...over,
  };
}

const cost = (usd: string): Schemas["Cost"] => ({
  inputTokens: "0",
  outputTokens: "0",
  costMicros: "0",
  costUsd: usd,
  runs: 1,
  unpricedRuns: 0,
  offlineRuns: 0,
});

function status(gate: number, gateName: string, gateState: Schemas["GateState"], percent: number) {
  return {
    currentGate: gate,
    gateName,
    gateState,
    phase: "Plan",
    percentComplete: percent,
    projectStatus: "PROJECT_STATUS_ACTIVE",
    nextAction: "",
    missingDeliverables: [],
    missingProofs: [],
    nextStep: {
      kind: "NEXT_ACTION_KIND_UNSPECIFIED",
      gate,
      missingDeliverables: [],
      missingProofs: [],
      blockedReason: "",
      summary: "",
    },
  };
}

/** A server with the given projects, each with a status and costs. */
function server(projects: Project[], list?: FakeHandler): FakeApi {
  const api = fakeApi({ "GET /api/v1/projects": list ?? (() => ({ projects, nextPageToken: "" })) });
  projects.forEach((p, i) => {
    api.on(`GET /api/v1/projects/${p.id}/status`, () =>
      status(3, "Architecture", i === 0 ? "GATE_STATE_IN_REVIEW" : "GATE_STATE_IN_PROGRESS", 20 + i),
    );
    api.on(`GET /api/v1/projects/${p.id}/costs`, () => ({
      total: cost(`$0.0${i + 1}`),
      gates: [],
      roles: [],
    }));
  });
  return api;
}

const rowNames = () =>
  within(screen.getByRole("table"))
    .getAllByRole("rowheader")
    .map((h) => within(h).getByRole("link").textContent);

describe("Projects list", () => {
  it("shows each project's type, gate and its state, progress, cost and last activity", async () => {
    renderWithProviders(<ProjectsPage />, {
      api: server([project("Recipes", { type: "PROJECT_TYPE_AI_ML" })]),
    });

    const row = (await screen.findByRole("link", { name: "Recipes" })).closest("tr");
    if (!row) throw new Error("no row");
    expect(within(row).getByRole("link", { name: "Recipes" }).getAttribute("href")).toBe("/projects/Recipes");
    expect(row.textContent).toContain("AI / ML");
    await waitFor(() => expect(row.textContent).toContain("G3 Architecture in review"));
    expect(within(row).getByRole("progressbar", { name: "Recipes: progress" })).toHaveProperty("value", 20);
    expect(row.textContent).toContain("20%");
    await waitFor(() => expect(row.textContent).toContain("$0.01"));
    expect(row.textContent).toContain("just now");
  });

  it("hides archived projects until asked, and loads their details only when shown", async () => {
    const api = server([
      project("Recipes"),
      project("Old shop", { status: "PROJECT_STATUS_ARCHIVED" }),
      project("Blog", { status: "PROJECT_STATUS_COMPLETED" }),
    ]);
    const user = userEvent.setup();
    renderWithProviders(<ProjectsPage />, { api });

    await screen.findByRole("link", { name: "Recipes" });
    expect(rowNames()).toEqual(["Recipes", "Blog"]);
    expect(screen.getByText("(1 archived project hidden)")).toBeDefined();
    await waitFor(() => expect(api.calls("GET /api/v1/projects/Blog/costs")).toHaveLength(1));
    expect(api.calls("GET /api/v1/projects/Old shop/status")).toHaveLength(0);

    await user.click(screen.getByRole("checkbox", { name: "Show archived" }));

    expect(rowNames()).toEqual(["Recipes", "Old shop", "Blog"]);
    const archived = screen.getByRole("link", { name: "Old shop" }).closest("tr");
    expect(archived?.textContent).toContain("archived");
    await waitFor(() => expect(api.calls("GET /api/v1/projects/Old shop/status")).toHaveLength(1));

    await user.click(screen.getByRole("checkbox", { name: "Show archived" }));
    expect(rowNames()).toEqual(["Recipes", "Blog"]);
  });

  it("says so when every project is archived", async () => {
    renderWithProviders(<ProjectsPage />, {
      api: server([project("Old shop", { status: "PROJECT_STATUS_ARCHIVED" })]),
    });

    expect(await screen.findByText(/All your projects are archived/)).toBeDefined();
    expect(screen.queryByRole("table")).toBeNull();
  });

  it("loads more pages", async () => {
    const first = [project("Recipes")];
    const second = [project("Blog")];
    const api = server([...first, ...second], ({ query }) =>
      query.get("pageToken") === "next"
        ? { projects: second, nextPageToken: "" }
        : { projects: first, nextPageToken: "next" },
    );
    const user = userEvent.setup();
    renderWithProviders(<ProjectsPage />, { api });
    await screen.findByRole("link", { name: "Recipes" });

    await user.click(screen.getByRole("button", { name: "Load more" }));

    expect(await screen.findByRole("link", { name: "Blog" })).toBeDefined();
    expect(rowNames()).toEqual(["Recipes", "Blog"]);
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("starts someone with no projects on a new one", async () => {
    renderWithProviders(<ProjectsPage />, { api: server([]) });

    expect(
      await screen.findByText("No projects yet: describe what you want to build and the agents start at G1."),
    ).toBeDefined();
    const links = screen.getAllByRole("link", { name: "New project" });
    expect(links.every((l) => l.getAttribute("href") === "/projects/new")).toBe(true);
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Projects");
  });
});
