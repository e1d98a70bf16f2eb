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

/** A size in bytes as a person reads it: "812 B", "4.2 kB", "1.3 MB"; int64 values arrive as strings. */
export function formatBytes(n: string | number | undefined): string {
  const bytes = Number(n ?? 0);
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** A duration in milliseconds: "850 ms", "12.4 s", "3 min 5 s". */
export function formatDuration(ms: string | number | undefined): string {
  const n = Number(ms ?? 0);
  if (n < 1000) return `${n} ms`;
  if (n < 60_000) return `${(n / 1000).toFixed(1)} s`;
  const s = Math.round(n / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** A "sha256:…" hash cut to its first 12 hex digits, enough to tell trees apart at a glance. */
export function shortHash(hash: string): string {
  const [algorithm, hex] = hash.includes(":") ? hash.split(":", 2) : ["", hash];
  const short = (hex ?? "").slice(0, 12);
  return algorithm ? `${algorithm}:${short}` : short;
}
