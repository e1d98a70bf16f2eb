import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../../../api/client";
import { InProject, testWorkflow } from "../../../test/project";
import { fakeApi, renderWithProviders } from "../../../test/render";
import { Component as TasksPage } from "./TasksPage";

type Task = Schemas["Task"];

function task(id: string, over: Partial<Task>): Task {
  return {
    id,
    projectId: "p1",
    gate: 1,
    title: id,
    description: "",
    ownerRole: "AGENT_ROLE_PRODUCT_MANAGER",
    status: "TASK_STATUS_TODO",
    priority: "TASK_PRIORITY_HIGH",
    dependsOn: [],
    createTime: "2025-01-01T00:00:00Z",
    updateTime: "2025-01-01T00:00:00Z",
    key: id,
    ...over,
  };
}

const tasks = [
  task("t1", { title: "Write the intake", status: "TASK_STATUS_DONE" }),
  task("t2", { title: "Write the PRD", gate: 2, dependsOn: ["t1"] }),
  task("t3", {
    title: "Design the API",
    gate: 3,
    ownerRole: "AGENT_ROLE_ARCHITECT",
    dependsOn: ["t1", "t2"],
  }),
  task("t4", {
    title: "Pick a database",
    gate: 3,
    status: "TASK_STATUS_BLOCKED",
    priority: "TASK_PRIORITY_LOW",
  }),
];

function api(list: Task[] = tasks) {
  return fakeApi({
    "GET /api/v1/projects/p1/tasks": () => ({ tasks: list, nextPageToken: "" }),
    "GET /api/v1/workflows/PROJECT_TYPE_TRADITIONAL": () => testWorkflow,
    "PATCH /api/v1/projects/p1/tasks/t2": ({ body }) => ({
      task: { ...tasks[1], status: (body as { status: Task["status"] }).status },
    }),
  });
}

/** The task's entry on the page, found by its title. */
async function entry(title: string) {
  const item = (await screen.findByRole("heading", { name: title, level: 4 })).closest("li");
  if (!item) throw new Error(`no entry for ${title}`);
  return within(item);
}

describe("TasksPage", () => {
  it("groups the tasks by gate, with owner, status, priority, dependencies and readiness", async () => {
    renderWithProviders(
      <InProject role="ROLE_VIEWER">
        <TasksPage />
      </InProject>,
      { api: api() },
    );
    expect(screen.getByRole("heading", { level: 2, name: "Tasks" })).toBeTruthy();
    expect(await screen.findByRole("heading", { level: 3, name: "G1 Scope" })).toBeTruthy();
    expect(screen.getByRole("heading", { level: 3, name: "G3 Architecture" })).toBeTruthy();

    const prd = await entry("Write the PRD");
    expect(prd.getByText("ready")).toBeTruthy();
    expect(prd.getByText("product manager")).toBeTruthy();
    expect(prd.getByRole("link", { name: "Write the intake" })).toBeTruthy();

    const api3 = await entry("Design the API");
    expect(api3.getByText("waiting for “Write the PRD”")).toBeTruthy();
    expect(api3.getByText("architect")).toBeTruthy();
    expect(api3.getByText("to do")).toBeTruthy();

    const db = await entry("Pick a database");
    expect(db.getByText("blocked: a person moves it on")).toBeTruthy();
    expect(db.getByText("low")).toBeTruthy();

    const intake = await entry("Write the intake");
    expect(intake.queryByText("Readiness")).toBeNull();
    expect(screen.getByText("4 tasks: 1 done, 1 ready to start.")).toBeTruthy();
    // A viewer reads the status; only editors change it.
    expect(screen.queryByRole("combobox")).toBeNull();
  });

  it("lets an editor change a status, and readiness follows", async () => {
    const user = userEvent.setup();
    const fake = api();
    renderWithProviders(
      <InProject role="ROLE_EDITOR">
        <TasksPage />
      </InProject>,
      { api: fake },
    );
    const select = await screen.findByRole("combobox", { name: "Status of Write the PRD" });
    await user.selectOptions(select, "done");
    await waitFor(() => expect(fake.calls("PATCH /api/v1/projects/p1/tasks/t2")).toHaveLength(1));
    expect(fake.calls("PATCH /api/v1/projects/p1/tasks/t2")[0]?.body).toEqual({ status: "TASK_STATUS_DONE" });
    // The API design task waited for the PRD only: now it is ready.
    const api3 = await entry("Design the API");
    expect(await api3.findByText("ready")).toBeTruthy();
  });

  it("moves to a dependency within the page", async () => {
    const user = userEvent.setup();
    renderWithProviders(
      <InProject>
        <TasksPage />
      </InProject>,
      { api: api() },
    );
    const prd = await entry("Write the PRD");
    await user.click(prd.getByRole("link", { name: "Write the intake" }));
    expect(document.activeElement?.querySelector("h4")?.textContent).toBe("Write the intake");
  });

  it("says when there are no tasks yet, and what plans them", async () => {
    renderWithProviders(
      <InProject>
        <TasksPage />
      </InProject>,
      { api: api([]) },
    );
    expect(await screen.findByText(/No tasks yet: the product manager plans them at G1/)).toBeTruthy();
  });
});
