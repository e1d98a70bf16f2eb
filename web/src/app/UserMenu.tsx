import { useState } from "react";
import { useNavigate } from "react-router";
import type { User } from "../session/session";
import { useSession } from "../session/SessionProvider";
import { errorMessage } from "../shared/errors";

/**
 * Who is signed in, and the two ways out: "Sign out" (this browser) always in sight, "Sign out
 * everywhere" (every session of the account) in the account's menu.
 */
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
    <>
      <details className="user-menu">
        <summary aria-label={`Account: ${user.name}`}>{user.name}</summary>
        <div className="menu">
          <p className="muted">{user.email}</p>
          <button type="button" onClick={() => signOut(true)}>
            Sign out everywhere
          </button>
        </div>
      </details>
      <button type="button" onClick={() => signOut(false)}>
        Sign out
      </button>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
    </>
  );
}
