// How numbers, money and times read in the console.

const usd = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
  maximumFractionDigits: 4,
});
const count = new Intl.NumberFormat("en-US");

/** Money held in millionths of a dollar (the API's *_micros), e.g. "$0.0123". */
export function formatMicros(micros: string | number | undefined): string {
  return usd.format(Number(micros ?? 0) / 1_000_000);
}

/** A count, e.g. 12,345; int64 values arrive as strings. */
export function formatCount(n: string | number | undefined): string {
  return count.format(Number(n ?? 0));
}

/** A moment as a person reads it: "3 min ago", or the date when it is older than a day. */
export function formatWhen(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "—";
  const s = Math.round((now - t) / 1000);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return new Date(t).toLocaleString();
}

/** The exact moment, for a title attribute or a <time>. */
export function formatExact(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : "";
}
