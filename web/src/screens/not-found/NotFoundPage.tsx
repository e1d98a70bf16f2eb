import { Link } from "react-router";
import { useTitle } from "../../shared/useTitle";

/** A page that does not exist (or a project the user cannot see: the same answer, on purpose). */
export function NotFound({ what = "page" }: { what?: string }) {
  useTitle("Not found");
  return (
    <>
      <h1>Not found</h1>
      <p>
        There is no {what} here, or you do not have access to it. <Link to="/projects">Your projects</Link>
      </p>
    </>
  );
}

export function Component() {
  return <NotFound />;
}
