import { useState } from "react";
import { useNavigate } from "react-router";
import type { User } from "../session/session";
import { useSession } from "../session/SessionProvider";
import { errorMessage } from "../shared/errors";

/** Who is signed in, and the two ways out: this browser, or every session of the account. */
export function UserMenu({ user }: { user: User }) {
  const session = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const signOut = async (everywhere: boolean) => {
    try {
      await session.signOut(everywhere);
    } catch (e) {
      setError(errorMessage(e));
    }
    void navigate("/sign-in");
  };
  return (
    <details className="user-menu">
      <summary aria-label={`Account: ${user.name}`}>{user.name}</summary>
      <div className="menu">
        <p className="muted">{user.email}</p>
        <button type="button" onClick={() => signOut(false)}>
          Sign out
        </button>
        <button type="button" onClick={() => signOut(true)}>
          Sign out everywhere
        </button>
        {error ? <p role="alert">{error}</p> : null}
      </div>
    </details>
  );
}
