import { afterEach, describe, expect, it, vi } from "vitest";
import { createApiClient } from "../api/client";
import { apiError, fakeApi, testUser, type FakeApi } from "../test/render";
import { SESSION_HEADER, Session } from "./session";

const REFRESH = "POST /api/v1/auth/refresh";
const ME = "GET /api/v1/auth/me";

/** A refresh answering tokens access-1, access-2, … with the given lifetime. */
function refreshing(api: FakeApi, expiresIn = 900) {
  let n = 0;
  api.on(REFRESH, () => ({ accessToken: `access-${++n}`, refreshToken: "", tokenType: "Bearer", expiresIn }));
  api.on(ME, () => ({ user: testUser }));
}

/** The session as App wires it: its own client, and one whose every request asks it for a fresh token. */
function wire(api: FakeApi) {
  const session = new Session(createApiClient({ baseUrl: "http://localhost", fetch: api.fetch }));
  const client = createApiClient({
    baseUrl: "http://localhost",
    fetch: api.fetch,
    getToken: session.freshToken,
  });
  return { session, client };
}

function makeSession(api: FakeApi): Session {
  return wire(api).session;
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("Session.restore", () => {
  it("signs in again with the session cookie: refresh, then who the user is", async () => {
    const api = fakeApi();
    refreshing(api);
    const session = makeSession(api);
    expect(session.getState()).toEqual({ status: "restoring" });

    await session.restore();

    expect(session.getState()).toEqual({ status: "signedIn", user: testUser });
    expect(session.token()).toBe("access-1");
    const [refresh] = api.calls(REFRESH);
    expect(refresh?.headers.get("X-FuzzyLlama-Session")).toBe(SESSION_HEADER["X-FuzzyLlama-Session"]);
    // The token lives in the cookie, never in the body.
    expect(refresh?.body).toEqual({ refreshToken: "" });
    expect(api.calls(ME)[0]?.headers.get("Authorization")).toBe("Bearer access-1");
  });

  it("without a cookie session, ends signed out with nothing to say", async () => {
    const api = fakeApi({ [REFRESH]: () => apiError(401, "UNAUTHENTICATED", "no session cookie") });
    const session = makeSession(api);

    await session.restore();

    expect(session.getState()).toEqual({ status: "signedOut" });
    expect(session.token()).toBeNull();
    expect(api.calls(ME)).toHaveLength(0);
  });

  it("works where the browser has the Web Locks API (one tab refreshes at a time)", async () => {
    let queue = Promise.resolve<unknown>(undefined);
    const locks = {
      request: (_name: string, fn: () => Promise<unknown>) => {
        const run = queue.then(fn);
        queue = run.catch(() => undefined);
        return run;
      },
    };
    vi.stubGlobal("navigator", { ...navigator, locks });
    const api = fakeApi();
    refreshing(api);
    const session = makeSession(api);

    await session.restore();

    expect(session.getState()).toEqual({ status: "signedIn", user: testUser });
    expect(api.calls(REFRESH)).toHaveLength(1);
  });
});

describe("Session refresh", () => {
  it("refreshes a minute before the access token expires, and keeps doing so", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const api = fakeApi();
    refreshing(api, 900);
    const session = makeSession(api);
    await session.restore();
    expect(api.calls(REFRESH)).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(839_000);
    expect(api.calls(REFRESH)).toHaveLength(1);
    expect(session.token()).toBe("access-1");

    await vi.advanceTimersByTimeAsync(1_000);
    expect(api.calls(REFRESH)).toHaveLength(2);
    expect(session.token()).toBe("access-2");
    // The user is known: no second /auth/me.
    expect(api.calls(ME)).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(840_000);
    expect(api.calls(REFRESH)).toHaveLength(3);
    expect(session.token()).toBe("access-3");
    expect(session.getState().status).toBe("signedIn");
  });

  it("a request after the token expired waits for a refresh and carries the new token", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const api = fakeApi({ "GET /api/v1/usage": () => ({}) });
    refreshing(api, 900);
    const { session, client } = wire(api);
    await session.restore();

    // The tab slept past the expiry (its timer did not run).
    vi.setSystemTime(Date.now() + 901_000);
    await client.GET("/api/v1/usage");

    expect(api.calls(REFRESH)).toHaveLength(2);
    expect(api.calls("GET /api/v1/usage")[0]?.headers.get("Authorization")).toBe("Bearer access-2");
  });

  it("signs out, saying why, when a refresh is refused", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const api = fakeApi();
    refreshing(api, 900);
    const session = makeSession(api);
    await session.restore();
    const seen: string[] = [];
    session.subscribe((s) => seen.push(s.status));

    api.on(REFRESH, () =>
      apiError(401, "UNAUTHENTICATED", "refresh token revoked", { reason: "REFRESH_TOKEN_REVOKED" }),
    );
    await vi.advanceTimersByTimeAsync(840_000);

    expect(session.getState()).toEqual({ status: "signedOut", reason: "Your session ended. Sign in again." });
    expect(session.token()).toBeNull();
    expect(seen).toEqual(["signedOut"]);
    // Signed out: no further refresh is scheduled, and no token is handed out.
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(api.calls(REFRESH)).toHaveLength(2);
    expect(await session.freshToken()).toBeNull();
    expect(api.calls(REFRESH)).toHaveLength(2);
  });

  it("keeps the session through a server outage, and refreshes once the server is back", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const api = fakeApi();
    refreshing(api, 900);
    const session = makeSession(api);
    await session.restore();

    api.on(REFRESH, () => apiError(503, "UNAVAILABLE", "the auth service is unavailable"));
    await vi.advanceTimersByTimeAsync(840_000);
    expect(session.getState()).toEqual({ status: "signedIn", user: testUser });

    refreshing(api, 900);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(session.getState()).toEqual({ status: "signedIn", user: testUser });
    expect(session.token()).toBe("access-1");
    expect(api.calls(REFRESH).length).toBeGreaterThanOrEqual(3);
  });

  it("concurrent refreshes make one request and share its token", async () => {
    const api = fakeApi();
    refreshing(api);
    const session = makeSession(api);
    await session.restore();

    const tokens = await Promise.all([session.refresh(), session.refresh(), session.refresh()]);

    expect(tokens).toEqual(["access-2", "access-2", "access-2"]);
    expect(api.calls(REFRESH)).toHaveLength(2); // restore's, then one for the three
    expect(await session.refresh()).toBe("access-3");
  });
});

