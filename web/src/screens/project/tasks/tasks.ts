// The project's tasks: the query every screen shares (queryKeys.tasks holds the API's list
// answer, every page of it), their words, and what a task waits for.
import { useQuery } from "@tanstack/react-query";
import { useApi } from "../../../api/ApiProvider";
import { unwrap, type ApiClient, type Schemas } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";

export type Task = Schemas["Task"];
export type TaskStatus = Schemas["TaskStatus"];
export type TaskList = Schemas["ListTasksResponse"];

/** Every task of the project, in the order they were created (all pages, 500 at a time). */
export async function fetchAllTasks(api: ApiClient, projectId: string): Promise<TaskList> {
  const tasks: Task[] = [];
  let pageToken = "";
  do {
    const page = await unwrap(
      api.GET("/api/v1/projects/{projectId}/tasks", {
        params: { path: { projectId }, query: { pageSize: 500, ...(pageToken ? { pageToken } : {}) } },
      }),
    );
    tasks.push(...page.tasks);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return { tasks, nextPageToken: "" };
}

/** The project's tasks; live task events mark them stale. */
export function useTasks(projectId: string) {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.tasks(projectId), queryFn: () => fetchAllTasks(api, projectId) });
}

/** The statuses a person can set, in the order of the work. */
export const taskStatuses: { value: TaskStatus; label: string }[] = [
  { value: "TASK_STATUS_TODO", label: "to do" },
  { value: "TASK_STATUS_IN_PROGRESS", label: "in progress" },
  { value: "TASK_STATUS_DONE", label: "done" },
  { value: "TASK_STATUS_BLOCKED", label: "blocked" },
];

export function taskStatusWords(status: TaskStatus): string {
  return (
    taskStatuses.find((s) => s.value === status)?.label ??
    status.replace("TASK_STATUS_", "").replaceAll("_", " ").toLowerCase()
  );
}

export function taskPriorityWords(priority: Schemas["TaskPriority"]): string {
  if (priority === "TASK_PRIORITY_UNSPECIFIED") return "none";
  return priority.replace("TASK_PRIORITY_", "").replaceAll("_", " ").toLowerCase();
}

/** An agent role as words ("product manager"); none reads as such. */
export function agentRoleWords(role: Schemas["AgentRole"]): string {
  if (role === "AGENT_ROLE_UNSPECIFIED") return "no agent: a person moves it on";
  return role.replace("AGENT_ROLE_", "").replaceAll("_", " ").toLowerCase();
}

/**
 * Whether a task can be worked on now. done: nothing left; blocked: a person stopped it;
 * ready: every dependency is done; waiting: on the dependencies not done yet (unknown counts
 * those the list does not hold).
 */
export type Readiness =
  | { kind: "done" }
  | { kind: "blocked" }
  | { kind: "ready" }
  | { kind: "waiting"; on: Task[]; unknown: number };

export function readiness(task: Task, byId: ReadonlyMap<string, Task>): Readiness {
  if (task.status === "TASK_STATUS_DONE") return { kind: "done" };
  if (task.status === "TASK_STATUS_BLOCKED") return { kind: "blocked" };
  const on: Task[] = [];
  let unknown = 0;
  for (const id of task.dependsOn) {
    const dep = byId.get(id);
    if (!dep) unknown++;
    else if (dep.status !== "TASK_STATUS_DONE") on.push(dep);
  }
  return on.length === 0 && unknown === 0 ? { kind: "ready" } : { kind: "waiting", on, unknown };
}

/** A task's title in quotes, for sentences. */
export const quoted = (title: string): string => `“${title}”`;

/** "ready", "waiting for “A” and “B”", "done", "blocked: a person moves it on". */
export function readinessWords(r: Readiness): string {
  switch (r.kind) {
    case "done":
      return "done";
    case "blocked":
      return "blocked: a person moves it on";
    case "ready":
      return "ready";
    case "waiting": {
      const names = r.on.map((t) => quoted(t.title));
      if (r.unknown > 0) names.push(r.unknown === 1 ? "a task not listed" : `${r.unknown} tasks not listed`);
      return `waiting for ${listWords(names)}`;
    }
  }
}

/** "A", "A and B", "A, B and C". */
export function listWords(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
