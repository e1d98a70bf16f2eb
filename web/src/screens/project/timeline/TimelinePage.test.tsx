import { act, fireEvent, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Schemas } from "../../../api/client";
import { applyLiveMessage } from "../../../live/cache";
import { InProject, testWorkflow } from "../../../test/project";
import { apiError, fakeApi, renderWithProviders, type FakeRequest } from "../../../test/render";
import { Component as TimelinePage } from "./TimelinePage";

type Event = Schemas["Event"];

const EVENTS = "GET /api/v1/projects/p1/events";

function event(id: number, payload: Partial<Event>, actorId = "u-ann", actorService = ""): Event {
  return {
    id: String(id),
    projectId: "p1",
    actorId,
    actorService,
    createTime: new Date(Date.UTC(2025, 0, 1, 0, 0, id)).toISOString(),
    ...payload,
  };
}

const journey: Event[] = [
  event(1, { projectChanged: { change: "created", status: "PROJECT_STATUS_ACTIVE" } }),
  event(
    2,
    { gateChanged: { gate: 1, from: "GATE_STATE_PENDING", to: "GATE_STATE_IN_PROGRESS", reason: "" } },
    "u-ann",
    "agents",
  ),
  event(
    3,
    { deliverableRecorded: { gate: 1, documentType: "DOCUMENT_TYPE_INTAKE", documentId: "d1", version: 1 } },
    "u-ann",
    "documents",
  ),
  event(
    4,
    {
      gateChanged: {
        gate: 1,
        from: "GATE_STATE_IN_PROGRESS",
        to: "GATE_STATE_IN_REVIEW",
        reason: "all deliverables in",
      },
    },
    "u-gone",
  ),
  event(5, { memberChanged: { userId: "u-bob", role: "ROLE_EDITOR", change: "MEMBER_CHANGE_ADDED" } }),
];

/**
 * Answers ListEvents newest first as the API does: a page of pageSize events older than the
 * pageToken (the oldest id of the page before), and the token of the page after it (empty at the
 * first event).
 */
function eventsFrom(all: Event[]) {
  return ({ query }: FakeRequest) => {
    if (query.get("newestFirst") !== "true" || query.has("after"))
      return apiError(400, "INVALID_ARGUMENT", "the timeline asks newest first");
    const before = query.get("pageToken") ? BigInt(query.get("pageToken")!) : undefined;
    const size = Number(query.get("pageSize") ?? "100");
    const older = all.filter((e) => before === undefined || BigInt(e.id) < before).reverse();
    const events = older.slice(0, size);
    return { events, nextPageToken: older.length > size ? (events.at(-1)?.id ?? "") : "" };
  };
}

/** Events 1 to n, each a task moving; the newest completes the project. */
function manyEvents(n: number): Event[] {
  const many = Array.from({ length: n }, (_, i) =>
    event(i + 1, {
      tasksChanged: { taskIds: ["t1"], change: "updated", status: "TASK_STATUS_IN_PROGRESS" },
    }),
  );
  many[n - 1] = event(n, { projectChanged: { change: "completed", status: "PROJECT_STATUS_COMPLETED" } });
  return many;
}

function render(all: Event[]) {
  const api = fakeApi({
    [EVENTS]: eventsFrom(all),
    "GET /api/v1/projects/p1/members": () => ({
      members: [
        { userId: "u-ann", email: "ann@example.com", name: "Ann", role: "ROLE_OWNER", createTime: "" },
        { userId: "u-bob", email: "bob@example.com", name: "Bob", role: "ROLE_EDITOR", createTime: "" },
      ],
    }),
    "GET /api/v1/projects/p1/tasks": () => ({ tasks: [], nextPageToken: "" }),
    "GET /api/v1/workflows/PROJECT_TYPE_TRADITIONAL": () => testWorkflow,
  });
  return renderWithProviders(
    <InProject>
      <TimelinePage />
    </InProject>,
    { api },
  );
}

