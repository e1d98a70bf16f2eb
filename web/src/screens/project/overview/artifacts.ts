// A verification's artifacts (a step's log, a preview's screenshot): loaded when someone opens
// one (GetArtifact answers their bytes as base64 in JSON), and never again: they do not change.
import { useQuery } from "@tanstack/react-query";
import { useApi } from "../../../api/ApiProvider";
import { unwrap, type Schemas } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";

export type Artifact = Schemas["ProofArtifact"];

/** One artifact with its content, fetched only while enabled (its viewer is open). */
export function useArtifact(projectId: string, artifactId: string, enabled: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.artifact(projectId, artifactId),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{projectId}/artifacts/{artifactId}", {
          params: { path: { projectId, artifactId } },
        }),
      ),
    enabled,
    staleTime: Infinity,
  });
}

/** The bytes of base64 (standard or URL-safe, padded or not: JSON's bytes are either). */
export function base64Bytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64.replaceAll("-", "+").replaceAll("_", "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A log's text: its base64 bytes read as UTF-8 (a byte sequence that is not shows as �). */
export function base64Text(base64: string): string {
  return new TextDecoder().decode(base64Bytes(base64));
}
