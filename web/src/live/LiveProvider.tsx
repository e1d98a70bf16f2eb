import { useQueryClient } from "@tanstack/react-query";
import { useApi } from "../api/ApiProvider";
import type { ApiClient } from "../api/client";
import { createContext, use, useEffect, useState, useSyncExternalStore, type ReactNode } from "react";
import { queryKeys } from "../api/queryKeys";
import { useSession, useSessionState } from "../session/SessionProvider";
import type { LiveConnection, LiveStatus, ServerMessage, StreamTarget } from "./connection";

const LiveContext = createContext<LiveConnection | null>(null);

function socketURL(): string {
  const { protocol, host } = window.location;
  return `${protocol === "https:" ? "wss:" : "ws:"}//${host}/api/v1/ws`;
}

/** Opens the event stream of a target through the generated client (the socket's fallback). */
async function openStream(
  api: ApiClient,
  target: StreamTarget,
  afterId: string | undefined,
  signal: AbortSignal,
) {
  const resume = afterId === undefined ? {} : { "Last-Event-ID": afterId };
  const common = { parseAs: "stream" as const, signal };
  const { response } =
    target.kind === "project"
      ? await api.GET("/api/v1/projects/{projectId}/events:stream", {
          ...common,
          params: { path: { projectId: target.projectId }, header: resume },
        })
      : target.kind === "notifications"
        ? await api.GET("/api/v1/notifications:stream", { ...common, params: { header: resume } })
        : await api.GET("/api/v1/projects/{projectId}/runs/{runId}:watch", {
            ...common,
            params: { path: { projectId: target.projectId, runId: target.runId } },
          });
  return response;
}

/**
 * Holds the tab's one live connection while someone is signed in, feeding the query cache. The
 * connection's code loads on sign-in; until then (and while signed out) the hooks below wait.
 */
export function LiveProvider({ children, url }: { children: ReactNode; url?: string }) {
  const session = useSession();
  const api = useApi();
  const signedIn = useSessionState().status === "signedIn";
  const queryClient = useQueryClient();
  const [connection, setConnection] = useState<LiveConnection | null>(null);
  useEffect(() => {
    if (!signedIn) return;
    let live: LiveConnection | null = null;
    let ended = false;
    void import("./engine").then(({ LiveConnection, applyLiveMessage }) => {
      if (ended) return;
      live = new LiveConnection({
        url: url ?? socketURL(),
        token: session.freshToken,
        refresh: session.refresh,
        openStream: (target, afterId, signal) => openStream(api, target, afterId, signal),
        onMessage: (m) => applyLiveMessage(queryClient, m),
        onResync: (target, since) =>
          void queryClient.invalidateQueries({
            queryKey: "projectId" in target ? queryKeys.project(target.projectId) : queryKeys.notifications,
            // What was loaded after the subscription was asked for is current already.
            predicate: (query) => query.state.dataUpdatedAt < since,
          }),
      });
      live.start();
      setConnection(live);
    });
    return () => {
      ended = true;
      live?.stop();
      setConnection(null);
    };
  }, [signedIn, session, api, queryClient, url]);
  return <LiveContext value={connection}>{children}</LiveContext>;
}

function useConnection(): LiveConnection | null {
  return use(LiveContext);
}

const noStatus = () => () => {};

/** The connection's state, for the "reconnecting" indicator. */
export function useLiveStatus(): LiveStatus {
  const c = useConnection();
  return useSyncExternalStore(c?.onStatus ?? noStatus, c?.getStatus ?? (() => "connecting" as const));
}

/** Keeps the project's events, runs and documents live while the calling component is shown. */
export function useFollowProject(projectId: string | undefined): void {
  const c = useConnection();
  useEffect(() => (c && projectId ? c.followProject(projectId) : undefined), [c, projectId]);
}

/** Keeps the user's notifications live while the calling component is shown. */
export function useFollowNotifications(): void {
  const c = useConnection();
  useEffect(() => c?.followNotifications(), [c]);
}

/**
 * Calls listener with a watched run's messages (run, chunk, unwatched) while runId is set. The
 * listener may change between renders without restarting the watch.
 */
export function useRunWatch(
  projectId: string,
  runId: string | undefined,
  listener: (m: ServerMessage) => void,
): void {
  const c = useConnection();
  const [ref] = useState(() => ({ current: listener }));
  useEffect(() => {
    ref.current = listener;
  });
  useEffect(
    () => (c && runId ? c.watchRun(projectId, runId, (m) => ref.current(m)) : undefined),
    [c, projectId, runId, ref],
  );
}
