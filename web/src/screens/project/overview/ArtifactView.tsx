import { memo, useEffect, useId, useRef, useState } from "react";
import { ErrorView } from "../../../shared/ErrorView";
import { formatBytes } from "../../../shared/format";
import { Loading } from "../../../shared/Loading";
import { base64Bytes, base64Text, useArtifact, type Artifact } from "./artifacts";

const isImage = (artifact: Artifact) =>
  artifact.kind === "screenshot" || (artifact.mediaType ?? "").startsWith("image/");

/**
 * An artifact of a machine-produced proof behind a "View log" (or "View screenshot") button:
 * loaded when opened. A log shows in a bounded, scrollable monospace block; a screenshot as an
 * image described for screen readers. about names what left it: "the build proof".
 */
export const ArtifactView = memo(function ArtifactView({
  projectId,
  artifact,
  about,
}: {
  projectId: string;
  artifact: Artifact;
  about: string;
}) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const id = artifact.id ?? "";
  const loaded = useArtifact(projectId, id, open && id !== "");
  const what = isImage(artifact) ? "screenshot" : "log";
  return (
    <div className="artifact">
      <button type="button" aria-expanded={open} aria-controls={panelId} onClick={() => setOpen(!open)}>
        {open ? "Hide" : "View"} {what} <span className="visually-hidden">of {about}</span>
      </button>
      {artifact.sizeBytes ? <span className="muted"> {formatBytes(artifact.sizeBytes)}</span> : null}
      <div id={panelId}>
        {!open ? null : loaded.isPending ? (
          <Loading label={`Loading the ${what}`} />
        ) : loaded.isError ? (
          <ErrorView error={loaded.error} retry={() => void loaded.refetch()} />
        ) : isImage(loaded.data.artifact) ? (
          <Screenshot
            content={loaded.data.content}
            mediaType={loaded.data.artifact.mediaType ?? "image/png"}
            alt={`Screenshot of the project's preview, taken for ${about}`}
          />
        ) : (
          <pre className="output artifact-log" tabIndex={0} role="region" aria-label={`Log of ${about}`}>
            {base64Text(loaded.data.content)}
          </pre>
        )}
      </div>
    </div>
  );
});

/**
 * A screenshot drawn on a canvas. Not an <img> of a data: or blob: URL: the gateway's
 * Content-Security-Policy (default-src 'self') blocks both, while an image decoded from bytes in
 * memory is no load it governs.
 */
function Screenshot({ content, mediaType, alt }: { content: string; mediaType: string; alt: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [damaged, setDamaged] = useState(false);
  useEffect(() => {
    let ended = false;
    createImageBitmap(new Blob([base64Bytes(content)], { type: mediaType })).then(
      (bitmap) => {
        const target = canvas.current;
        if (!ended && target) {
          target.width = bitmap.width;
          target.height = bitmap.height;
          target.getContext("2d")?.drawImage(bitmap, 0, 0);
        }
        bitmap.close();
      },
      () => {
        if (!ended) setDamaged(true);
      },
    );
    return () => {
      ended = true;
    };
  }, [content, mediaType]);
  if (damaged)
    return <p className="error">The screenshot cannot be shown: it is not an image this browser reads.</p>;
  return <canvas ref={canvas} className="artifact-screenshot" role="img" aria-label={alt} />;
}
