import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { queryKeys } from "../api/queryKeys";
import { applyLiveMessage, INVALIDATION_DELAY_MS } from "./cache";
import type { ServerMessage } from "./connection";

afterEach(() => vi.useRealTimers());

const gateEvent = (id: string) =>
  ({
    type: "event",
    projectId: "p1",
    event: {
      id,
      projectId: "p1",
      actorId: "u1",
      createTime: "2026-12-07T00:00:00Z",
      gateChanged: { gate: 1, from: "GATE_STATE_IN_PROGRESS", to: "GATE_STATE_IN_REVIEW", reason: "" },
    },
  }) as unknown as ServerMessage;

describe("applyLiveMessage", () => {
  it("refetches a gate's queries once for a burst of events, and adds each event to the timeline", async () => {
    vi.useFakeTimers();
    const client = new QueryClient();
    const fetchGates = vi.fn(() => Promise.resolve({ gates: [] }));
    // An observed query, as a screen showing the gates has.
    const unsubscribe = new QueryObserver(client, {
      queryKey: queryKeys.gates("p1"),
      queryFn: fetchGates,
    }).subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    client.setQueryData(queryKeys.events("p1"), { pages: [{ events: [] }], pageParams: [undefined] });
    fetchGates.mockClear();

    for (let i = 1; i <= 20; i++) applyLiveMessage(client, gateEvent(String(i)));
    const timeline = client.getQueryData<{ pages: { events: { id: string }[] }[] }>(queryKeys.events("p1"));
    expect(timeline?.pages[0]?.events.map((e) => e.id)).toEqual(
      Array.from({ length: 20 }, (_, i) => String(20 - i)),
    );
    expect(fetchGates).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(INVALIDATION_DELAY_MS);
    expect(fetchGates).toHaveBeenCalledOnce();
    unsubscribe();
  });

  it("refetches the verifications when a proof is recorded, and the source trees when a document is saved", async () => {
    vi.useFakeTimers();
    const client = new QueryClient();
    const fetchVerifications = vi.fn(() => Promise.resolve({ verifications: [] }));
    const fetchTree = vi.fn(() => Promise.resolve({ files: [], treeHash: "" }));
    const unsubscribe = [
      new QueryObserver(client, {
        queryKey: queryKeys.verifications("p1", 5),
        queryFn: fetchVerifications,
      }).subscribe(() => {}),
      new QueryObserver(client, { queryKey: queryKeys.sourceTree("p1", 0), queryFn: fetchTree }).subscribe(
        () => {},
      ),
    ];
    await vi.advanceTimersByTimeAsync(0);
    fetchVerifications.mockClear();
    fetchTree.mockClear();

    applyLiveMessage(client, {
      type: "event",
      projectId: "p1",
      event: {
        id: "10",
        projectId: "p1",
        actorId: "u1",
        actorService: "agents",
        createTime: "2026-12-07T00:00:00Z",
        proofRecorded: { gate: 5, type: "PROOF_TYPE_BUILD", result: "PROOF_RESULT_FAIL" },
      },
    });
    await vi.advanceTimersByTimeAsync(INVALIDATION_DELAY_MS);
    expect(fetchVerifications).toHaveBeenCalledOnce();
    expect(fetchTree).not.toHaveBeenCalled();

    applyLiveMessage(client, { type: "document", projectId: "p1" } as unknown as ServerMessage);
    await vi.advanceTimersByTimeAsync(INVALIDATION_DELAY_MS);
    expect(fetchTree).toHaveBeenCalledOnce();
    unsubscribe.forEach((u) => u());
  });

  it("refetches the project, with the caller's role in it, when a member changes", async () => {
    vi.useFakeTimers();
    const client = new QueryClient();
    const fetchProject = vi.fn(() => Promise.resolve({ id: "p1", role: "ROLE_VIEWER" }));
    const unsubscribe = new QueryObserver(client, {
      queryKey: queryKeys.project("p1"),
      queryFn: fetchProject,
    }).subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    fetchProject.mockClear();
    applyLiveMessage(client, {
      type: "event",
      projectId: "p1",
      event: {
        id: "9",
        projectId: "p1",
        actorId: "owner",
        actorService: "",
        createTime: "2026-12-07T00:00:00Z",
        memberChanged: { userId: "ed", role: "ROLE_VIEWER", change: "MEMBER_CHANGE_ROLE_CHANGED" },
      },
    });
    await vi.advanceTimersByTimeAsync(INVALIDATION_DELAY_MS);
    expect(fetchProject).toHaveBeenCalledOnce();
    unsubscribe();
  });
});
