// The browser's session with the gateway. The access token lives only in this object's memory;
// the refresh token is an HttpOnly cookie the gateway sets and reads on the auth routes when a
// request carries the session header (so no script, ours included, can read it). A reload
// restores the session by refreshing with that cookie. The access token is refreshed a minute
// before it expires; one tab at a time refreshes (the Web Locks API), since each refresh rotates
// the cookie. Signing out in one tab signs out the others (BroadcastChannel).
import { ApiRequestError, unwrap, type ApiClient, type Schemas } from "../api/client";

/** The request header that asks the gateway to keep the refresh token in its cookie. */
export const SESSION_HEADER = { "X-FuzzyLlama-Session": "cookie" } as const;

export type User = Schemas["User"];

export type SessionState =
  { status: "restoring" } | { status: "signedOut"; reason?: string } | { status: "signedIn"; user: User };

interface TokenAnswer {
  accessToken: string;
  expiresIn: number;
}

type Listener = (state: SessionState) => void;

const REFRESH_MARGIN_MS = 60_000;
const RETRY_MS = 10_000;
const channelName = "fuzzyllama-session";

export class Session {
  private state: SessionState = { status: "restoring" };
  private accessToken: string | null = null;
  private expiresAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<string | null> | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly channel: BroadcastChannel | null;

  /**
   * api must be a client without bearerAuth: the session sends the access token itself where it
   * needs one (logout, who the user is), and its refresh must not wait for a fresh token — that
   * is the refresh.
   */
  constructor(private readonly api: ApiClient) {
    this.channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(channelName);
    this.channel?.addEventListener("message", (e: MessageEvent<unknown>) => {
      if (e.data === "signedOut") this.clear("You signed out in another tab.");
    });
  }

  getState = (): SessionState => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The current access token, or null when signed out. */
  token = (): string | null => this.accessToken;

  /** A token valid for at least a few more seconds: refreshes first when it is about to expire. */
  freshToken = async (): Promise<string | null> => {
    if (this.accessToken && Date.now() < this.expiresAt - 5_000) return this.accessToken;
    if (this.state.status === "signedOut") return null;
    return this.refresh();
  };

  /** On start: a session cookie, if the browser has one, signs the user in again. */
  async restore(): Promise<void> {
    const token = await this.refresh();
    if (!token && this.state.status === "restoring") this.setState({ status: "signedOut" });
  }

  async signIn(email: string, password: string): Promise<void> {
    const answer = await unwrap(
      this.api.POST("/api/v1/auth/login", { body: { email, password }, headers: SESSION_HEADER }),
    );
    this.accept(answer, answer.user);
  }

  async signUp(name: string, email: string, password: string): Promise<void> {
    const answer = await unwrap(
      this.api.POST("/api/v1/auth/register", { body: { name, email, password }, headers: SESSION_HEADER }),
    );
    this.accept(answer, answer.user);
  }

  /** Ends this session (everywhere: every session of the user) and forgets the tokens. */
  async signOut(everywhere = false): Promise<void> {
    // A fresh token: one that expired while the laptop slept would make logout-all a 401, and
    // the other devices would stay signed in.
    const token = await this.freshToken();
    try {
      const headers = { ...SESSION_HEADER, Authorization: `Bearer ${token ?? ""}` };
      if (everywhere) {
        await unwrap(this.api.POST("/api/v1/auth/logout-all", { body: {}, headers }));
      } else {
        await unwrap(this.api.POST("/api/v1/auth/logout", { body: {}, headers }));
      }
    } finally {
      this.clear();
      this.channel?.postMessage("signedOut");
    }
  }

  /** Refreshes the access token with the session cookie; null (and signed out) if that fails. */
  refresh = (): Promise<string | null> => {
    this.refreshing ??= this.withLock(() => this.doRefresh()).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  };

  private async doRefresh(): Promise<string | null> {
    // Another tab may have refreshed while this one waited for the lock: the cookie rotated, and
    // this tab's token may already be fresh again only if it refreshed itself, so always ask.
    try {
      const answer = await unwrap(
        this.api.POST("/api/v1/auth/refresh", { body: { refreshToken: "" }, headers: SESSION_HEADER }),
      );
      const user =
        this.state.status === "signedIn"
          ? this.state.user
          : (
              await unwrap(
                this.api.GET("/api/v1/auth/me", {
                  headers: { Authorization: `Bearer ${answer.accessToken}` },
                }),
              )
            ).user;
      this.accept(answer, user);
      return this.accessToken;
    } catch (error) {
      const refused = error instanceof ApiRequestError && (error.status === 401 || error.status === 400);
      if (refused || this.state.status !== "signedIn") {
        // The session ended (revoked, expired, no cookie) — or, on start, the server cannot be
        // reached, which the sign-in page then says.
        const reason = refused
          ? this.state.status === "signedIn"
            ? "Your session ended. Sign in again."
            : undefined
          : "The server cannot be reached. Check your connection and sign in again.";
        this.clear(reason);
        return null;
      }
      // A network failure or a 5xx: the session may well be alive. Keep it and try again soon;
      // callers that needed a token now get none and retry on their own terms.
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.refresh(), RETRY_MS);
      return null;
    }
  }

  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
    if (!locks) return fn();
    return locks.request("fuzzyllama-refresh", fn);
  }

  private accept(answer: TokenAnswer, user: User): void {
    this.accessToken = answer.accessToken;
    this.expiresAt = Date.now() + answer.expiresIn * 1000;
    clearTimeout(this.timer);
    const delay = Math.max(answer.expiresIn * 1000 - REFRESH_MARGIN_MS, (answer.expiresIn * 1000) / 2);
    this.timer = setTimeout(() => void this.refresh(), delay);
    this.setState({ status: "signedIn", user });
  }

  private clear(reason?: string): void {
    this.accessToken = null;
    this.expiresAt = 0;
    clearTimeout(this.timer);
    this.setState(reason ? { status: "signedOut", reason } : { status: "signedOut" });
  }

  private setState(state: SessionState): void {
    this.state = state;
    for (const l of this.listeners) l(state);
  }
}
