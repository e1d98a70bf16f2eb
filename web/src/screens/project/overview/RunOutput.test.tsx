import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ServerMessage } from "../../../live/connection";
import { Component as OverviewPage } from "./OverviewPage";
import type { Run } from "./data";
import { DrivenSocket, nextStep, PID, project, projectApi, renderProjectPage, run, status } from "./testing";

afterEach(() => vi.unstubAllGlobals());

const chunk = (attempt: number, seq: number, text: string): ServerMessage => ({
  type: "chunk",
  projectId: PID,
  runId: "run1",
  chunk: { attempt, seq: String(seq), text },
});
const watched = (r = run()): ServerMessage => ({ type: "run", projectId: PID, runId: r.id, run: r });

/** The socket the console has open now (after opening the newest one). */
async function openSocket(): Promise<DrivenSocket> {
  await waitFor(() => expect(DrivenSocket.all.length).toBeGreaterThan(0));
  const socket = DrivenSocket.all.at(-1)!;
  act(() => socket.open());
  await waitFor(() =>
    expect(socket.sent).toContainEqual({ type: "watchRun", projectId: PID, runId: "run1" }),
  );
  return socket;
}

describe("live run output", () => {
  it("streams the running run's output in order, without repeating it after a reconnect, and starts over with a new attempt", async () => {
    const api = projectApi({
      runs: [run()],
      status: status(nextStep("NEXT_ACTION_KIND_WAIT_FOR_AGENTS")),
    });
    api.on(`GET /api/v1/projects/${PID}/runs/run1`, () => ({
      run: run({ state: "RUN_STATE_SUCCEEDED", attempt: 2, output: "Again, and done." }),
    }));
    await renderProjectPage(<OverviewPage />, { api, live: true });

    // The run at work is open by itself: the person lands watching it write.
    const log = await screen.findByRole("log", { name: "Output of product manager" });
    expect(log.getAttribute("aria-live")).toBe("off");
    let socket = await openSocket();
    act(() => {
      socket.deliver(watched());
      socket.deliver(chunk(1, 1, "Hello"));
      socket.deliver(chunk(1, 2, ", world"));
    });
    await waitFor(() => expect(log.textContent).toBe("Hello, world"));

    // The connection drops; the console watches again, and the server sends the attempt from the start.
    act(() => socket.drop());
    await waitFor(() => expect(DrivenSocket.all.length).toBe(2), { timeout: 3000 });
    socket = await openSocket();
    act(() => {
      socket.deliver(watched());
      socket.deliver(chunk(1, 1, "Hello"));
      socket.deliver(chunk(1, 2, ", world"));
      socket.deliver(chunk(1, 3, "!"));
    });
    await waitFor(() => expect(log.textContent).toBe("Hello, world!"));

    // The attempt failed and the run tries again: its output starts over.
    act(() => socket.deliver(watched(run({ attempt: 2 }))));
    await waitFor(() => expect(log.textContent).toBe(""));
    expect(screen.getByText("attempt 2 of 4")).toBeDefined();
    act(() => socket.deliver(chunk(2, 1, "Again")));
    await waitFor(() => expect(log.textContent).toBe("Again"));

    // It finishes: the output it stored is shown.
    act(() => {
      socket.deliver({
        type: "run",
        projectId: PID,
        run: run({ state: "RUN_STATE_SUCCEEDED", attempt: 2, endTime: "2026-12-07T10:05:00Z" }),
      });
      socket.deliver({ type: "unwatched", projectId: PID, runId: "run1" });
    });
    await waitFor(() => expect(log.textContent).toBe("Again, and done."));
    expect(screen.getByText("succeeded")).toBeDefined();
  });

  it("shows a finished run's stored output when opened; editors retry it, and cancel a running one", async () => {
    const api = projectApi({
      runs: [
        run({ id: "run2", role: "AGENT_ROLE_ARCHITECT", state: "RUN_STATE_RUNNING" }),
        run({
          state: "RUN_STATE_FAILED",
          error: "the model answered 529 overloaded",
          endTime: "2026-12-07T10:01:00Z",
        }),
      ],
      status: status(nextStep("NEXT_ACTION_KIND_UNBLOCK_GATE", { blockedReason: "overloaded" })),
    });
    api.on(`GET /api/v1/projects/${PID}/runs/run1`, () => ({
      run: run({ state: "RUN_STATE_FAILED", output: "Partial answer" }),
    }));
    api.on(`POST /api/v1/projects/${PID}/runs`, ({ body }) => ({
      run: run({
        id: "run3",
        ...(body as Pick<Run, "gate" | "role">),
        state: "RUN_STATE_QUEUED",
        attempt: 0,
      }),
      created: true,
    }));
    api.on(`POST /api/v1/projects/${PID}/runs/run2:cancel`, () => ({
      run: run({ id: "run2", state: "RUN_STATE_CANCELLED" }),
    }));
    await renderProjectPage(<OverviewPage />, { api });

    expect(await screen.findByText(/Failed: the model answered 529 overloaded/)).toBeDefined();
    const runs = screen.getByRole("region", { name: "Agent work at G1 Scope" });
    await userEvent.click(within(runs).getByRole("button", { name: "Show output of product manager" }));
    const log = screen.getByRole("log", { name: "Output of product manager" });
    await waitFor(() => expect(log.textContent).toBe("Partial answer"));

    await userEvent.click(within(runs).getByRole("button", { name: "Cancel the architect run" }));
    await waitFor(() => expect(api.calls(`POST /api/v1/projects/${PID}/runs/run2:cancel`)).toHaveLength(1));

    await userEvent.click(within(runs).getByRole("button", { name: "Retry product manager" }));
    await waitFor(() =>
      expect(api.calls(`POST /api/v1/projects/${PID}/runs`)[0]?.body).toEqual({
        gate: 1,
        role: "AGENT_ROLE_PRODUCT_MANAGER",
      }),
    );
    // The new run is listed and open.
    expect(await screen.findByText("queued")).toBeDefined();
    expect(within(runs).getAllByRole("button", { name: /Hide output/ })).toHaveLength(1);
  });

  it("gives viewers no cancel or retry", async () => {
    const api = projectApi({
      runs: [
        run({ id: "run2", state: "RUN_STATE_RUNNING" }),
        run({ state: "RUN_STATE_SUCCEEDED", endTime: "2026-12-07T10:01:00Z" }),
      ],
    });
    await renderProjectPage(<OverviewPage />, { api, project: project({ role: "ROLE_VIEWER" }) });
    await screen.findByRole("region", { name: "Agent work at G1 Scope" });
    expect(screen.queryByRole("button", { name: /Cancel/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Retry/ })).toBeNull();
    expect(screen.getAllByRole("button", { name: /output of product manager/ })).toHaveLength(2);
  });

  it("shows a run waiting for one of our services as waiting, not failed, and says when a run was resumed", async () => {
    const waiting =
      "waiting: FuzzyLlama's projects service was unavailable; the run goes on by itself when it is back.";
    const api = projectApi({
      runs: [
        run({ id: "run2", state: "RUN_STATE_QUEUED", error: waiting }),
        run({
          state: "RUN_STATE_SUCCEEDED",
          rescues: 1,
          rescueTime: "2026-12-07T10:00:30Z",
          endTime: "2026-12-07T10:01:00Z",
        }),
      ],
    });
    await renderProjectPage(<OverviewPage />, { api });
    const runs = await screen.findByRole("region", { name: "Agent work at G1 Scope" });
    expect(within(runs).getByText(waiting)).toBeDefined();
    expect(within(runs).queryByText(/Failed/)).toBeNull();
    expect(within(runs).getByText("resumed once after its worker stopped")).toBeDefined();
  });
});
