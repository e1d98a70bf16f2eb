import { useMutation } from "@tanstack/react-query";
import { useApi } from "../../api/ApiProvider";
import type { Schemas } from "../../api/client";
import { ErrorView } from "../ErrorView";
import { downloadArchive, type ArchiveFormat } from "./download";

/** A size as a person reads it. */
function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A button that downloads the project's documents as an archive, saying how it went. */
export function DownloadButton({
  project,
  format,
  label,
}: {
  project: Pick<Schemas["Project"], "id" | "name">;
  format: ArchiveFormat;
  label: string;
}) {
  const api = useApi();
  const download = useMutation({ mutationFn: () => downloadArchive(api, project, format) });
  return (
    <div className="export-download">
      <button
        type="button"
        className="primary"
        disabled={download.isPending}
        onClick={() => download.mutate()}
      >
        {label}
      </button>
      <span role="status" aria-live="polite">
        {download.isPending ? "Preparing the archive…" : null}
        {download.isSuccess ? `Saved ${download.data.name} (${formatSize(download.data.size)}).` : null}
      </span>
      {download.isError ? <ErrorView error={download.error} title="The download failed" /> : null}
    </div>
  );
}
