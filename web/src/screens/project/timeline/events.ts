// The project's timeline: the query (an infinite query under queryKeys.events, whose pages the
// live connection adds to: live/cache.ts puts a new event at the front of pages[0].events), and
// each event in words.
//
// Paging: ListEvents with newestFirst gives the newest page first; each page's nextPageToken asks
// for the page of older events before it, and is empty on the page that holds the first event.
// The first page is the newest; the timeline asks for older pages as the user scrolls to them.
import { useInfiniteQuery, type InfiniteData } from "@tanstack/react-query";
import { useApi } from "../../../api/ApiProvider";
import { unwrap, type Schemas } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { gateStateLabel, roleLabel } from "../../../shared/labels";
import { gateTitle, type Workflow } from "../../../shared/useWorkflow";
import type { Member } from "../members/members";
import { listWords, quoted, taskStatusWords, type Task } from "../tasks/tasks";

export type Event = Schemas["Event"];

/** A page of the timeline, newest first: its events, and the token of the older page (empty: none). */
export type EventsPage = Schemas["ListEventsResponse"];

/** How many events one page asks for (the API gives at most 200). */
export const EVENTS_PAGE_SIZE = 100;

export function useEvents(projectId: string) {
  const api = useApi();
  return useInfiniteQuery<EventsPage, Error, InfiniteData<EventsPage, string>, readonly unknown[], string>({
    queryKey: queryKeys.events(projectId),
    initialPageParam: "",
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/projects/{projectId}/events", {
          params: {
            path: { projectId },
            query: {
              newestFirst: true,
              pageSize: EVENTS_PAGE_SIZE,
              ...(pageParam ? { pageToken: pageParam } : {}),
            },
          },
        }),
      ),
    getNextPageParam: (page) => page.nextPageToken || undefined,
  });
}

/** Compares two int64 ids (decimal strings without leading zeros): newest (largest) first. */
function newestFirst(a: Event, b: Event): number {
  if (a.id.length !== b.id.length) return b.id.length - a.id.length;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Every event of the pages once, newest first (a live event may also come in a page fetched
 * after it arrived).
 */
export function flattenEvents(pages: readonly EventsPage[] | undefined): Event[] {
  const byId = new Map<string, Event>();
  for (const page of pages ?? []) for (const e of page.events) if (!byId.has(e.id)) byId.set(e.id, e);
  return [...byId.values()].sort(newestFirst);
}

/** What the words of an event are made from. */
export interface EventContext {
  projectId: string;
  workflow: Workflow | undefined;
  members: ReadonlyMap<string, Member>;
  tasks: ReadonlyMap<string, Task>;
}

/** An event in words: a summary line, an optional detail, an optional link to what it is about. */
export interface EventWords {
  summary: string;
  detail?: string;
  link?: { to: string; label: string };
}

const enumWords = (value: string, prefix: string) =>
  value.replace(prefix, "").replaceAll("_", " ").toLowerCase();

/**
 * Who did it: the member's name, and the FuzzyLlama service that acted for them, if one did
 * ("Ann's agents", "Ann via the documents service"); an empty actor is the system; an id no
 * longer among the members is a former member.
 */
export function actorWords(event: Pick<Event, "actorId" | "actorService">, ctx: EventContext): string {
  const { actorId, actorService } = event;
  if (!actorId) return actorService === "agents" ? "the agents" : "the system";
  const name = memberName(actorId, ctx);
  if (!actorService) return name;
  if (actorService === "agents") return `${name}'s agents`;
  return `${name} via the ${actorService} service`;
}

function memberName(userId: string, ctx: EventContext): string {
  const m = ctx.members.get(userId);
  return m ? m.name || m.email : "a former member";
}

function taskTitles(ids: string[], ctx: EventContext): string {
  const shown = ids.slice(0, 5).map((id) => {
    const t = ctx.tasks.get(id);
    return t ? quoted(t.title) : "a task no longer listed";
  });
  if (ids.length > 5) shown.push(`${ids.length - 5} more`);
  return listWords(shown);
}

export function eventWords(e: Event, ctx: EventContext): EventWords {
  const gate = (n: number) => gateTitle(ctx.workflow, n);
  if (e.gateChanged) {
    const g = e.gateChanged;
    const to = gateStateLabel(g.to);
    let summary = `${gate(g.gate)}: ${gateStateLabel(g.from)} → ${to}`;
    if (g.from === "GATE_STATE_UNSPECIFIED")
      summary = g.to === "GATE_STATE_PENDING" ? `${gate(g.gate)} is next: ${to}` : `${gate(g.gate)}: ${to}`;
    return g.reason ? { summary, detail: g.reason } : { summary };
  }
  if (e.proofRecorded) {
    const p = e.proofRecorded;
    return {
      summary: `Proof recorded at ${gate(p.gate)}: ${enumWords(p.type, "PROOF_TYPE_")}, ${enumWords(p.result, "PROOF_RESULT_")}`,
    };
  }
  if (e.deliverableRecorded) {
    const d = e.deliverableRecorded;
    const type = enumWords(d.documentType, "DOCUMENT_TYPE_");
    return {
      summary: `Deliverable recorded at ${gate(d.gate)}: ${type}, version ${d.version}`,
      link: { to: `/projects/${ctx.projectId}/documents/${d.documentId}`, label: `Open the ${type}` },
    };
  }
  if (e.tasksChanged) {
    const t = e.tasksChanged;
    const n = t.taskIds.length;
    const status = taskStatusWords(t.status);
    const one = n === 1 ? ctx.tasks.get(t.taskIds[0] ?? "") : undefined;
    if (t.change === "created") {
      if (n === 1) return { summary: one ? `Task planned: ${quoted(one.title)}` : "A task planned" };
      return { summary: `${n} tasks planned`, detail: taskTitles(t.taskIds, ctx) };
    }
    if (n === 1) return { summary: `${one ? `Task ${quoted(one.title)}` : "A task"}: ${status}` };
    return { summary: `${n} tasks: ${status}`, detail: taskTitles(t.taskIds, ctx) };
  }
  if (e.memberChanged) {
    const m = e.memberChanged;
    const name = memberName(m.userId, ctx);
    const role = roleLabel(m.role);
    switch (m.change) {
      case "MEMBER_CHANGE_ADDED":
        return { summary: `${name} joined as ${role}` };
      case "MEMBER_CHANGE_REMOVED":
        return { summary: `${name} was removed` };
      default:
        // A role change; or, on events from before the change was kept, an addition or a role
        // change (which cannot be told apart) or a removal (no role).
        if (m.role === "ROLE_UNSPECIFIED") return { summary: `${name} was removed from the project` };
        return { summary: `${name} is now ${role === "owner" ? "the owner" : `a ${role}`}` };
    }
  }
  if (e.projectChanged) {
    const words: Record<string, string> = {
      created: "Project created",
      updated: "Project details changed",
      archived: "Project archived",
      completed: "Project completed: every gate is approved",
    };
    return { summary: words[e.projectChanged.change] ?? `Project ${e.projectChanged.change}` };
  }
  return { summary: "Something changed" };
}
