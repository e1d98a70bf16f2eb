// One live connection per tab (the gateway's /api/v1/ws): project events, runs, documents and
// the user's notifications, and the output of watched runs. What the page follows is kept here
// by reference count, so every component asks for what it shows and the socket carries it once.
// After any reconnect it subscribes again from the last event and notification ids it saw, so
// the server replays what was missed; a close with 4001 (token expired, session ended) refreshes
// the token first. Nothing polls.
//
// Where WebSockets cannot pass (a proxy that refuses the upgrade: three attempts in a row closed
// before opening), the connection falls back to the gateway's event streams: one per project
// followed, one for notifications and one per watched run, resumed with the same ids.
import type { Schemas } from "../api/client";
import { readEventStream } from "./eventStream";

export type ServerMessage = Schemas["LiveServerMessage"];
export type ClientMessage = Schemas["LiveClientMessage"];

/** connecting: the first connection; open; reconnecting: lost, trying again; closed: stopped. */
export type LiveStatus = "connecting" | "open" | "reconnecting" | "closed";

export interface LiveOptions {
  /** The socket's URL, e.g. ws://localhost:8080/api/v1/ws. */
  url: string;
  /** A valid access token, or null when signed out (the connection then stops). */
  token: () => Promise<string | null>;
  /** Refreshes the access token after a 4001 close. */
  refresh: () => Promise<string | null>;
  /** Every message the server sends, in order (after the connection's own bookkeeping). */
  onMessage: (message: ServerMessage) => void;
  /**
   * Called when a subscription (re)starts without a replay: what the page shows may be stale —
   * what was loaded before since (when the subscription was asked for); what was loaded after it
   * is current, the subscription covering everything since.
   */
  onResync?: (target: { projectId: string } | { notifications: true }, since: number) => void;
  /** The WebSocket constructor (tests pass a fake). */
  WebSocket?: typeof WebSocket;
  /** Delay before reconnect attempt n (from 0); default 0.5 s doubling to 15 s, with jitter. */
  backoff?: (attempt: number) => number;
  /** Opens the event stream of a target, resuming after an id; enables the fallback. */
  openStream?: (target: StreamTarget, afterId: string | undefined, signal: AbortSignal) => Promise<Response>;
}

/** What an event stream follows. */
export type StreamTarget =
  | { kind: "project"; projectId: string }
  | { kind: "notifications" }
  | { kind: "run"; projectId: string; runId: string };

/** How the connection reaches the gateway. */
export type LiveTransport = "websocket" | "eventStream";

const FAILED_OPENS_BEFORE_FALLBACK = 3;
const STREAM_ENDED = 4010;

type Counted = { count: number };
type ProjectSub = Counted & { lastEventId?: string; askedAt?: number };
type RunWatch = Counted & { projectId: string; listeners: Set<(m: ServerMessage) => void> };
/** Unwatches sent and not yet answered, by run: their "unwatched" must not end a newer watch. */
type PendingUnwatches = Map<string, number>;

const SUBPROTOCOL = "fuzzyllama.v1";
const TOKEN_EXPIRED = 4001;

