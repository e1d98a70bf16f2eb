import { act, fireEvent, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Schemas } from "../../../api/client";
import { applyLiveMessage } from "../../../live/cache";
import { InProject, testWorkflow } from "../../../test/project";
import { apiError, fakeApi, renderWithProviders, type FakeRequest } from "../../../test/render";
import { Component as TimelinePage } from "./TimelinePage";

type Event = Schemas["Event"];

const EVENTS = "GET /api/v1/projects/p1/events";

function event(id: number, payload: Partial<Event>, actorId = "u-ann"): Event {
  return {
    id: String(id),
    projectId: "p1",
    actorId,
    createTime: new Date(Date.UTC(2025, 0, 1, 0, 0, id)).toISOString(),
    ...payload,
  };
}

const journey: Event[] = [
  event(1, { projectChanged: { change: "created", status: "PROJECT_STATUS_ACTIVE" } }),
  event(2, {
    gateChanged: { gate: 1, from: "GATE_STATE_PENDING", to: "GATE_STATE_IN_PROGRESS", reason: "" },
  }),
  event(3, {
    deliverableRecorded: { gate: 1, documentType: "DOCUMENT_TYPE_INTAKE", documentId: "d1", version: 1 },
  }),
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
];

/** Answers ListEvents from a list, by its cursor and page size, as the API does. */
function eventsFrom(all: Event[]) {
  return ({ query }: FakeRequest) => {
    const after = BigInt(query.get("after") ?? "0");
    const size = Number(query.get("pageSize") ?? "100");
    return { events: all.filter((e) => BigInt(e.id) > after).slice(0, size) };
  };
}

function render(all: Event[]) {
  const api = fakeApi({
    [EVENTS]: eventsFrom(all),
    "GET /api/v1/projects/p1/members": () => ({
      members: [
        { userId: "u-ann", email: "ann@example.com", name: "Ann", role: "ROLE_OWNER", createTime: "" },
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

describe("TimelinePage", () => {
  it("tells the events in words, newest first, with who and when", async () => {
    render(journey);
    expect(screen.getByRole("heading", { level: 2, name: "Timeline" })).toBeTruthy();
    const [review, deliverable, started, created] = await entries();
    expect(review?.textContent).toContain("G1 Scope: in progress → in review");
    expect(review?.textContent).toContain("all deliverables in");
    expect(review?.textContent).toContain("by a former member");
    expect(deliverable?.textContent).toContain("Deliverable recorded at G1 Scope: intake, version 1");
    expect(deliverable?.textContent).toContain("by Ann");
    expect(within(deliverable!).getByRole("link", { name: "Open the intake" }).getAttribute("href")).toBe(
      "/projects/p1/documents/d1",
    );
    expect(started?.textContent).toContain("G1 Scope: not started → in progress");
    expect(created?.textContent).toContain("Project created");
    expect(within(created!).getByText(/ago|\d{4}/).tagName).toBe("TIME");
  });

  it("puts a live event at the top without asking the server again", async () => {
    const { api, queryClient } = render(journey);
    await entries();
    const calls = api.calls(EVENTS).length;
    act(() =>
      applyLiveMessage(queryClient, {
        type: "event",
        projectId: "p1",
        event: event(5, {
          gateChanged: { gate: 1, from: "GATE_STATE_IN_REVIEW", to: "GATE_STATE_APPROVED", reason: "" },
        }),
      }),
    );
    const [top, next] = await entries();
    expect(top?.textContent).toContain("G1 Scope: in review → approved");
    expect(next?.textContent).toContain("G1 Scope: in progress → in review");
    expect(api.calls(EVENTS)).toHaveLength(calls);
    expect(screen.getByText(/^5 events, newest first/)).toBeTruthy();
  });

  it("follows the cursor page by page, and keeps only the rows in view in the page", async () => {
    const many = Array.from({ length: 1050 }, (_, i) =>
      event(i + 1, {
        tasksChanged: { taskIds: ["t1"], change: "updated", status: "TASK_STATUS_IN_PROGRESS" },
      }),
    );
    many[1049] = event(1050, { projectChanged: { change: "completed", status: "PROJECT_STATUS_COMPLETED" } });
    const { api } = render(many);
    const rows = await entries();
    expect(api.calls(EVENTS).map((r) => r.query.get("after"))).toEqual([
      "0",
      "200",
      "400",
      "600",
      "800",
      "1000",
    ]);
    expect(api.calls(EVENTS).every((r) => r.query.get("pageSize") === "200")).toBe(true);
    expect(screen.getByText(/^1,050 events, newest first/)).toBeTruthy();
    expect(rows[0]?.textContent).toContain("Project completed");
    expect(rows[0]?.getAttribute("aria-posinset")).toBe("1");
    expect(rows[0]?.getAttribute("aria-setsize")).toBe("1050");
    // Virtualized: a screenful and a few more, not a thousand.
    expect(rows.length).toBeLessThan(40);
    expect(rows[1]?.textContent).toContain("A task: in progress");

    // Scrolling far down brings the oldest events in.
    const region = screen.getByRole("region", { name: "Timeline events, newest first" });
    act(() => {
      region.scrollTop = 1050 * 100;
      fireEvent.scroll(region);
    });
    const after = await entries();
    expect(after.at(-1)?.getAttribute("aria-posinset")).toBe("1050");
    expect(after.length).toBeLessThan(40);
  });

  it("says what fills an empty timeline", async () => {
    render([]);
    expect(await screen.findByText(/Nothing has happened yet/)).toBeTruthy();
  });

  it("says when a page fails, and tries again", async () => {
    const many = Array.from({ length: 250 }, (_, i) =>
      event(i + 1, { projectChanged: { change: "updated", status: "PROJECT_STATUS_ACTIVE" } }),
    );
    const { api } = render(many);
    api.on(EVENTS, (r) =>
      r.query.get("after") === "200" ? apiError(503, "UNAVAILABLE", "try later") : eventsFrom(many)(r),
    );
    expect(await screen.findByText(/The timeline stopped loading after 200 events/)).toBeTruthy();
    api.on(EVENTS, eventsFrom(many));
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText(/^250 events, newest first/)).toBeTruthy();
  });
});
