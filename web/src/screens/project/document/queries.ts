// The document page's server state: the document with its latest content, its versions (each
// immutable, so cached for good once loaded), their rendering, the history, and the save.
import { useInfiniteQuery, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useApi } from "../../../api/ApiProvider";
import { ApiRequestError, unwrap, type ApiClient, type Schemas } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";

export type Document = Schemas["Document"];
export type DocumentVersion = Schemas["DocumentVersion"];
export type Author = Schemas["Author"];
export type LatestDocument = Schemas["GetDocumentResponse"];
export type VersionContent = Schemas["GetDocumentVersionResponse"];
export type SaveAnswer = Schemas["UpdateDocumentResponse"];

/** The latest version's metadata, as the versions list has it. */
export function latestVersionOf(document: Document): DocumentVersion {
  return {
    documentId: document.id,
    version: document.version,
    contentHash: document.contentHash,
    sizeBytes: document.sizeBytes,
    author: document.author,
    changeNote: document.changeNote,
    createTime: document.updateTime,
  };
}

/** Remembers a version's content (the latest's comes with the document): no second request. */
export function rememberVersion(client: QueryClient, projectId: string, document: Document, content: string) {
  client.setQueryData<VersionContent>(queryKeys.documentVersion(projectId, document.id, document.version), {
    version: latestVersionOf(document),
    content,
  });
}

async function fetchDocument(api: ApiClient, client: QueryClient, projectId: string, documentId: string) {
  const answer = await unwrap(
    api.GET("/api/v1/projects/{projectId}/documents/{documentId}", {
      params: { path: { projectId, documentId } },
    }),
  );
  rememberVersion(client, projectId, answer.document, answer.content);
  return answer;
}

/** The document and its latest content; a document message refreshes it. */
export function useLatestDocument(projectId: string, documentId: string) {
  const api = useApi();
  const client = useQueryClient();
  return useQuery({
    queryKey: queryKeys.document(projectId, documentId),
    queryFn: () => fetchDocument(api, client, projectId, documentId),
  });
}

/** Loads the latest document now (after a refused save, to learn what is current). */
export function useFetchLatest(projectId: string, documentId: string) {
  const api = useApi();
  const client = useQueryClient();
  return () =>
    client.fetchQuery({
      queryKey: queryKeys.document(projectId, documentId),
      queryFn: () => fetchDocument(api, client, projectId, documentId),
      staleTime: 0,
    });
}

/** The versions, newest first, a page at a time. */
export function useHistory(projectId: string, documentId: string) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: queryKeys.documentVersions(projectId, documentId),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/projects/{projectId}/documents/{documentId}/versions", {
          params: {
            path: { projectId, documentId },
            query: { pageSize: 50, ...(pageParam ? { pageToken: pageParam } : {}) },
          },
        }),
      ),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
}

export interface SaveRequest {
  content: string;
  changeNote: string;
  /** The version the content was based on: the server refuses it unless it is the latest. */
  baseVersion: number;
}

/** Saves content as the next version; refused (409) when baseVersion is no longer the latest. */
export function useSaveCall(projectId: string, documentId: string) {
  const api = useApi();
  return (request: SaveRequest) =>
    unwrap(
      api.PATCH("/api/v1/projects/{projectId}/documents/{documentId}", {
        params: { path: { projectId, documentId } },
        body: request,
      }),
    );
}

/**
 * The version someone else saved first, when error is the refusal of a save based on an older
 * one (ABORTED, reason STALE_VERSION); 0 when the server did not say which; null for any other error.
 */
export function staleSave(error: unknown): number | null {
  if (!(error instanceof ApiRequestError) || error.status !== 409 || error.code !== "ABORTED") return null;
  const current = Number(error.details.metadata?.["currentVersion"]);
  return Number.isInteger(current) && current > 0 ? current : 0;
}

export { useRendered, useVersion } from "../../../shared/documentVersions";
