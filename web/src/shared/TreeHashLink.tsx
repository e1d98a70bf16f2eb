import { Link } from "react-router";
import { shortHash } from "./format";

/**
 * A source tree's hash (a verification's, a proof's run), linking to the Code screen's listing
 * of that tree: its files at the versions it was verified with.
 */
export function TreeHashLink({ projectId, hash }: { projectId: string; hash: string }) {
  return (
    <Link
      to={`/projects/${projectId}/code?tree=${encodeURIComponent(hash)}`}
      aria-label={`Browse the source tree ${shortHash(hash)}`}
      title={hash}
    >
      <code className="hash">{shortHash(hash)}</code>
    </Link>
  );
}
