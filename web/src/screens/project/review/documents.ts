// The review's document queries: one version's content and its rendering. Versions are
// immutable, so each is loaded once (the same keys and shapes as the document page's).
import { useQuery } from "@tanstack/react-query";
import { useApi } from "../../../api/ApiProvider";
import { unwrap } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { newestFirst, type Deliverable, type Gate } from "../overview/data";

/** One version's metadata and content; nothing is loaded while version is undefined. */
export function useVersionContent(projectId: string, documentId: string, version: number | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.documentVersion(projectId, documentId, version ?? 0),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{projectId}/documents/{documentId}/versions/{version}", {
          params: { path: { projectId, documentId, version: version ?? 0 } },
        }),
      ),
    enabled: version !== undefined && version > 0,
    staleTime: Infinity,
  });
}

/** One version rendered as HTML by the server (sanitized there, and again by SafeHtml). */
export function useRenderedVersion(projectId: string, documentId: string, version: number) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.documentHtml(projectId, documentId, version),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{projectId}/documents/{documentId}:render", {
          params: { path: { projectId, documentId }, query: { version } },
        }),
      ),
    staleTime: Infinity,
  });
}

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
