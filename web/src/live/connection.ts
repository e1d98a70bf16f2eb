// One live connection per tab (the gateway's /api/v1/ws): project events, runs, documents and
// the user's notifications, and the output of watched runs. What the page follows is kept here
// by reference count, so every component asks for what it shows and the socket carries it once.
// After any reconnect it subscribes again from the last event and notification ids it saw, so
// the server replays what was missed; a close with 4001 (token expired, session ended) refreshes
// the token first. Nothing polls.
import type { Schemas } from "../api/client";

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
  /** Called when a subscription (re)starts without a replay: what the page shows may be stale. */
  onResync?: (target: { projectId: string } | { notifications: true }) => void;
  /** The WebSocket constructor (tests pass a fake). */
  WebSocket?: typeof WebSocket;
  /** Delay before reconnect attempt n (from 0); default 0.5 s doubling to 15 s, with jitter. */
  backoff?: (attempt: number) => number;
}

type Counted = { count: number };
type ProjectSub = Counted & { lastEventId?: string };
type RunWatch = Counted & { projectId: string; listeners: Set<(m: ServerMessage) => void> };

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
  private readonly projects = new Map<string, ProjectSub>();
  private notifications: (Counted & { lastId?: string }) | null = null;
  private readonly runs = new Map<string, RunWatch>();
  private readonly statusListeners = new Set<(s: LiveStatus) => void>();
  private readonly WS: typeof WebSocket;

  constructor(private readonly options: LiveOptions) {
    this.WS = options.WebSocket ?? WebSocket;
  }

  getStatus = (): LiveStatus => this.status;

  onStatus = (listener: (s: LiveStatus) => void): (() => void) => {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  };

  /** Connects, and keeps reconnecting until stop. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.setStatus("connecting");
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "bye");
    this.setStatus("closed");
  }

  /** Follows a project's events, runs and documents until the returned function is called. */
  followProject(projectId: string): () => void {
    const sub = this.projects.get(projectId);
    if (sub) {
      sub.count++;
    } else {
      this.projects.set(projectId, { count: 1 });
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
      this.notifications = { count: 1 };
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
    return () => {
      const w = this.runs.get(runId);
      if (!w) return;
      w.listeners.delete(listener);
      if (--w.count > 0) return;
      this.runs.delete(runId);
      this.send({ type: "unwatchRun", runId });
    };
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    for (const l of this.statusListeners) l(status);
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState === this.WS.OPEN) this.socket.send(JSON.stringify(message));
  }

  private async connect(): Promise<void> {
    const token = await this.options.token();
    if (this.stopped) return;
    if (!token) {
      this.stop();
      return;
    }
    const socket = new this.WS(this.options.url, [SUBPROTOCOL, `bearer.${token}`]);
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
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
      void this.reconnect(e.code);
    };
  }

  private async reconnect(code: number): Promise<void> {
    if (code === TOKEN_EXPIRED) {
      const token = await this.options.refresh();
      if (!token) {
        this.stop();
        return;
      }
      // A fresh token: reconnect now, not after a backoff.
      void this.connect();
      return;
    }
    const delay = (this.options.backoff ?? defaultBackoff)(this.attempt++);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  /** After (re)connecting: everything followed is asked for again, from the last ids seen. */
  private resubscribe(): void {
    for (const [projectId, sub] of this.projects) {
      this.send(
        sub.lastEventId === undefined
          ? { type: "subscribe", projectId }
          : { type: "subscribe", projectId, afterEventId: sub.lastEventId },
      );
    }
    if (this.notifications) {
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

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case "subscribed":
        if ("projectId" in message && message.projectId) {
          const sub = this.projects.get(message.projectId);
          if (sub && sub.lastEventId === undefined) this.options.onResync?.({ projectId: message.projectId });
        } else if (this.notifications && this.notifications.lastId === undefined) {
          this.options.onResync?.({ notifications: true });
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
      case "unwatched":
        // The run finished (or the watch ended): the server forgets it; so does this tab.
        this.notifyWatchers(message);
        this.runs.delete(message.runId);
        break;
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
