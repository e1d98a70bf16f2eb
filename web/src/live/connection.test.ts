import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  LiveConnection,
  type ClientMessage,
  type LiveOptions,
  type ServerMessage,
  type StreamTarget,
} from "./connection";

/** A WebSocket the test drives: it records what the client sends and delivers what the test says. */
class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static all: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  sent: ClientMessage[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data) as ClientMessage);
  }
  close() {
    this.readyState = FakeSocket.CLOSED;
  }
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  deliver(message: ServerMessage) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006) {
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code });
  }
}

const event = (projectId: string, id: string) =>
  ({
    type: "event",
    projectId,
    event: { id, projectId, actorId: "u1", createTime: "2026-12-07T00:00:00Z" },
  }) as ServerMessage;

function setup(
  token = vi.fn(() => Promise.resolve<string | null>("tok-1")),
  refresh = vi.fn(() => Promise.resolve<string | null>("tok-2")),
  openStream?: LiveOptions["openStream"],
) {
  const received: ServerMessage[] = [];
  const resyncs: unknown[] = [];
  const connection = new LiveConnection({
    url: "ws://test/api/v1/ws",
    token,
    refresh,
    onMessage: (m) => received.push(m),
    onResync: (t) => resyncs.push(t),
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    backoff: () => 1000,
    ...(openStream ? { openStream } : {}),
  });
  return { connection, received, resyncs, token, refresh };
}

