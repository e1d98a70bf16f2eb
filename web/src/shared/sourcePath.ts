// Which code documents are source files: those titled by a path (the rules of
// platform/sourcetree.CheckPath, which the server applies when it writes, exports and runs them).

const MAX_PATH = 200;
const MAX_SEGMENT = 100;
const SEGMENT = /^[A-Za-z0-9._+@-]+$/;

/** Whether a code document's title is a source file's path, e.g. "backend/main.go". */
export function isSourcePath(title: string): boolean {
  if (title === "" || title.length > MAX_PATH) return false;
  const lower = title.toLowerCase();
  if (lower === ".git" || lower.startsWith(".git/")) return false;
  return title
    .split("/")
    .every(
      (seg) =>
        seg !== "." && seg !== ".." && seg.length <= MAX_SEGMENT && !seg.startsWith("-") && SEGMENT.test(seg),
    );
}

/** Whether a document is a source file of the project's tree (listed under Code, not Documents). */
export function isSourceFile(document: { type: string; title: string }): boolean {
  return document.type === "DOCUMENT_TYPE_CODE" && isSourcePath(document.title);
}

/** The gates that hold a source tree, verified in the sandbox: from G5 (development) on. */
export const CODE_GATES = [5, 6, 7, 8, 9] as const;
export const isCodeGate = (gate: number): boolean => gate >= 5 && gate <= 9 && Number.isInteger(gate);
