// An edit in progress. It lives in the page's state (a form draft), never in the query cache:
// the saved versions stay as the server has them, the draft beside them.

export interface Draft {
  content: string;
  changeNote: string;
  /** The version the draft is based on: the save sends it, and the server refuses a stale one. */
  base: number;
  /** The text the draft started from, to tell whether anything was changed. */
  original: string;
  /** A newer version someone saved meanwhile, for the person to decide about. */
  conflict: Conflict | null;
  /** After "Keep editing" past a conflict: the newer version, whose text is shown to merge from. */
  merging: number | null;
}

export interface Conflict {
  /** The newer version's number. */
  version: number;
  /** True when a save was refused for it (409); false when a live message told of it first. */
  refused: boolean;
}

/** A draft of the latest version. */
export function startDraft(version: number, content: string): Draft {
  return { content, changeNote: "", base: version, original: content, conflict: null, merging: null };
}

/** True when the draft holds something a person would lose by discarding it. */
export function isDirty(draft: Draft | null): boolean {
  return draft !== null && (draft.content !== draft.original || draft.changeNote.trim() !== "");
}