const latest = () => FakeSocket.all.at(-1)!;
const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe("LiveConnection", () => {
  it("offers the token as a subprotocol and subscribes to what the page follows", async () => {
    const { connection } = setup();
    connection.followProject("p1");
    connection.start();
    await flush();
    expect(latest().protocols).toEqual(["fuzzyllama.v1", "bearer.tok-1"]);
    latest().open();
    expect(latest().sent).toEqual([{ type: "subscribe", projectId: "p1" }]);
  });

  it("resumes after a reconnect from the last event and notification it saw", async () => {
    const { connection, received } = setup();
    const statuses: string[] = [];
    connection.onStatus((s) => statuses.push(s));
    connection.followProject("p1");
    connection.followNotifications();
    connection.start();
    await flush();
    latest().open();
    latest().deliver(event("p1", "41"));
    latest().deliver(event("p1", "42"));
    latest().deliver({
      type: "notification",
      notifications: true,
      notification: { id: "7" },
    } as unknown as ServerMessage);
    latest().drop();
    expect(connection.getStatus()).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.all).toHaveLength(2);
    latest().open();
    expect(latest().sent).toEqual([
      { type: "subscribe", projectId: "p1", afterEventId: "42" },
      { type: "subscribe", notifications: true, afterNotificationId: "7" },
    ]);
    expect(statuses).toEqual(["connecting", "open", "reconnecting", "open"]);
    expect(received).toHaveLength(3);
  });

  it("asks the page to refetch when a subscription starts with nothing to replay from", async () => {
    const { connection, resyncs } = setup();
    connection.followProject("p1");
    connection.start();
    await flush();
    latest().open();
    latest().deliver({ type: "subscribed", projectId: "p1" });
    expect(resyncs).toEqual([{ projectId: "p1" }]);
  });

  it("refreshes the token and reconnects at once after a 4001 close", async () => {
    const { connection, refresh } = setup();
    connection.start();
    await flush();
    latest().open();
    latest().drop(4001);
    await flush();
    expect(refresh).toHaveBeenCalledOnce();
    expect(FakeSocket.all).toHaveLength(2);
    expect(latest().protocols).toEqual(["fuzzyllama.v1", "bearer.tok-1"]);
  });

  it("keeps trying, without a socket, while the session cannot be refreshed", async () => {
    const token = vi.fn(() => Promise.resolve<string | null>("tok-1"));
    const { connection } = setup(
      token,
      vi.fn(() => Promise.resolve<string | null>(null)),
    );
    connection.start();
    await flush();
    latest().open();
    token.mockResolvedValue(null);
    latest().drop(4001);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(connection.getStatus()).toBe("reconnecting");
    expect(FakeSocket.all).toHaveLength(1);
    token.mockResolvedValue("tok-3");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(latest().protocols).toEqual(["fuzzyllama.v1", "bearer.tok-3"]);
  });

  it("counts followers: unsubscribes only when the last one leaves", async () => {
    const { connection } = setup();
    connection.start();
    await flush();
    latest().open();
    const a = connection.followProject("p1");
    const b = connection.followProject("p1");
    a();
    expect(latest().sent).toEqual([{ type: "subscribe", projectId: "p1" }]);
    b();
    expect(latest().sent.at(-1)).toEqual({ type: "unsubscribe", projectId: "p1" });
  });

  it("delivers a watched run's messages to its listeners and watches again after a reconnect", async () => {
    const { connection } = setup();
    connection.start();
    await flush();
    latest().open();
    const got: ServerMessage[] = [];
    connection.watchRun("p1", "r1", (m) => got.push(m));
    const chunk = {
      type: "chunk",
      projectId: "p1",
      runId: "r1",
      chunk: { attempt: 1, seq: "1", text: "hello" },
    } as ServerMessage;
    latest().deliver(chunk);
    latest().deliver({ ...chunk, runId: "r2" } as ServerMessage);
    expect(got).toEqual([chunk]);
    latest().drop();
    await vi.advanceTimersByTimeAsync(1000);
    latest().open();
    expect(latest().sent).toEqual([{ type: "watchRun", projectId: "p1", runId: "r1" }]);
  });

  it("an unwatch's answer does not end a watch of the same run started after it", async () => {
    const { connection } = setup();
    connection.start();
    await flush();
    latest().open();
    const got: string[] = [];
    const stop = connection.watchRun("p1", "r1", () => got.push("first"));
    stop();
    connection.watchRun("p1", "r1", (m) => got.push(m.type));
    latest().deliver({ type: "unwatched", projectId: "p1", runId: "r1" });
    const chunk = {
      type: "chunk",
      projectId: "p1",
      runId: "r1",
      chunk: { attempt: 1, seq: "1", text: "x" },
    } as const;
    latest().deliver(chunk);
    expect(got).toEqual(["chunk"]);
    // The run finishing ends the watch.
    latest().deliver({ type: "unwatched", projectId: "p1", runId: "r1" });
    latest().deliver(chunk);
    expect(got).toEqual(["chunk", "unwatched"]);
  });

  it("a watch the server ended does not let its old holder end a newer watch of the run", async () => {
    const { connection } = setup();
    connection.start();
    await flush();
    latest().open();
    const stopFirst = connection.watchRun("p1", "r1", () => {});
    latest().deliver({ type: "unwatched", projectId: "p1", runId: "r1" });
    connection.watchRun("p1", "r1", () => {});
    stopFirst();
    expect(latest().sent.filter((m) => m.type === "unwatchRun")).toEqual([]);
  });

  it("opens one socket when stopped and started again while fetching its token (no leak)", async () => {
    const { connection } = setup();
    connection.start();
    connection.stop();
    connection.start();
    await flush();
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("stop closes the socket and never reconnects", async () => {
    const { connection } = setup();
    connection.start();
    await flush();
    latest().open();
    connection.stop();
    latest().drop(1000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(connection.getStatus()).toBe("closed");
  });
});

/** An event-stream response whose body the test writes to. */
function streamResponse() {
  let push!: (text: string) => void;
  let end!: () => void;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      push = (text) => c.enqueue(new TextEncoder().encode(text));
      end = () => c.close();
    },
  });
  return { response: new Response(body, { headers: { "Content-Type": "text/event-stream" } }), push, end };
}

describe("LiveConnection's event-stream fallback", () => {
  it("falls back after three sockets closed before opening, and resumes each stream from its last id", async () => {
    const opened: {
      target: StreamTarget;
      afterId: string | undefined;
      push: (t: string) => void;
      end: () => void;
    }[] = [];
    const openStream = vi.fn((target: StreamTarget, afterId: string | undefined) => {
      const s = streamResponse();
      opened.push({ target, afterId, push: s.push, end: s.end });
      return Promise.resolve(s.response);
    });
    const { connection, received } = setup(undefined, undefined, openStream);
    connection.followProject("p1");
    connection.start();
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(1000);
      latest().drop(1006);
    }
    await flush();
    expect(connection.getTransport()).toBe("eventStream");
    expect(opened).toHaveLength(1);
    expect(opened[0]!.target).toEqual({ kind: "project", projectId: "p1" });
    opened[0]!.push(`id: 5\ndata: ${JSON.stringify(event("p1", "5"))}\n\n`);
    await flush();
    expect(received.map((m) => m.type)).toEqual(["event"]);
    expect(connection.getStatus()).toBe("open");
    opened[0]!.end();
    await vi.advanceTimersByTimeAsync(1000);
    expect(opened).toHaveLength(2);
    expect(opened[1]!.afterId).toBe("5");
  });
});
