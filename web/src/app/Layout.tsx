import { Link, NavLink, Outlet } from "react-router";
import { useLiveStatus } from "../live/LiveProvider";
import { NotificationBell } from "../screens/notifications/NotificationBell";
import { useSessionState } from "../session/SessionProvider";
import { UserMenu } from "./UserMenu";

/** Every page: a skip link, the header (projects, notifications, the user), one main landmark. */
export function Layout() {
  const session = useSessionState();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width="24" height="24" /> FuzzyLlama
        </Link>
        {session.status === "signedIn" ? (
          <>
            <nav aria-label="Main">
              <NavLink to="/projects" end>
                Projects
              </NavLink>
            </nav>
            <ConnectionState />
            <NotificationBell />
            <UserMenu user={session.user} />
          </>
        ) : null}
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}

/** Says when the live connection is down: what the page shows may be behind until it is back. */
function ConnectionState() {
  const status = useLiveStatus();
  if (status !== "reconnecting") return <span className="live-state" role="status" />;
  return (
    <span className="live-state reconnecting" role="status">
      Reconnecting…
    </span>
  );
}
