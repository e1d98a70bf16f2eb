import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useLocation } from "react-router";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/client";
import { apiError, fakeApi, renderWithProviders } from "../../test/render";
import { Component as NewProjectPage } from "./NewProjectPage";

function project(over: Partial<Schemas["Project"]> = {}): Schemas["Project"] {
  return {
    id: "p1",
    name: "Recipes",
    description: "",
    type: "PROJECT_TYPE_TRADITIONAL",
    repositoryUrl: "",
    ownerId: "u-ann",
    status: "PROJECT_STATUS_ACTIVE",
    currentGate: 1,
    role: "ROLE_OWNER",
    createTime: "2025-01-01T00:00:00Z",
    updateTime: "2025-01-01T00:00:00Z",
    ...over,
  };
}

/** Stands in for the project page: says which project, and what it was told. */
function ProjectPage() {
  const location = useLocation();
  const state = location.state as { startWorkError?: string } | null;
  return (
    <>
      <h1>Project page</h1>
      {state?.startWorkError ? <p role="alert">{state.startWorkError}</p> : null}
    </>
  );
}

function renderPage(api = fakeApi()) {
  return renderWithProviders(<NewProjectPage />, {
    api,
    route: "/projects/new",
    path: "/projects/new",
    routes: { "/projects/:projectId": <ProjectPage /> },
  });
}

async function fillIn(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByRole("textbox", { name: "Project name" }), "Recipes");
  await user.click(screen.getByRole("radio", { name: "AI / ML" }));
  await user.type(
    screen.getByRole("textbox", { name: "Describe what you want to build" }),
    "A recipe finder that suggests dishes from what is in the fridge.",
  );
  await user.click(screen.getByRole("button", { name: "Create project" }));
}

describe("New project", () => {
  it("offers each project type with its one-line explanation", () => {
    renderPage();
    const group = screen.getByRole("radiogroup", { name: "Project type" });
    expect(group).toBeDefined();
    expect(screen.getByRole("radio", { name: "Traditional software" })).toHaveProperty("checked", true);
    expect(screen.getByRole("radio", { name: "AI / ML" }).getAttribute("aria-describedby")).toBeTruthy();
    expect(screen.getByText(/A model at the centre/)).toBeDefined();
  });

  it("creates the project, starts its work, and opens its page", async () => {
    const api = fakeApi({
      "POST /api/v1/projects": ({ body }) => {
        const { name, type } = body as Schemas["CreateProjectRequest"];
        return { project: project({ name, type }) };
      },
      "POST /api/v1/projects/p1:startWork": () => ({ run: null }),
    });
    const user = userEvent.setup();
    renderPage(api);

    await fillIn(user);

    expect(await screen.findByRole("heading", { name: "Project page" })).toBeDefined();
    expect(screen.getByTestId("location").textContent).toBe("/projects/p1");
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /api/v1/projects",
      "POST /api/v1/projects/p1:startWork",
    ]);
    expect(api.calls("POST /api/v1/projects")[0]?.body).toEqual({
      name: "Recipes",
      type: "PROJECT_TYPE_AI_ML",
      description: "A recipe finder that suggests dishes from what is in the fridge.",
    });
    expect(api.calls("POST /api/v1/projects/p1:startWork")[0]?.body).toEqual({
      description: "A recipe finder that suggests dishes from what is in the fridge.",
    });
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("still opens the project when its work did not start, saying why", async () => {
    const api = fakeApi({
      "POST /api/v1/projects": () => ({ project: project() }),
      "POST /api/v1/projects/p1:startWork": () =>
        apiError(429, "RESOURCE_EXHAUSTED", "too many requests", { retryAfterSeconds: 30 }),
    });
    const user = userEvent.setup();
    renderPage(api);

    await fillIn(user);

    expect(await screen.findByRole("heading", { name: "Project page" })).toBeDefined();
    expect(screen.getByRole("alert").textContent).toBe("Too many requests. Try again in 30 s.");
  });

  it("shows the server's complaint under the field it names, and starts nothing", async () => {
    const api = fakeApi({
      "POST /api/v1/projects": () =>
        apiError(400, "INVALID_ARGUMENT", "invalid request", {
          fields: [{ field: "name", description: "must be one line of at most 200 characters" }],
        }),
    });
    const user = userEvent.setup();
    renderPage(api);

    await fillIn(user);

    const name = screen.getByRole("textbox", { name: "Project name" });
    await waitFor(() => expect(name.getAttribute("aria-invalid")).toBe("true"));
    const described = (name.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .map((id) => document.getElementById(id)?.textContent)
      .join(" ");
    expect(described).toContain("must be one line of at most 200 characters");
    expect(screen.getByRole("alert").textContent).toContain("name");
    expect(api.calls("POST /api/v1/projects/p1:startWork")).toHaveLength(0);
    expect(screen.getByTestId("location").textContent).toBe("/projects/new");
  });

  it("asks for a description before sending anything", async () => {
    const api = fakeApi();
    const user = userEvent.setup();
    renderPage(api);

    await user.type(screen.getByRole("textbox", { name: "Project name" }), "Recipes");
    await user.click(screen.getByRole("button", { name: "Create project" }));

    const description = screen.getByRole("textbox", { name: "Describe what you want to build" });
    expect(description.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByText(/is required: the agents start from it/)).toBeDefined();
    expect(api.requests).toHaveLength(0);
  });
});