describe("Session.signOut", () => {
  it("ends the session on the server and forgets the token", async () => {
    const api = fakeApi({ "POST /api/v1/auth/logout": () => ({}) });
    refreshing(api);
    const session = makeSession(api);
    await session.restore();

    await session.signOut();

    const [logout] = api.calls("POST /api/v1/auth/logout");
    expect(logout?.headers.get("Authorization")).toBe("Bearer access-1");
    expect(logout?.headers.get("X-FuzzyLlama-Session")).toBe("cookie");
    expect(session.token()).toBeNull();
    expect(session.getState()).toEqual({ status: "signedOut" });
    expect(await session.freshToken()).toBeNull();
  });

  it("everywhere: logs out every session of the user", async () => {
    const api = fakeApi({ "POST /api/v1/auth/logout-all": () => ({}) });
    refreshing(api);
    const session = makeSession(api);
    await session.restore();

    await session.signOut(true);

    expect(api.calls("POST /api/v1/auth/logout-all")).toHaveLength(1);
    expect(session.token()).toBeNull();
  });

  it("forgets the token even when the server cannot be told", async () => {
    const api = fakeApi({ "POST /api/v1/auth/logout": () => apiError(503, "UNAVAILABLE", "down") });
    refreshing(api);
    const session = makeSession(api);
    await session.restore();

    await expect(session.signOut()).rejects.toThrow("down");

    expect(session.token()).toBeNull();
    expect(session.getState().status).toBe("signedOut");
  });
});
