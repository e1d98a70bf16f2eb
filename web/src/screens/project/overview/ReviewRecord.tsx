import { memo, useId } from "react";
import { GateBadge } from "../../../shared/GateBadge";
import { documentTypeLabel, proofResultLabel, proofTypeLabel } from "../../../shared/labels";
import { shortHash } from "../../../shared/format";
import { When } from "../../../shared/When";
import { proofSource, type Review } from "./data";

/**
 * The immutable record of a review: the decision, who and when, the notes, and exactly what was
 * reviewed — each deliverable's version and content hash (the approved versions' hashes), and the
 * proofs that stood.
 */
export const ReviewRecord = memo(function ReviewRecord({
  review,
  name,
  titles,
  heading = "h4",
}: {
  review: Review;
  name: (userId: string) => string;
  /** Document titles by id, where known. */
  titles?: Map<string, string>;
  heading?: "h3" | "h4";
}) {
  const id = useId();
  const Heading = heading;
  const Sub = heading === "h3" ? "h4" : "h5";
  const approved = review.decision === "GATE_STATE_APPROVED";
  return (
    <article className="review-record" aria-labelledby={id}>
      <Heading id={id}>
        {approved ? "Approved" : "Changes requested"} by {name(review.reviewerId)}
      </Heading>
      <p className="muted">
        <GateBadge state={review.decision} /> <When time={review.createTime} />, revision {review.revision}
      </p>
      {review.notes ? (
        <blockquote className="review-notes">
          <span className="visually-hidden">Notes: </span>
          {review.notes}
        </blockquote>
      ) : (
        <p className="muted">No notes.</p>
      )}
      <Sub>{approved ? "Approved versions" : "Versions reviewed"}</Sub>
      {review.reviewedDeliverables.length === 0 ? (
        <p className="muted">No deliverables.</p>
      ) : (
        <ul className="reviewed-versions">
          {review.reviewedDeliverables.map((d) => (
            <li key={`${d.documentId}-${d.documentType}`}>
              {titles?.get(d.documentId) ?? documentTypeLabel(d.documentType)}{" "}
              {d.version > 0 ? `v${d.version}` : "(not recorded)"}
              {d.contentHash ? (
                <>
                  {" "}
                  <code className="hash">{d.contentHash}</code>
                </>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {review.proofs.length > 0 ? (
        <>
          <Sub>Proofs that stood</Sub>
          <ul className="reviewed-proofs">
            {review.proofs.map((p) => (
              <li key={p.id}>
                {proofTypeLabel(p.type)}: {proofResultLabel(p.result)}, {proofSource(p, name)}
                {p.run ? (
                  <>
                    {" "}
                    (<code>{p.run.command}</code>, exit code {p.run.exitCode ?? "not recorded"}, on tree{" "}
                    <code className="hash" title={p.run.treeHash}>
                      {shortHash(p.run.treeHash ?? "")}
                    </code>
                    )
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </article>
  );
});
