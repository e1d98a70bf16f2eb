import { memo } from "react";
import { formatCount } from "../../../shared/format";
import { documentTypeLabel } from "../../../shared/labels";
import { When } from "../../../shared/When";
import type { Author, Document, DocumentVersion } from "./queries";

interface Props {
  document: Document;
  /** The version shown (its metadata), once known. */
  shown: DocumentVersion | undefined;
  shownNumber: number;
  gateTitle: string;
  authorName: (author: Author) => string;
}

/** What the document is and which version is shown: type, gate, version, author, hash. */
export const DocumentMeta = memo(function DocumentMeta({
  document,
  shown,
  shownNumber,
  gateTitle,
  authorName,
}: Props) {
  const latest = shownNumber === document.version;
  return (
    <dl className="doc-meta">
      <div>
        <dt>Type</dt>
        <dd>{documentTypeLabel(document.type)}</dd>
      </div>
      <div>
        <dt>Gate</dt>
        <dd>{document.gate > 0 ? gateTitle : "none"}</dd>
      </div>
      <div>
        <dt>Version</dt>
        <dd>
          {shownNumber} {latest ? "(latest)" : `of ${document.version}`}
        </dd>
      </div>
      {shown ? (
        <>
          <div>
            <dt>Author</dt>
            <dd>{authorName(shown.author)}</dd>
          </div>
          <div>
            <dt>Saved</dt>
            <dd>
              <When time={shown.createTime} />
            </dd>
          </div>
          <div>
            <dt>Size</dt>
            <dd>{formatCount(shown.sizeBytes)} bytes</dd>
          </div>
          <div className="doc-meta-wide">
            <dt>Hash</dt>
            <dd>
              <code className="hash">{shown.contentHash}</code>
            </dd>
          </div>
          {shown.changeNote ? (
            <div className="doc-meta-wide">
              <dt>Change note</dt>
              <dd>{shown.changeNote}</dd>
            </div>
          ) : null}
        </>
      ) : null}
    </dl>
  );
});
