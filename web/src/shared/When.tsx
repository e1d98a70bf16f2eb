import { formatExact, formatWhen } from "./format";

/** A time, relative ("3 min ago"), with the exact moment in a machine-readable <time>. */
export function When({ time }: { time: string | null | undefined }) {
  if (!time) return <span>—</span>;
  return (
    <time dateTime={time} title={formatExact(time)}>
      {formatWhen(time)}
    </time>
  );
}
