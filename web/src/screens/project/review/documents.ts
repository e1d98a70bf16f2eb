// What the review compares a deliverable with.
import { newestFirst, type Deliverable, type Gate } from "../overview/data";

/** What a deliverable is compared with. */
export interface DiffBase {
  version: number;
  /** "review": the version seen at this gate's previous review; "previous": the version before. */
  reason: "review" | "previous";
  /** When it was reviewed (reason "review"). */
  reviewedAt?: string;
}

/**
 * The version to compare a deliverable with: the one seen at this gate's latest review that saw
 * the document, else the version before it; null for a first version never reviewed.
 */
export function diffBase(gate: Gate, deliverable: Deliverable): DiffBase | null {
  for (const review of newestFirst(gate.reviews)) {
    const seen = review.reviewedDeliverables.find(
      (d) => d.documentId === deliverable.documentId && d.version > 0,
    );
    if (seen) return { version: seen.version, reason: "review", reviewedAt: review.createTime };
  }
  return deliverable.version > 1 ? { version: deliverable.version - 1, reason: "previous" } : null;
}
