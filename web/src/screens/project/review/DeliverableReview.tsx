import { memo, useId } from "react";
import { Link } from "react-router";
import { DiffView } from "../../../shared/diff/DiffView";
import { ErrorView } from "../../../shared/ErrorView";
import { formatWhen } from "../../../shared/format";
import { documentTypeLabel } from "../../../shared/labels";
import { Loading } from "../../../shared/Loading";
import { SafeHtml } from "../../../shared/SafeHtml";
import type { Deliverable } from "../overview/data";
import { useRendered, useVersion } from "../../../shared/documentVersions";
import type { DiffBase } from "./documents";

/** One deliverable under review: rendered, and its changes since what was last reviewed (or the version before). */
export const DeliverableReview = memo(function DeliverableReview({
  projectId,
  deliverable: d,
  title,
  base,
}: {
  projectId: string;
  deliverable: Deliverable;
  title: string;
  base: DiffBase | null;
}) {
  const id = useId();
  const rendered = useRendered(projectId, d.documentId, d.version);
  const html = rendered.data?.html ?? "";
  return (
    <article className="deliverable-review" aria-labelledby={id}>
      <h4 id={id}>
        {title} v{d.version}
      </h4>
      <p className="muted">
        {documentTypeLabel(d.documentType)}
        {d.required ? "" : " (optional)"} · <code className="hash">{d.contentHash}</code> ·{" "}
        <Link to={`/projects/${projectId}/documents/${d.documentId}`}>Open the document</Link>
      </p>
      {rendered.isPending ? (
        <Loading label={`Loading ${title}`} />
      ) : rendered.isError ? (
        <ErrorView error={rendered.error} retry={() => void rendered.refetch()} />
      ) : (
        <div className="review-rendered" tabIndex={0} role="region" aria-label={`${title} v${d.version}`}>
          <SafeHtml className="rendered" html={html} headingsFrom={5} />
        </div>
      )}
      <Changes projectId={projectId} deliverable={d} base={base} />
    </article>
  );
});

function Changes({
  projectId,
  deliverable: d,
  base,
}: {
  projectId: string;
  deliverable: Deliverable;
  base: DiffBase | null;
}) {
  const before = useVersion(projectId, d.documentId, base?.version);
  const after = useVersion(projectId, d.documentId, base ? d.version : undefined);
  if (!base) return <p className="muted">The first version: nothing earlier to compare it with.</p>;
  const since =
    base.reason === "review"
      ? `v${base.version}, seen at the previous review${base.reviewedAt ? ` (${formatWhen(base.reviewedAt)})` : ""}`
      : `v${base.version}, the previous version`;
  if (base.version === d.version) {
    return <p className="muted">Unchanged since the previous review (v{d.version}).</p>;
  }
  const error = before.error ?? after.error;
  return (
    <div className="review-changes">
      <p>Changes since {since}:</p>
      {error ? (
        <ErrorView error={error} />
      ) : before.data && after.data ? (
        <DiffView
          before={before.data.content}
          after={after.data.content}
          beforeLabel={`v${base.version}`}
          afterLabel={`v${d.version}`}
        />
      ) : (
        <Loading label="Loading the changes" />
      )}
    </div>
  );
}
