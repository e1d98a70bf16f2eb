import { lazy, Suspense } from "react";
import { Link, Outlet } from "react-router";
import { useSessionState } from "../session/SessionProvider";

const SignedInHeader = lazy(() => import("./SignedInHeader"));

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
          <Suspense fallback={<span className="header-fill" />}>
            <SignedInHeader user={session.user} />
          </Suspense>
        ) : null}
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
