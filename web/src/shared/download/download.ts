// Saving a file the API answered with: the request goes through the typed client (it carries the
// Authorization header, which a plain link cannot), and the answer is saved through an object
// URL and a temporary <a download>, revoked once the browser has taken it.
import { ApiRequestError, type ApiClient, type Schemas } from "../../api/client";

export type ArchiveFormat = "ARCHIVE_FORMAT_ZIP" | "ARCHIVE_FORMAT_TAR_GZ";

/** The name in a Content-Disposition header (filename*= first, then filename=), if any. */
export function filenameOf(disposition: string | null): string | undefined {
  if (!disposition) return undefined;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(disposition);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall through to filename=
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/.exec(disposition);
  const name = (plain?.[2] ?? plain?.[1])?.trim();
  // Only a name, never a path.
  return name ? name.replace(/[\\/]/g, "_") : undefined;
}

/** Saves blob as a file called name, as a download of the page. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  try {
    a.click();
  } finally {
    a.remove();
    // Some browsers read the URL after click returns: revoke it a moment later.
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}

export interface Downloaded {
  name: string;
  size: number;
}

/** Downloads the project's documents as an archive and saves it; an error answer throws. */
export async function downloadArchive(
  api: ApiClient,
  project: Pick<Schemas["Project"], "id" | "name">,
  format: ArchiveFormat,
): Promise<Downloaded> {
  const { data, error, response } = await api.GET("/api/v1/projects/{projectId}/documents:export", {
    params: { path: { projectId: project.id }, query: { format } },
    parseAs: "blob",
  });
  if (!response.ok || data === undefined) throw ApiRequestError.fromResponse(response, error);
  const extension = format === "ARCHIVE_FORMAT_TAR_GZ" ? "tar.gz" : "zip";
  const fallback = `${project.name.replace(/[^A-Za-z0-9._-]+/g, "-") || "project"}-documents.${extension}`;
  const name = filenameOf(response.headers.get("Content-Disposition")) ?? fallback;
  saveBlob(data, name);
  return { name, size: data.size };
}
