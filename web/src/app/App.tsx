import { QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ApiProvider } from "../api/ApiProvider";
import { createApiClient } from "../api/client";
import { LiveProvider } from "../live/LiveProvider";
import { Session } from "../session/session";
import { SessionProvider } from "../session/SessionProvider";
import { createQueryClient } from "./queryClient";
import { AppRoutes } from "./routes";

// The API's origin: the page's own (the gateway serves the console), unless the build was given
// VITE_API_URL (a console served elsewhere; the gateway must list its origin in CORS_ALLOWED_ORIGINS).
const baseUrl = (import.meta.env["VITE_API_URL"] as string | undefined) ?? "";

export function App() {
  const [{ api, session, queryClient }] = useState(() => {
    // The session's own client sends no bearer token of its own accord (see Session); every
    // other request asks the session for a fresh one.
    const session = new Session(createApiClient({ baseUrl }));
    const api = createApiClient({ baseUrl, getToken: session.freshToken });
    const queryClient = createQueryClient(() => void session.refresh());
    return { api, session, queryClient };
  });
  useEffect(() => {
    void session.restore();
  }, [session]);
  useEffect(
    () =>
      session.subscribe((s) => {
        if (s.status === "signedOut") queryClient.clear();
      }),
    [session, queryClient],
  );
  return (
    <ApiProvider client={api}>
      <SessionProvider session={session}>
        <QueryClientProvider client={queryClient}>
          <LiveProvider {...(baseUrl ? { url: `${baseUrl.replace(/^http/, "ws")}/api/v1/ws` } : {})}>
            <AppRoutes />
          </LiveProvider>
        </QueryClientProvider>
      </SessionProvider>
    </ApiProvider>
  );
}
