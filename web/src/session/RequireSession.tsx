import { Navigate, Outlet, useLocation } from "react-router";
import { Loading } from "../shared/Loading";
import { useSessionState } from "./SessionProvider";

/** Pages behind it need a signed-in user; others are sent to sign in and brought back after. */
export function RequireSession() {
  const state = useSessionState();
  const location = useLocation();
  if (state.status === "restoring") return <Loading label="Signing you in" />;
  if (state.status === "signedOut") {
    const next = location.pathname + location.search;
    return (
      <Navigate to={`/sign-in?next=${encodeURIComponent(next)}`} replace state={{ reason: state.reason }} />
    );
  }
  return <Outlet />;
}

/** Pages for signed-out people (sign in, create account): a signed-in user goes to the projects. */
export function RedirectIfSignedIn() {
  const state = useSessionState();
  const location = useLocation();
  if (state.status === "restoring") return <Loading label="Loading" />;
  if (state.status === "signedIn") {
    return <Navigate to={sameOriginPath(new URLSearchParams(location.search).get("next"))} replace />;
  }
  return <Outlet />;
}

/** Where ?next= may send a user: a path of this origin, whatever else it says; else the projects. */
export function sameOriginPath(next: string | null): string {
  if (!next) return "/projects";
  try {
    const url = new URL(next, window.location.origin);
    if (url.origin !== window.location.origin) return "/projects";
    return url.pathname + url.search + url.hash;
  } catch {
    return "/projects";
  }
}
