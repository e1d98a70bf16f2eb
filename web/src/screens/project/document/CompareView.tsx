import { useId, useMemo } from "react";
import { DiffView } from "../../../shared/diff/DiffView";
import { Empty } from "../../../shared/Empty";
import { ErrorView } from "../../../shared/ErrorView";
import { Loading } from "../../../shared/Loading";
import { useVersion } from "./queries";

interface Props {
  projectId: string;
  documentId: string;
  /** The latest version's number: versions are 1 to latest. */
  latest: number;
  from: number;
  to: number;
  onChange: (from: number, to: number) => void;
}

/** Any two versions side by side or unified: pick them, see what changed between them. */
export function CompareView({ projectId, documentId, latest, from, to, onChange }: Props) {
  const id = useId();
  const numbers = useMemo(() => Array.from({ length: latest }, (_, i) => latest - i), [latest]);
  const enough = latest > 1;
  const before = useVersion(projectId, documentId, enough ? from : undefined);
  const after = useVersion(projectId, documentId, enough ? to : undefined);
  if (!enough) return <Empty>Only one version so far: there is nothing to compare yet.</Empty>;
  const options = numbers.map((n) => (
    <option key={n} value={n}>
      Version {n}
      {n === latest ? " (latest)" : ""}
    </option>
  ));
  return (
    <>
      <div className="compare-pick">
        <div className="field">
          <label htmlFor={`${id}-from`}>From version</label>
          <select id={`${id}-from`} value={from} onChange={(e) => onChange(Number(e.target.value), to)}>
            {options}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>To version</label>
          <select id={`${id}-to`} value={to} onChange={(e) => onChange(from, Number(e.target.value))}>
            {options}
          </select>
        </div>
        <button type="button" onClick={() => onChange(to, from)}>
          Swap versions
        </button>
      </div>
      {before.isError || after.isError ? (
        <ErrorView
          error={before.error ?? after.error}
          retry={() => {
            if (before.isError) void before.refetch();
            if (after.isError) void after.refetch();
          }}
        />
      ) : before.isPending || after.isPending ? (
        <Loading label={`Loading versions ${from} and ${to}`} />
      ) : (
        <DiffView
          before={before.data.content}
          after={after.data.content}
          beforeLabel={`Version ${from}`}
          afterLabel={`Version ${to}`}
        />
      )}
    </>
  );
}
