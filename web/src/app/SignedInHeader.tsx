// The header's signed-in part, its own chunk: the sign-in page does not load it.
import { NavLink } from "react-router";
import { useLiveStatus } from "../live/LiveProvider";
import { NotificationBell } from "../screens/notifications/NotificationBell";
import type { User } from "../session/session";
import { UserMenu } from "./UserMenu";

export default function SignedInHeader({ user }: { user: User }) {
  return (
    <>
      <nav aria-label="Main">
        <NavLink to="/projects" end>
          Projects
        </NavLink>
      </nav>
      <ConnectionState />
      <NotificationBell />
      <UserMenu user={user} />
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
