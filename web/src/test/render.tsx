// Test helpers shared by the screens' component tests: a fake API server answering envelopes,
// and a render with the app's providers (a real QueryClient, the API client over the fake, the
// session, the live connection, a MemoryRouter).
//
//   const api = fakeApi({
//     "GET /api/v1/projects": () => ({ projects: [], nextPageToken: "" }),
//     "POST /api/v1/projects": ({ body }) => ({ project: { ...project, name: body.name } }),
//     "POST /api/v1/projects/p1:startWork": () => apiError(409, "FAILED_PRECONDITION", "already started"),
//   });
//   renderWithProviders(<Component />, { api, route: "/projects/new", path: "/projects/new" });
//   expect(api.calls("POST /api/v1/projects")).toHaveLength(1);
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { configure, render, type RenderResult } from "@testing-library/react";
import type { ReactElement, ReactNode } from "react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { vi } from "vitest";
import { ApiProvider } from "../api/ApiProvider";
import { createApiClient, type ApiClient, type Schemas } from "../api/client";
import { LiveProvider } from "../live/LiveProvider";
import { Session } from "../session/session";
import { SessionProvider } from "../session/SessionProvider";

// findBy*/waitFor wait up to 5 s (default 1 s): the whole suite shares two cores, and a first
// render that loads a few queries can take longer than a second there.
configure({ asyncUtilTimeout: 5_000 });

/** What a handler of the fake API is given. */
export interface FakeRequest {
  method: string;
  /** The URL's path, e.g. /api/v1/projects/p1:startWork. */
  path: string;
  query: URLSearchParams;
  /** The JSON body, parsed; undefined when there is none (cast it to the request's schema to read it). */
  body: unknown;
  headers: Headers;
}

/** Answers a request: the data of a success envelope, or a Response (see apiError). */
export type FakeHandler = (request: FakeRequest) => unknown;

export interface FakeApi {
  /** The fetch to give createApiClient. */
  fetch: (input: Request) => Promise<Response>;
  /** Every request so far, in order. */
  requests: FakeRequest[];
  /** The requests to one route, e.g. calls("POST /api/v1/projects"). */
  calls: (route: string) => FakeRequest[];
  /** Adds or replaces a route's handler. */
  on: (route: string, handler: FakeHandler) => void;
}

/** The success envelope of data. */
export function envelope(data: unknown, status = 200): Response {
  return json(status, {
    success: true,
    data,
    meta: { timestamp: new Date(0).toISOString(), requestId: "test" },
  });
}

/** An error answer, e.g. apiError(400, "INVALID_ARGUMENT", "bad", { fields: [{ field: "name", description: "is required" }] }). */
export function apiError(
  status: number,
  code: Schemas["Error"]["code"],
  message: string,
  details?: Schemas["ErrorDetails"],
): Response {
  return json(status, {
    success: false,
    error: { code, message, ...(details ? { details } : {}) },
    meta: { timestamp: new Date(0).toISOString(), requestId: "test" },
  });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/**
 * A fake API: routes are "METHOD /path" (the exact path, query left out). A handler returns the
 * data of a success envelope (or a Response); an unknown route answers 404 NOT_FOUND.
 */
export function fakeApi(routes: Record<string, FakeHandler> = {}): FakeApi {
  const table = new Map(Object.entries(routes));
  const requests: FakeRequest[] = [];
  return {
    requests,
    calls: (route) => requests.filter((r) => `${r.method} ${r.path}` === route),
    on: (route, handler) => void table.set(route, handler),
    fetch: async (input) => {
      const url = new URL(input.url);
      const text = await input.text();
      const request: FakeRequest = {
        method: input.method,
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        body: text ? (JSON.parse(text) as unknown) : undefined,
        headers: input.headers,
      };
      requests.push(request);
      const handler = table.get(`${request.method} ${request.path}`);
      if (!handler) return apiError(404, "NOT_FOUND", `no fake for ${request.method} ${request.path}`);
      const answer = await handler(request);
      return answer instanceof Response ? answer : envelope(answer);
    },
  };
}

/** The API client over a fake. */
export function fakeClient(api: FakeApi): ApiClient {
  return createApiClient({ baseUrl: "http://localhost", fetch: api.fetch });
}

/** A user for tests. */
export const testUser: Schemas["User"] = {
  id: "u-ann",
  email: "ann@example.com",
  name: "Ann",
  createTime: "2025-01-01T00:00:00Z",
};

/** A WebSocket that never connects: the live connection of a signed-in test waits quietly. */
class QuietSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readyState = 0;
  onopen: unknown = null;
  onmessage: unknown = null;
  onclose: unknown = null;
  send(): void {}
  close(): void {}
}

