// What a live message changes in the query cache. Timeline events are added in place (the
// timeline is live without refetching); other changes mark the queries they touch stale, so the
// screens showing them refetch once. Runs are replaced in place: they change often.
//
// Invalidations are gathered for a moment before they are made: agents working change a gate,
// its proofs and its documents in bursts of many messages, and each query should refetch once
// per burst, not once per message (which would also spend the user's rate limit).
import type { InfiniteData, QueryClient } from "@tanstack/react-query";
import type { Schemas } from "../api/client";
import { queryKeys } from "../api/queryKeys";
import type { ServerMessage } from "./connection";

type Event = Schemas["Event"];
type Run = Schemas["Run"];
type EventsPage = { events: Event[] };
type RunsPage = { runs: Run[] };

/** How long invalidations are gathered before the queries refetch. */
export const INVALIDATION_DELAY_MS = 100;

const pending = new WeakMap<QueryClient, Map<string, readonly unknown[]>>();

/** Marks the queries under key stale, together with the others asked for in the same moment. */
function stale(client: QueryClient, key: readonly unknown[]): void {
  let keys = pending.get(client);
  if (!keys) {
    const batch = new Map<string, readonly unknown[]>();
    pending.set(client, batch);
    keys = batch;
    setTimeout(() => {
      pending.delete(client);
      for (const queryKey of batch.values()) void client.invalidateQueries({ queryKey });
    }, INVALIDATION_DELAY_MS);
  }
  keys.set(JSON.stringify(key), key);
}

export function applyLiveMessage(client: QueryClient, message: ServerMessage): void {
  switch (message.type) {
    case "event":
      applyEvent(client, message.projectId, message.event);
      break;
    case "run":
      applyRun(client, message.projectId, message.run);
      break;
    case "document":
      stale(client, queryKeys.documents(message.projectId));
      // A source file is a code document: the trees listing it changed too.
      stale(client, queryKeys.sourceTrees(message.projectId));
      stale(client, queryKeys.gates(message.projectId));
      stale(client, queryKeys.status(message.projectId));
      break;
    case "notification":
      stale(client, queryKeys.notifications);
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
  const mark = (key: readonly unknown[]) => stale(client, key);
  if (event.gateChanged || event.proofRecorded || event.deliverableRecorded) {
    mark(queryKeys.gates(projectId));
    mark(queryKeys.status(projectId));
    mark(queryKeys.projects);
    // A verification records its proofs, and blocks its gate when they fail; a gate's new
    // deliverable changes the tree it holds. Verifications have no messages of their own.
    mark(queryKeys.allVerifications(projectId));
  }
  if (event.deliverableRecorded) mark(queryKeys.sourceTrees(projectId));
  if (event.gateChanged) mark(queryKeys.costs(projectId));
  if (event.tasksChanged) mark(queryKeys.tasks(projectId));
  if (event.memberChanged) {
    mark(queryKeys.members(projectId));
    // The change may be the viewer's own role (or removal): the project carries it, and every
    // control of the page follows it.
    mark(queryKeys.project(projectId));
    mark(queryKeys.projects);
  }
  if (event.projectChanged) {
    mark(queryKeys.project(projectId));
    mark(queryKeys.projects);
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
    stale(client, queryKeys.costs(projectId));
    stale(client, queryKeys.usage);
    // Its stored output (of the attempt that finished), if a page shows it.
    stale(client, queryKeys.run(projectId, run.id));
  }
}
