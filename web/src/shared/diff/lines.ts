// Two texts compared line by line, as rows a unified or a side-by-side view shows.
import { diffLines } from "diff";

export type Row =
  | { kind: "same"; text: string; oldNumber: number; newNumber: number }
  | { kind: "removed"; text: string; oldNumber: number }
  | { kind: "added"; text: string; newNumber: number };

function splitLines(value: string): string[] {
  const lines = value.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** The unified rows: unchanged, removed and added lines, with their numbers on each side. */
export function unifiedRows(before: string, after: string): Row[] {
  const rows: Row[] = [];
  let oldNumber = 1;
  let newNumber = 1;
  for (const part of diffLines(before, after)) {
    for (const text of splitLines(part.value)) {
      if (part.added) rows.push({ kind: "added", text, newNumber: newNumber++ });
      else if (part.removed) rows.push({ kind: "removed", text, oldNumber: oldNumber++ });
      else rows.push({ kind: "same", text, oldNumber: oldNumber++, newNumber: newNumber++ });
    }
  }
  return rows;
}

export interface SidePair {
  left: Row | null;
  right: Row | null;
}

/**
 * The side-by-side rows: unchanged lines on both sides; a run of removed lines next to the run
 * of added lines that replaced it, padded with blanks where one is longer.
 */
export function sideBySideRows(rows: Row[]): SidePair[] {
  const pairs: SidePair[] = [];
  let removed: Row[] = [];
  let added: Row[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(removed.length, added.length); i++) {
      pairs.push({ left: removed[i] ?? null, right: added[i] ?? null });
    }
    removed = [];
    added = [];
  };
  for (const row of rows) {
    if (row.kind === "removed") removed.push(row);
    else if (row.kind === "added") added.push(row);
    else {
      flush();
      pairs.push({ left: row, right: row });
    }
  }
  flush();
  return pairs;
}

/** How many lines were added and removed. */
export function countChanges(rows: Row[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const r of rows) {
    if (r.kind === "added") added++;
    else if (r.kind === "removed") removed++;
  }
  return { added, removed };
}