/**
 * Replaces the global WebSocket with one that never connects: for tests where someone signs in
 * (the live connection then starts). Undo with vi.unstubAllGlobals().
 */
export function quietWebSocket(): void {
  vi.stubGlobal("WebSocket", QuietSocket);
}

/**
 * A session signed in as user (through a cookie refresh the fake answers). The live connection
 * then starts: the global WebSocket is replaced with one that never connects.
 */
export async function signedInSession(api: FakeApi, client: ApiClient, user = testUser): Promise<Session> {
  quietWebSocket();
  api.on("POST /api/v1/auth/refresh", () => ({
    accessToken: "access-1",
    refreshToken: "",
    tokenType: "Bearer",
    expiresIn: 900,
  }));
  api.on("GET /api/v1/auth/me", () => ({ user }));
  const session = new Session(client);
  await session.restore();
  return session;
}

export interface RenderOptions {
  api?: FakeApi;
  /** The client, when the test made one (e.g. for signedInSession); default fakeClient(api). */
  client?: ApiClient;
  /** The session; default one that is still restoring (nobody signed in, no live connection). */
  session?: Session;
  queryClient?: QueryClient;
  /** The URL the router starts at; default "/". */
  route?: string;
  /** The route pattern ui is rendered at, e.g. "/projects/:projectId"; default "*". */
  path?: string;
  /** Other routes, e.g. { "/projects/:projectId": <p>project page</p> } to see where a link went. */
  routes?: Record<string, ReactNode>;
}

/** A QueryClient for tests: no retries, nothing garbage-collected during a test. */
export function testQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, staleTime: Infinity, gcTime: Infinity, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

/** Where the router is (path and search), hidden, for navigation assertions: getByTestId("location"). */
export function LocationProbe() {
  const location = useLocation();
  return (
    <div data-testid="location" hidden>
      {location.pathname}
      {location.search}
    </div>
  );
}

/** Renders ui with the app's providers; returns Testing Library's result and what it made. */
export function renderWithProviders(
  ui: ReactElement,
  options: RenderOptions = {},
): RenderResult & { api: FakeApi; queryClient: QueryClient; session: Session } {
  const api = options.api ?? fakeApi();
  const client = options.client ?? fakeClient(api);
  const session = options.session ?? new Session(client);
  const queryClient = options.queryClient ?? testQueryClient();
  const result = render(
    <ApiProvider client={client}>
      <SessionProvider session={session}>
        <QueryClientProvider client={queryClient}>
          <LiveProvider url="ws://localhost/api/v1/ws">
            <MemoryRouter initialEntries={[options.route ?? "/"]}>
              <Routes>
                <Route path={options.path ?? "*"} element={ui} />
                {Object.entries(options.routes ?? {}).map(([path, element]) => (
                  <Route key={path} path={path} element={element} />
                ))}
              </Routes>
              <LocationProbe />
            </MemoryRouter>
          </LiveProvider>
        </QueryClientProvider>
      </SessionProvider>
    </ApiProvider>,
  );
  return { ...result, api, queryClient, session };
}
