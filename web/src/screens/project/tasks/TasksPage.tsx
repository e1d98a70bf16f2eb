// The project's tasks by gate: who owns each, its status and priority, what it depends on (links
// within the page) and whether it is ready; editors change a task's status.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo, type MouseEvent } from "react";
import { useApi } from "../../../api/ApiProvider";
import { unwrap } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { Empty } from "../../../shared/Empty";
import { ErrorView } from "../../../shared/ErrorView";
import { errorMessage } from "../../../shared/errors";
import { canEdit } from "../../../shared/labels";
import { Loading } from "../../../shared/Loading";
import { useTitle } from "../../../shared/useTitle";
import { gateTitle, useWorkflow, type Workflow } from "../../../shared/useWorkflow";
import { useCurrentProject } from "../ProjectLayout";
import {
  agentRoleWords,
  readiness,
  readinessWords,
  taskPriorityWords,
  taskStatuses,
  taskStatusWords,
  useTasks,
  type Task,
  type TaskList,
  type TaskStatus,
} from "./tasks";

export function Component() {
  const project = useCurrentProject();
  useTitle(`Tasks · ${project.name}`);
  const tasks = useTasks(project.id);
  const workflow = useWorkflow(project.type);
  const editable = canEdit(project.role);
  const byId = useMemo(() => new Map((tasks.data?.tasks ?? []).map((t) => [t.id, t])), [tasks.data]);
  const byGate = useMemo(() => {
    const groups = new Map<number, Task[]>();
    for (const t of tasks.data?.tasks ?? []) groups.set(t.gate, [...(groups.get(t.gate) ?? []), t]);
    return [...groups.entries()].sort(([a], [b]) => a - b);
  }, [tasks.data]);

  let body;
  if (tasks.isPending) body = <Loading label="Loading the tasks" />;
  else if (tasks.isError) body = <ErrorView error={tasks.error} retry={() => void tasks.refetch()} />;
  else if (tasks.data.tasks.length === 0)
    body = <Empty>No tasks yet: the product manager plans them at G1, with the project's intake.</Empty>;
  else {
    const all = tasks.data.tasks;
    const done = all.filter((t) => t.status === "TASK_STATUS_DONE").length;
    const ready = all.filter((t) => readiness(t, byId).kind === "ready").length;
    body = (
      <>
        <p className="muted">
          {all.length} {all.length === 1 ? "task" : "tasks"}: {done} done, {ready} ready to start.
        </p>
        {byGate.map(([gate, list]) => (
          <GateTasks
            key={gate}
            projectId={project.id}
            gate={gate}
            workflow={workflow.data}
            tasks={list}
            byId={byId}
            editable={editable}
          />
        ))}
      </>
    );
  }
  return (
    <section aria-labelledby="tasks-heading">
      <h2 id="tasks-heading">Tasks</h2>
      {body}
    </section>
  );
}

function GateTasks(props: {
  projectId: string;
  gate: number;
  workflow: Workflow | undefined;
  tasks: Task[];
  byId: ReadonlyMap<string, Task>;
  editable: boolean;
}) {
  const id = `tasks-g${props.gate}`;
  return (
    <section aria-labelledby={id} className="task-gate">
      <h3 id={id}>{gateTitle(props.workflow, props.gate)}</h3>
      <ul className="task-list">
        {props.tasks.map((t) => (
          <TaskItem
            key={t.id}
            projectId={props.projectId}
            task={t}
            byId={props.byId}
            editable={props.editable}
          />
        ))}
      </ul>
    </section>
  );
}

/** The element id of a task on this page, for the dependency links. */
const anchor = (taskId: string) => `task-${taskId}`;

/** Moves to a task of the page (and focus with it, for keyboard and screen reader users). */
function goToTask(e: MouseEvent<HTMLAnchorElement>, taskId: string) {
  const target = document.getElementById(anchor(taskId));
  if (!target) return;
  e.preventDefault();
  target.scrollIntoView?.({ block: "center" });
  target.focus({ preventScroll: true });
}

function TaskItem(props: {
  projectId: string;
  task: Task;
  byId: ReadonlyMap<string, Task>;
  editable: boolean;
}) {
  const { task, byId } = props;
  const ready = readiness(task, byId);
  return (
    <li id={anchor(task.id)} className="task" tabIndex={-1}>
      <h4>{task.title}</h4>
      {task.description ? <p className="task-description">{task.description}</p> : null}
      <dl className="task-facts">
        <dt>Owner</dt>
        <dd>{agentRoleWords(task.ownerRole)}</dd>
        <dt>Status</dt>
        <dd>
          {props.editable ? (
            <StatusSelect projectId={props.projectId} task={task} />
          ) : (
            taskStatusWords(task.status)
          )}
        </dd>
        <dt>Priority</dt>
        <dd>{taskPriorityWords(task.priority)}</dd>
        <dt>Depends on</dt>
        <dd>
          {task.dependsOn.length === 0 ? (
            "nothing"
          ) : (
            <ul className="task-deps">
              {task.dependsOn.map((id) => {
                const dep = byId.get(id);
                return (
                  <li key={id}>
                    {dep ? (
                      <a href={`#${anchor(id)}`} onClick={(e) => goToTask(e, id)}>
                        {dep.title}
                      </a>
                    ) : (
                      "a task not listed"
                    )}
                    {dep ? ` (${taskStatusWords(dep.status)})` : null}
                  </li>
                );
              })}
            </ul>
          )}
        </dd>
        {ready.kind === "done" ? null : (
          <>
            <dt>Readiness</dt>
            <dd className={`readiness readiness-${ready.kind}`}>{readinessWords(ready)}</dd>
          </>
        )}
      </dl>
    </li>
  );
}

function StatusSelect({ projectId, task }: { projectId: string; task: Task }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const update = useMutation({
    mutationFn: (status: TaskStatus) =>
      unwrap(
        api.PATCH("/api/v1/projects/{projectId}/tasks/{taskId}", {
          params: { path: { projectId, taskId: task.id } },
          body: { status },
        }),
      ),
    onSuccess: ({ task: changed }) =>
      queryClient.setQueryData<TaskList>(queryKeys.tasks(projectId), (data) =>
        data ? { ...data, tasks: data.tasks.map((t) => (t.id === changed.id ? changed : t)) } : data,
      ),
  });
  const value = update.isPending ? update.variables : task.status;
  return (
    <>
      <select
        aria-label={`Status of ${task.title}`}
        value={value}
        disabled={update.isPending}
        onChange={(e) => update.mutate(e.target.value as TaskStatus)}
      >
        {taskStatuses.some((s) => s.value === value) ? null : (
          <option value={value}>{taskStatusWords(value)}</option>
        )}
        {taskStatuses.map((s) => (
          <option key={s.value} value={s.value}>
            {s.label}
          </option>
        ))}
      </select>
      {update.isError ? (
        <span className="field-error" role="alert">
          Could not change the status: {errorMessage(update.error)}
        </span>
      ) : null}
    </>
  );
}