/** The timeline's entries as shown, top first. */
async function entries() {
  const region = await screen.findByRole(
    "region",
    { name: "Timeline events, newest first" },
    { timeout: 5000 },
  );
  return within(region).getAllByRole("listitem");
}

beforeEach(() => {
  // jsdom lays nothing out: give the scroll area and the rows a size, so the virtualizer works.
  vi.spyOn(HTMLElement.prototype, "clientHeight", "get").mockReturnValue(600);
  vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockReturnValue(800);
  vi.spyOn(HTMLElement.prototype, "offsetHeight", "get").mockReturnValue(60);
});

const region = () => screen.getByRole("region", { name: "Timeline events, newest first" });

/** Scrolls the timeline to the end of what it holds (jsdom keeps any scrollTop: stop at the end). */
function scrollToEnd() {
  const list = region().querySelector("ol");
  act(() => {
    region().scrollTop = Math.max(0, parseFloat(list?.style.height ?? "0") - 600);
    fireEvent.scroll(region());
  });
}

describe("TimelinePage", () => {
  it("tells the events in words, newest first, with who and when", async () => {
    const { api } = render(journey);
    expect(screen.getByRole("heading", { level: 2, name: "Timeline" })).toBeTruthy();
    const [joined, review, deliverable, started, created] = await entries();
    expect(joined?.textContent).toContain("Bob joined as editor");
    expect(joined?.textContent).toContain("by Ann ·");
    expect(review?.textContent).toContain("G1 Scope: in progress → in review");
    expect(review?.textContent).toContain("all deliverables in");
    expect(review?.textContent).toContain("by a former member");
    expect(deliverable?.textContent).toContain("Deliverable recorded at G1 Scope: intake, version 1");
    expect(deliverable?.textContent).toContain("by Ann via the documents service");
    expect(within(deliverable!).getByRole("link", { name: "Open the intake" }).getAttribute("href")).toBe(
      "/projects/p1/documents/d1",
    );
    expect(started?.textContent).toContain("G1 Scope: not started → in progress");
    expect(started?.textContent).toContain("by Ann's agents");
    expect(created?.textContent).toContain("Project created");
    expect(within(created!).getByText(/ago|\d{4}/).tagName).toBe("TIME");
    // One page, newest first, and it was the whole timeline.
    expect(api.calls(EVENTS)).toHaveLength(1);
    expect(api.calls(EVENTS)[0]?.query.get("pageToken")).toBeNull();
    expect(screen.getByText(/^5 events, newest first/)).toBeTruthy();
    expect(screen.getByRole("status").textContent).toMatch(/start of the timeline/);
    expect(screen.queryByRole("button", { name: "Load older events" })).toBeNull();
  });

  it("puts a live event at the top without asking the server again", async () => {
    const { api, queryClient } = render(journey);
    await entries();
    const calls = api.calls(EVENTS).length;
    act(() =>
      applyLiveMessage(queryClient, {
        type: "event",
        projectId: "p1",
        event: event(
          6,
          { gateChanged: { gate: 1, from: "GATE_STATE_IN_REVIEW", to: "GATE_STATE_APPROVED", reason: "" } },
          "u-bob",
        ),
      }),
    );
    const [top, next] = await entries();
    expect(top?.textContent).toContain("G1 Scope: in review → approved");
    expect(top?.textContent).toContain("by Bob");
    expect(next?.textContent).toContain("Bob joined as editor");
    expect(api.calls(EVENTS)).toHaveLength(calls);
    expect(screen.getByText(/^6 events, newest first/)).toBeTruthy();
  });

  it("shows the newest page first, loads older pages as it scrolls, and keeps only the rows in view", async () => {
    const { api } = render(manyEvents(1050));
    const rows = await entries();
    expect(api.calls(EVENTS)).toHaveLength(1);
    expect(api.calls(EVENTS)[0]?.query.get("newestFirst")).toBe("true");
    expect(api.calls(EVENTS)[0]?.query.get("pageSize")).toBe("100");
    expect(screen.getByText(/^The newest 100 events; older ones load as you scroll down/)).toBeTruthy();
    expect(rows[0]?.textContent).toContain("Project completed");
    expect(rows[0]?.getAttribute("aria-posinset")).toBe("1");
    expect(rows[0]?.getAttribute("aria-setsize")).toBe("-1");
    expect(rows[1]?.textContent).toContain("A task: in progress");
    // Virtualized: a screenful and a few more, not a hundred.
    expect(rows.length).toBeLessThan(40);

    // Scrolling near the end asks for the page before, by the token the first page gave.
    scrollToEnd();
    expect(await screen.findByText(/^The newest 200 events/)).toBeTruthy();
    expect(api.calls(EVENTS)[1]?.query.get("pageToken")).toBe("951");
    expect(api.calls(EVENTS)[1]?.query.get("newestFirst")).toBe("true");

    // Down to the first event: every page once, then no more.
    for (let shown = 300; shown <= 1000; shown += 100) {
      scrollToEnd();
      expect(
        await screen.findByText(new RegExp(`^The newest ${shown.toLocaleString("en-US")} events`)),
      ).toBeTruthy();
    }
    scrollToEnd();
    expect(await screen.findByText(/^1,050 events, newest first/)).toBeTruthy();
    expect(api.calls(EVENTS).map((r) => r.query.get("pageToken"))).toEqual([
      null,
      "951",
      "851",
      "751",
      "651",
      "551",
      "451",
      "351",
      "251",
      "151",
      "51",
    ]);
    scrollToEnd();
    const last = await entries();
    expect(last.at(-1)?.getAttribute("aria-posinset")).toBe("1050");
    expect(last.at(-1)?.getAttribute("aria-setsize")).toBe("1050");
    expect(last.length).toBeLessThan(40);
    expect(screen.queryByRole("button", { name: "Load older events" })).toBeNull();
    expect(api.calls(EVENTS)).toHaveLength(11);
  });

  it("loads older events with a button, for the keyboard", async () => {
    const user = userEvent.setup();
    const { api } = render(manyEvents(150));
    await entries();
    expect(screen.getByRole("status").textContent).toBe("");
    await user.click(screen.getByRole("button", { name: "Load older events" }));
    expect(await screen.findByText(/^150 events, newest first/)).toBeTruthy();
    expect(api.calls(EVENTS).map((r) => r.query.get("pageToken"))).toEqual([null, "51"]);
    expect(screen.queryByRole("button", { name: "Load older events" })).toBeNull();
    expect(screen.getByRole("status").textContent).toMatch(/start of the timeline: every event is shown/);
  });

  it("says what fills an empty timeline", async () => {
    render([]);
    expect(await screen.findByText(/Nothing has happened yet/)).toBeTruthy();
  });

  it("says when an older page fails, keeps what it shows, and tries again", async () => {
    const many = manyEvents(150);
    const { api } = render(many);
    api.on(EVENTS, (r) =>
      r.query.get("pageToken") ? apiError(503, "UNAVAILABLE", "try later") : eventsFrom(many)(r),
    );
    await entries();
    fireEvent.click(screen.getByRole("button", { name: "Load older events" }));
    expect(await screen.findByText(/Older events did not load \(100 shown\)/)).toBeTruthy();
    expect((await entries())[0]?.textContent).toContain("Project completed");
    // Scrolling does not ask again by itself while the page has failed.
    scrollToEnd();
    expect(api.calls(EVENTS)).toHaveLength(2);
    api.on(EVENTS, eventsFrom(many));
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText(/^150 events, newest first/)).toBeTruthy();
  });

  it("says when the timeline does not load", async () => {
    const { api } = render([]);
    api.on(EVENTS, () => apiError(503, "UNAVAILABLE", "try later"));
    expect(await screen.findByRole("alert")).toBeTruthy();
  });
});
