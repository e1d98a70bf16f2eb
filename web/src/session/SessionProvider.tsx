import { createContext, use, useSyncExternalStore, type ReactNode } from "react";
import type { Session, SessionState } from "./session";

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  return <SessionContext value={session}>{children}</SessionContext>;
}

/** The tab's session object (sign in, sign out, tokens). */
export function useSession(): Session {
  const session = use(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

/** The session's state; re-renders when it changes. */
export function useSessionState(): SessionState {
  const session = useSession();
  return useSyncExternalStore(session.subscribe, session.getState);
}

/** The signed-in user; only inside RequireSession. */
export function useUser() {
  const state = useSessionState();
  if (state.status !== "signedIn") throw new Error("useUser outside a signed-in page");
  return state.user;
}