function defaultBackoff(attempt: number): number {
  const base = Math.min(15_000, 500 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

function biggerId(a: string | undefined, b: string): string {
  if (a === undefined) return b;
  return BigInt(b) > BigInt(a) ? b : a;
}

export class LiveConnection {
  private socket: WebSocket | null = null;
  private status: LiveStatus = "closed";
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  // Bumped by start and stop: a connect that awaited its token while the connection was stopped
  // (and maybe started again: React's strict mode does that) must not open a second socket.
  private generation = 0;
  private readonly projects = new Map<string, ProjectSub>();
  private notifications: (Counted & { lastId?: string; askedAt?: number }) | null = null;
  private readonly runs = new Map<string, RunWatch>();
  private readonly unwatching: PendingUnwatches = new Map();
  private readonly statusListeners = new Set<(s: LiveStatus) => void>();
  private readonly WS: typeof WebSocket;
  private transport: LiveTransport = "websocket";
  private failedOpens = 0;
  private readonly streams = new Map<string, AbortController>();

  constructor(private readonly options: LiveOptions) {
    this.WS = options.WebSocket ?? WebSocket;
  }

  getStatus = (): LiveStatus => this.status;

  getTransport = (): LiveTransport => this.transport;

  onStatus = (listener: (s: LiveStatus) => void): (() => void) => {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  };

  /** Connects, and keeps reconnecting until stop. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.generation++;
    this.attempt = 0;
    this.setStatus("connecting");
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "bye");
    for (const c of this.streams.values()) c.abort();
    this.streams.clear();
    this.setStatus("closed");
  }

  /** Follows a project's events, runs and documents until the returned function is called. */
  followProject(projectId: string): () => void {
    const sub = this.projects.get(projectId);
    if (sub) {
      sub.count++;
    } else {
      this.projects.set(projectId, { count: 1, askedAt: Date.now() });
      this.send({ type: "subscribe", projectId });
    }
    return () => {
      const s = this.projects.get(projectId);
      if (!s || --s.count > 0) return;
      this.projects.delete(projectId);
      this.send({ type: "unsubscribe", projectId });
    };
  }

  /** Follows the user's notifications until the returned function is called. */
  followNotifications(): () => void {
    if (this.notifications) {
      this.notifications.count++;
    } else {
      this.notifications = { count: 1, askedAt: Date.now() };
      this.send({ type: "subscribe", notifications: true });
    }
    return () => {
      if (!this.notifications || --this.notifications.count > 0) return;
      this.notifications = null;
      this.send({ type: "unsubscribe", notifications: true });
    };
  }

  /**
   * Follows a run's output: listener gets the run, then its current attempt's output from the
   * start (again after a reconnect: dedupe chunks by attempt and seq), chunks and changes.
   */
  watchRun(projectId: string, runId: string, listener: (m: ServerMessage) => void): () => void {
    let watch = this.runs.get(runId);
    if (!watch) {
      watch = { count: 0, projectId, listeners: new Set() };
      this.runs.set(runId, watch);
      this.send({ type: "watchRun", projectId, runId });
    }
    watch.count++;
    watch.listeners.add(listener);
    const mine = watch;
    return () => {
      const w = this.runs.get(runId);
      // The server may have ended this watch (the run finished) and another begun since.
      if (w !== mine) return;
      w.listeners.delete(listener);
      if (--w.count > 0) return;
      this.runs.delete(runId);
      if (this.transport === "websocket" && this.socket?.readyState === this.WS.OPEN) {
        this.unwatching.set(runId, (this.unwatching.get(runId) ?? 0) + 1);
      }
      this.send({ type: "unwatchRun", runId });
    };
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    for (const l of this.statusListeners) l(status);
  }

  private send(message: ClientMessage): void {
    if (this.transport === "eventStream") {
      if (!this.stopped) this.syncStreams();
      return;
    }
    if (this.socket?.readyState === this.WS.OPEN) this.socket.send(JSON.stringify(message));
  }

  private async connect(): Promise<void> {
    if (this.transport === "eventStream") {
      this.syncStreams();
      return;
    }
    const generation = this.generation;
    const token = await this.options.token();
    if (this.stopped || generation !== this.generation) return;
    if (!token) {
      // No token now (the server unreachable, a refresh failing): try again later. A signed-out
      // session stops the connection from outside (LiveProvider).
      this.setStatus("reconnecting");
      this.retryTimer = setTimeout(
        () => void this.connect(),
        (this.options.backoff ?? defaultBackoff)(this.attempt++),
      );
      return;
    }
    const socket = new this.WS(this.options.url, [SUBPROTOCOL, `bearer.${token}`]);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.failedOpens = 0;
      this.attempt = 0;
      this.setStatus("open");
      this.resubscribe();
    };
    socket.onmessage = (e: MessageEvent<unknown>) => {
      if (this.socket !== socket || typeof e.data !== "string") return;
      this.receive(JSON.parse(e.data) as ServerMessage);
    };
    socket.onclose = (e: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      this.setStatus("reconnecting");
      if (!opened && ++this.failedOpens >= FAILED_OPENS_BEFORE_FALLBACK && this.options.openStream) {
        this.transport = "eventStream";
        this.syncStreams();
        return;
      }
      void this.reconnect(e.code);
    };
  }

  private async reconnect(code: number): Promise<void> {
    if (code === TOKEN_EXPIRED) {
      const generation = this.generation;
      const token = await this.options.refresh();
      if (generation !== this.generation) return;
      // A fresh token: reconnect now; none: connect retries after a backoff.
      if (token) {
        void this.connect();
        return;
      }
    }
    const delay = (this.options.backoff ?? defaultBackoff)(this.attempt++);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  /** After (re)connecting: everything followed is asked for again, from the last ids seen. */
  private resubscribe(): void {
    this.unwatching.clear();
    for (const [projectId, sub] of this.projects) {
      sub.askedAt = Date.now();
      this.send(
        sub.lastEventId === undefined
          ? { type: "subscribe", projectId }
          : { type: "subscribe", projectId, afterEventId: sub.lastEventId },
      );
    }
    if (this.notifications) {
      this.notifications.askedAt = Date.now();
      const after = this.notifications.lastId;
      this.send(
        after === undefined
          ? { type: "subscribe", notifications: true }
          : { type: "subscribe", notifications: true, afterNotificationId: after },
      );
    }
    for (const [runId, watch] of this.runs) {
      this.send({ type: "watchRun", projectId: watch.projectId, runId });
    }
  }

  /** Event-stream mode: one stream per thing followed; streams of things no longer followed end. */
  private syncStreams(): void {
    const wanted = new Map<string, StreamTarget>();
    for (const projectId of this.projects.keys())
      wanted.set(`p:${projectId}`, { kind: "project", projectId });
    if (this.notifications) wanted.set("n", { kind: "notifications" });
    for (const [runId, w] of this.runs)
      wanted.set(`r:${runId}`, { kind: "run", projectId: w.projectId, runId });
    for (const [key, controller] of this.streams) {
      if (!wanted.has(key)) {
        controller.abort();
        this.streams.delete(key);
      }
    }
    for (const [key, target] of wanted) {
      if (this.streams.has(key)) continue;
      const controller = new AbortController();
      this.streams.set(key, controller);
      void this.followStream(key, target, controller.signal);
    }
    if (wanted.size === 0 && this.status !== "closed") this.setStatus("open");
  }

  private lastIdOf(target: StreamTarget): string | undefined {
    if (target.kind === "project") return this.projects.get(target.projectId)?.lastEventId;
    if (target.kind === "notifications") return this.notifications?.lastId;
    return undefined;
  }

  /** Reads one event stream, reopening it (from the last id seen) until it is no longer wanted. */
  private async followStream(key: string, target: StreamTarget, signal: AbortSignal): Promise<void> {
    const open = this.options.openStream;
    if (!open) return;
    let attempt = 0;
    while (!signal.aborted) {
      let closeCode: number | undefined;
      let finished = false;
      try {
        const afterId = this.lastIdOf(target);
        const opened = Date.now();
        const response = await open(target, afterId, signal);
        if (response.status === 401) closeCode = TOKEN_EXPIRED;
        else if (!response.ok)
          closeCode = response.status === 404 || response.status === 403 ? STREAM_ENDED : undefined;
        else {
          attempt = 0;
          this.setStatus("open");
          if (afterId === undefined && target.kind !== "run") {
            this.options.onResync?.(
              target.kind === "project" ? { projectId: target.projectId } : { notifications: true },
              opened,
            );
          }
          await readEventStream(response, (e) => {
            if (e.event === "close") {
              closeCode = (JSON.parse(e.data) as { code: number }).code;
            } else if (target.kind === "run") {
              const m = runStreamMessage(target, e.event, e.data);
              if (m) {
                if (m.type === "run" && m.run.endTime) finished = true;
                this.receive(m);
              }
            } else {
              this.receive(JSON.parse(e.data) as ServerMessage);
            }
          });
          if (target.kind === "run" && finished) closeCode = STREAM_ENDED;
        }
      } catch {
        if (signal.aborted) return;
      }
      if (signal.aborted) return;
      if (closeCode === STREAM_ENDED) {
        if (target.kind === "run")
          this.receive({ type: "unwatched", projectId: target.projectId, runId: target.runId });
        this.streams.delete(key);
        return;
      }
      if (closeCode === TOKEN_EXPIRED && (await this.options.refresh())) continue;
      this.setStatus("reconnecting");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, (this.options.backoff ?? defaultBackoff)(attempt++));
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case "subscribed":
        if ("projectId" in message && message.projectId) {
          const sub = this.projects.get(message.projectId);
          if (sub && sub.lastEventId === undefined) {
            this.options.onResync?.({ projectId: message.projectId }, sub.askedAt ?? Date.now());
          }
        } else if (this.notifications && this.notifications.lastId === undefined) {
          this.options.onResync?.({ notifications: true }, this.notifications.askedAt ?? Date.now());
        }
        break;
      case "event": {
        const sub = this.projects.get(message.projectId);
        if (sub) sub.lastEventId = biggerId(sub.lastEventId, message.event.id);
        break;
      }
      case "notification":
        if (this.notifications) {
          this.notifications.lastId = biggerId(this.notifications.lastId, message.notification.id);
        }
        break;
      case "unwatched": {
        const pending = this.unwatching.get(message.runId) ?? 0;
        if (pending > 0) {
          // The answer to an unwatch this tab sent: a watch started since stays.
          if (pending === 1) this.unwatching.delete(message.runId);
          else this.unwatching.set(message.runId, pending - 1);
          break;
        }
        // The run finished (or the watch ended): the server forgets it; so does this tab.
        this.notifyWatchers(message);
        this.runs.delete(message.runId);
        break;
      }
      default:
        break;
    }
    if ((message.type === "chunk" || message.type === "run") && "runId" in message && message.runId) {
      this.notifyWatchers(message);
    }
    this.options.onMessage(message);
  }

  private notifyWatchers(message: ServerMessage & { runId?: string }): void {
    if (!message.runId) return;
    for (const l of this.runs.get(message.runId)?.listeners ?? []) l(message);
  }
}

/** A run watch's event-stream event as the socket's message for the same thing. */
function runStreamMessage(
  target: { projectId: string; runId: string },
  event: string,
  data: string,
): ServerMessage | null {
  const { projectId, runId } = target;
  if (event === "run") return { type: "run", projectId, runId, run: JSON.parse(data) as Schemas["Run"] };
  if (event === "chunk")
    return { type: "chunk", projectId, runId, chunk: JSON.parse(data) as Schemas["OutputChunk"] };
  return null;
}
