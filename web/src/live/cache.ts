// What a live message changes in the query cache. Timeline events are added in place (the
// timeline is live without refetching); other changes mark the queries they touch stale, so the
// screens showing them refetch once. Runs are replaced in place: they change often.
import type { InfiniteData, QueryClient } from "@tanstack/react-query";
import type { Schemas } from "../api/client";
import { queryKeys } from "../api/queryKeys";
import type { ServerMessage } from "./connection";

type Event = Schemas["Event"];
type Run = Schemas["Run"];
type EventsPage = { events: Event[] };
type RunsPage = { runs: Run[] };

export function applyLiveMessage(client: QueryClient, message: ServerMessage): void {
  switch (message.type) {
    case "event":
      applyEvent(client, message.projectId, message.event);
      break;
    case "run":
      applyRun(client, message.projectId, message.run);
      break;
    case "document":
      void client.invalidateQueries({ queryKey: queryKeys.documents(message.projectId) });
      void client.invalidateQueries({ queryKey: queryKeys.gates(message.projectId) });
      void client.invalidateQueries({ queryKey: queryKeys.status(message.projectId) });
      break;
    case "notification":
      void client.invalidateQueries({ queryKey: queryKeys.notifications });
      break;
    default:
      break;
  }
}

function applyEvent(client: QueryClient, projectId: string, event: Event): void {
  client.setQueryData<InfiniteData<EventsPage>>(queryKeys.events(projectId), (data) => {
    if (!data?.pages[0]) return data;
    if (data.pages.some((p) => p.events.some((e) => e.id === event.id))) return data;
    const [first, ...rest] = data.pages;
    return { ...data, pages: [{ ...first, events: [event, ...first.events] }, ...rest] };
  });
  const stale = (key: readonly unknown[]) => void client.invalidateQueries({ queryKey: key });
  if (event.gateChanged || event.proofRecorded || event.deliverableRecorded) {
    stale(queryKeys.gates(projectId));
    stale(queryKeys.status(projectId));
    stale(queryKeys.project(projectId).concat("summary"));
    stale(queryKeys.projects);
  }
  if (event.gateChanged) stale(queryKeys.costs(projectId));
  if (event.tasksChanged) stale(queryKeys.tasks(projectId));
  if (event.memberChanged) stale(queryKeys.members(projectId));
  if (event.projectChanged) {
    stale(queryKeys.project(projectId));
    stale(queryKeys.projects);
  }
}

function applyRun(client: QueryClient, projectId: string, run: Run): void {
  let known = false;
  client.setQueryData<RunsPage>(queryKeys.runs(projectId), (data) => {
    if (!data) return data;
    const runs = data.runs.map((r) => {
      if (r.id !== run.id) return r;
      known = true;
      // A live run message carries no output; keep what the list had.
      return { ...run, output: r.output };
    });
    return { ...data, runs: known ? runs : [run, ...data.runs] };
  });
  if (run.state === "RUN_STATE_SUCCEEDED" || run.state === "RUN_STATE_FAILED") {
    void client.invalidateQueries({ queryKey: queryKeys.costs(projectId) });
    void client.invalidateQueries({ queryKey: queryKeys.usage });
  }
}
