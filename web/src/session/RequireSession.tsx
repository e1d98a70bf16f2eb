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
    const next = new URLSearchParams(location.search).get("next");
    return <Navigate to={next?.startsWith("/") && !next.startsWith("//") ? next : "/projects"} replace />;
  }
  return <Outlet />;
}
