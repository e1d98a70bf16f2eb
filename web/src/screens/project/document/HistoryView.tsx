import { memo } from "react";
import { Empty } from "../../../shared/Empty";
import { ErrorView } from "../../../shared/ErrorView";
import { Loading } from "../../../shared/Loading";
import { When } from "../../../shared/When";
import { useHistory, type Author, type DocumentVersion } from "./queries";

interface Props {
  projectId: string;
  documentId: string;
  /** The version on view, marked in the list. */
  shownNumber: number;
  authorName: (author: Author) => string;
  onView: (version: number) => void;
  onCompare: (from: number, to: number) => void;
}

/** The versions, newest first: who saved each, their note and when; any can be viewed. */
export function HistoryView({ projectId, documentId, shownNumber, authorName, onView, onCompare }: Props) {
  const history = useHistory(projectId, documentId);
  if (history.isPending) return <Loading label="Loading the history" />;
  if (history.isError) return <ErrorView error={history.error} retry={() => void history.refetch()} />;
  const versions = history.data.pages.flatMap((p) => p.versions);
  if (versions.length === 0) return <Empty>No versions saved yet.</Empty>;
  return (
    <>
      <table className="doc-history">
        <caption className="visually-hidden">Versions, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Author</th>
            <th scope="col">Change note</th>
            <th scope="col">Saved</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <HistoryRow
              key={v.version}
              version={v}
              shown={v.version === shownNumber}
              author={authorName(v.author)}
              onView={onView}
              onCompare={onCompare}
            />
          ))}
        </tbody>
      </table>
      {history.hasNextPage ? (
        <div className="actions">
          <button
            type="button"
            onClick={() => void history.fetchNextPage()}
            disabled={history.isFetchingNextPage}
          >
            Show older versions
          </button>
        </div>
      ) : null}
    </>
  );
}

const HistoryRow = memo(function HistoryRow({
  version: v,
  shown,
  author,
  onView,
  onCompare,
}: {
  version: DocumentVersion;
  shown: boolean;
  author: string;
  onView: (version: number) => void;
  onCompare: (from: number, to: number) => void;
}) {
  return (
    <tr aria-current={shown ? "true" : undefined} className={shown ? "current" : undefined}>
      <td>
        {v.version}
        {shown ? (
          <>
            {" "}
            <span className="badge info">on view</span>
          </>
        ) : null}
      </td>
      <td>{author}</td>
      <td>{v.changeNote || <span className="muted">no note</span>}</td>
      <td>
        <When time={v.createTime} />
      </td>
      <td>
        <div className="row-actions">
          <button type="button" className="link" onClick={() => onView(v.version)}>
            View version {v.version}
          </button>
          {v.version > 1 ? (
            <button type="button" className="link" onClick={() => onCompare(v.version - 1, v.version)}>
              Compare version {v.version} with {v.version - 1}
            </button>
          ) : null}
        </div>
      </td>
    </tr>
  );
});
