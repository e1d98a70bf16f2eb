import type { FormEvent } from "react";
import { ErrorView } from "../../../shared/ErrorView";
import { TextArea, TextField } from "../../../shared/TextField";
import { isDirty, type Draft } from "./draft";
import { useVersion } from "./queries";

interface Props {
  projectId: string;
  documentId: string;
  draft: Draft;
  onChange: (change: Partial<Pick<Draft, "content" | "changeNote">>) => void;
  onSave: () => void;
  onDiscard: () => void;
  saving: boolean;
  /** Why the last save failed (a refusal other than a newer version: e.g. the gate is in review). */
  error: unknown;
}

/** The draft's form: its content and a change note; Save sends the version it was based on. */
export function Editor({ projectId, documentId, draft, onChange, onSave, onDiscard, saving, error }: Props) {
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSave();
  };
  return (
    <form onSubmit={submit} noValidate className="doc-editor">
      <p className="muted">
        Your draft is based on version {draft.base}. Saving makes it version {draft.base + 1}, unless someone
        saves first: then you see both and decide.
      </p>
      <TextArea
        label="Content"
        name="content"
        className="doc-content-field"
        rows={24}
        spellCheck={false}
        value={draft.content}
        onChange={(e) => onChange({ content: e.target.value })}
      />
      {draft.merging !== null ? (
        <MergeSource projectId={projectId} documentId={documentId} version={draft.merging} />
      ) : null}
      <TextField
        label="Change note"
        name="changeNote"
        hint="What changed and why, for the history."
        value={draft.changeNote}
        onChange={(e) => onChange({ changeNote: e.target.value })}
      />
      {error ? <ErrorView error={error} title="Not saved" /> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={saving} aria-busy={saving}>
          Save
        </button>
        <button
          type="button"
          onClick={() => {
            if (!isDirty(draft) || window.confirm("Discard your draft? Your changes will be lost."))
              onDiscard();
          }}
          disabled={saving}
        >
          Discard draft
        </button>
      </div>
    </form>
  );
}

/** The newer version's text, beside the draft being merged with it. */
function MergeSource({
  projectId,
  documentId,
  version,
}: {
  projectId: string;
  documentId: string;
  version: number;
}) {
  const saved = useVersion(projectId, documentId, version);
  return (
    <details className="merge-source">
      <summary>Version {version}'s text, to merge from</summary>
      {saved.isSuccess ? (
        <pre className="source" tabIndex={0} aria-label={`Version ${version}'s text`}>
          {saved.data.content}
        </pre>
      ) : saved.isError ? (
        <ErrorView error={saved.error} />
      ) : null}
    </details>
  );
}
