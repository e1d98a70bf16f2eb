import { useId } from "react";
import { DiffView } from "../../../shared/diff/DiffView";
import { ErrorView } from "../../../shared/ErrorView";
import { Loading } from "../../../shared/Loading";
import { When } from "../../../shared/When";
import type { Conflict, Draft } from "./draft";
import { useVersion, type Author } from "./queries";

interface Props {
  projectId: string;
  documentId: string;
  draft: Draft;
  conflict: Conflict;
  authorName: (author: Author) => string;
  saving: boolean;
  onKeepMine: () => void;
  onUseTheirs: () => void;
  onKeepEditing: () => void;
}

/**
 * Someone saved a newer version while this person edited: both are shown, with what the draft
 * changes in theirs, and the person decides. Nothing is overwritten until they do.
 */
export function ConflictPanel({
  projectId,
  documentId,
  draft,
  conflict,
  authorName,
  saving,
  onKeepMine,
  onUseTheirs,
  onKeepEditing,
}: Props) {
  const id = useId();
  const theirs = useVersion(projectId, documentId, conflict.version);
  const n = conflict.version;
  return (
    <section className="panel conflict" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Version {n} was saved while you were editing</h3>
      {theirs.isPending ? (
        <Loading label={`Loading version ${n}`} />
      ) : theirs.isError ? (
        <ErrorView error={theirs.error} retry={() => void theirs.refetch()} />
      ) : (
        <>
          <p>
            {conflict.refused ? `Your save was not made: your draft is based on version ${draft.base}. ` : ""}
            {authorName(theirs.data.version.author)} saved version {n}{" "}
            <When time={theirs.data.version.createTime} />
            {theirs.data.version.changeNote ? ` (“${theirs.data.version.changeNote}”)` : ""}. Nothing has been
            overwritten: compare the two, then decide.
          </p>
          <div className="conflict-sides">
            <section aria-labelledby={`${id}-mine`}>
              <h4 id={`${id}-mine`}>Your draft</h4>
              <pre className="source" tabIndex={0} aria-label="Your draft's text">
                {draft.content}
              </pre>
            </section>
            <section aria-labelledby={`${id}-theirs`}>
              <h4 id={`${id}-theirs`}>Version {n}, saved</h4>
              <pre className="source" tabIndex={0} aria-label={`Version ${n}'s text`}>
                {theirs.data.content}
              </pre>
            </section>
          </div>
          <h4>What your draft changes in version {n}</h4>
          <DiffView
            before={theirs.data.content}
            after={draft.content}
            beforeLabel={`Version ${n}`}
            afterLabel="Your draft"
          />
        </>
      )}
      <div className="actions">
        <button
          type="button"
          className="primary"
          onClick={onKeepMine}
          disabled={saving || !theirs.isSuccess}
          aria-describedby={`${id}-mine-hint`}
        >
          Keep my version
        </button>
        <button type="button" onClick={onUseTheirs} disabled={saving} aria-describedby={`${id}-theirs-hint`}>
          Use theirs
        </button>
        <button type="button" onClick={onKeepEditing} disabled={saving} aria-describedby={`${id}-edit-hint`}>
          Keep editing
        </button>
      </div>
      <ul className="muted conflict-hints">
        <li id={`${id}-mine-hint`}>Keep my version saves your draft as version {n + 1}, after theirs.</li>
        <li id={`${id}-theirs-hint`}>Use theirs discards your draft and shows the saved version.</li>
        <li id={`${id}-edit-hint`}>
          Keep editing goes back to your draft, now based on version {n}, to merge by hand.
        </li>
      </ul>
    </section>
  );
}
