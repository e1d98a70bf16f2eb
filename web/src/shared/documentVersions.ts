// A document version's content and its rendering: versions never change, so each is loaded once
// and kept (the document page and the gate review share these queries).
import { useQuery } from "@tanstack/react-query";
import { useApi } from "../api/ApiProvider";
import { unwrap } from "../api/client";
import { queryKeys } from "../api/queryKeys";

/** One version's metadata and content (undefined version: nothing is loaded). */
export function useVersion(projectId: string, documentId: string, version: number | undefined) {
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
export function useRendered(projectId: string, documentId: string, version: number) {
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
