// Numbers, money, times and sizes, the same way on every page.
const numberFormat = new Intl.NumberFormat("en-US");

export const num = (v) => (v === null || v === undefined ? "—" : numberFormat.format(v));

export function money(v) {
  if (v === null || v === undefined) return "—";
  if (v === 0) return "$0";
  if (Math.abs(v) < 0.01) return `$${v.toPrecision(2)}`;
  return `$${v.toFixed(v < 100 ? 4 : 2)}`;
}

export function price(card) {
  const fmt = (v) => (v ? `$${v}` : "free");
  return `${fmt(card.price_input_per_1k)} in · ${fmt(card.price_output_per_1k)} out / 1K tokens`;
}

export function ms(v) {
  if (v === null || v === undefined) return "—";
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
}

export function pct(v, digits = 1) {
  return v === null || v === undefined ? "—" : `${(v * 100).toFixed(digits)}%`;
}

export function when(unixSeconds) {
  if (!unixSeconds) return "—";
  return new Date(unixSeconds * 1000).toLocaleString("en-GB", {
    dateStyle: "medium",
    timeStyle: "short",
  });
}

/** A moment with its time zone, where the zone matters (a machine measured elsewhere, a log to match). */
export function whenZoned(unixSeconds) {
  if (!unixSeconds) return "—";
  return new Date(unixSeconds * 1000).toLocaleString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  });
}

/** Seconds as milliseconds with three significant digits or so: 0.1246 → "124.6 ms", 0.0012 → "1.20 ms". */
export function msOf(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const v = seconds * 1000;
  return `${v.toFixed(v >= 100 ? 1 : v >= 1 ? 2 : 3)} ms`;
}

export function bytes(v) {
  if (v === null || v === undefined) return "—";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  let size = v;
  while (size >= 1024 && i < units.length - 1) {
    size /= 1024;
    i += 1;
  }
  return `${i ? size.toFixed(1) : size} ${units[i]}`;
}

export function compact(v) {
  if (v === null || v === undefined) return "—";
  if (v >= 1e9) return `${(v / 1e9).toFixed(1)}B`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}K`;
  return String(v);
}

export function costOf(usage, card) {
  if (!usage || !card) return null;
  return (
    (usage.prompt_tokens * (card.price_input_per_1k || 0)) / 1000 +
    (usage.completion_tokens * (card.price_output_per_1k || 0)) / 1000
  );
}
