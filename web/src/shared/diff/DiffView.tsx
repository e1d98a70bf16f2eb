import { memo, useId, useMemo, useState } from "react";
import { countChanges, sideBySideRows, unifiedRows, type Row } from "./lines";

export type DiffMode = "unified" | "split";

interface Props {
  before: string;
  after: string;
  /** What the two sides are, e.g. "v2" and "v3". */
  beforeLabel: string;
  afterLabel: string;
  /** The view to start with; the person can switch. */
  initialMode?: DiffMode;
}

/**
 * Two versions of a text compared line by line, unified or side by side. Added and removed
 * lines are marked in colour and in text (+/− and a label for screen readers).
 */
export const DiffView = memo(function DiffView({
  before,
  after,
  beforeLabel,
  afterLabel,
  initialMode = "unified",
}: Props) {
  const [mode, setMode] = useState<DiffMode>(initialMode);
  const rows = useMemo(() => unifiedRows(before, after), [before, after]);
  const { added, removed } = countChanges(rows);
  const name = useId();
  return (
    <section className="diff-view" aria-label={`Changes from ${beforeLabel} to ${afterLabel}`}>
      <div className="actions">
        <span>
          {beforeLabel} → {afterLabel}: <span className="badge ok">+{added} added</span>{" "}
          <span className="badge bad">−{removed} removed</span>
        </span>
        <fieldset className="inline">
          <legend className="visually-hidden">Diff layout</legend>
          {(["unified", "split"] as const).map((m) => (
            <label key={m}>
              <input type="radio" name={name} value={m} checked={mode === m} onChange={() => setMode(m)} />{" "}
              {m === "unified" ? "Unified" : "Side by side"}
            </label>
          ))}
        </fieldset>
      </div>
      {added === 0 && removed === 0 ? (
        <p className="empty">No changes: the two versions are the same.</p>
      ) : mode === "unified" ? (
        <div className="diff" role="table" aria-label="Unified diff">
          {rows.map((row, i) => (
            <div key={i} className="pair" role="row">
              <Line row={row} />
            </div>
          ))}
        </div>
      ) : (
        <div className="diff side-by-side" role="table" aria-label="Side-by-side diff">
          {sideBySideRows(rows).map((pair, i) => (
            <div key={i} className="pair" role="row">
              <Line row={pair.left} side="before" />
              <Line row={pair.right} side="after" />
            </div>
          ))}
        </div>
      )}
    </section>
  );
});

const marks = { same: " ", added: "+", removed: "−" } as const;
const spoken = { same: "", added: "added: ", removed: "removed: " } as const;

function Line({ row, side }: { row: Row | null; side?: "before" | "after" }) {
  if (!row)
    return <div className="line blank" role="cell" aria-label={`nothing on the ${side ?? ""} side`} />;
  return (
    <div className={`line ${row.kind}`} role="cell">
      <span aria-hidden="true">{marks[row.kind]} </span>
      <span className="visually-hidden">{spoken[row.kind]}</span>
      {row.text}
    </div>
  );
}
