// Numbers, money, times and sizes, the same way on every page, in the reader's language.
import { locale, t } from "./i18n.js";

const cache = new Map();
/** An Intl formatter for the current language, built once per language and options. */
function intl(Kind, options = {}) {
  const key = `${Kind.name}|${locale()}|${JSON.stringify(options)}`;
  if (!cache.has(key)) cache.set(key, new Kind(locale(), options));
  return cache.get(key);
}

const missing = (v) => v === null || v === undefined || Number.isNaN(v);

export const num = (v, digits) =>
  missing(v) ? "—" : intl(Intl.NumberFormat, digits === undefined ? {} : { maximumFractionDigits: digits }).format(v);

/** Money in US dollars (prices are kept in dollars): small amounts keep two significant digits. */
export function money(v) {
  if (missing(v)) return "—";
  const usd = { style: "currency", currency: "USD" };
  if (v === 0) return intl(Intl.NumberFormat, { ...usd, maximumFractionDigits: 0 }).format(0);
  if (Math.abs(v) < 0.01) return intl(Intl.NumberFormat, { ...usd, maximumSignificantDigits: 2 }).format(v);
  const digits = Math.abs(v) < 100 ? 4 : 2;
  return intl(Intl.NumberFormat, { ...usd, minimumFractionDigits: 2, maximumFractionDigits: digits }).format(v);
}

export function price(card) {
  const fmt = (v) => (v ? money(v) : t("common.free"));
  return t("common.price_per_1k", { input: fmt(card.price_input_per_1k), output: fmt(card.price_output_per_1k) });
}

export function ms(v) {
  if (missing(v)) return "—";
  return v >= 1000 ? `${num(v / 1000, 2)} s` : `${Math.round(v)} ms`;
}

export function pct(v, digits = 1) {
  return missing(v) ? "—" : intl(Intl.NumberFormat, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v);
}

/** A moment, with its time zone: a reader compares it with logs and other machines. */
export function when(unixSeconds) {
  if (!unixSeconds) return "—";
  return intl(Intl.DateTimeFormat, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(new Date(unixSeconds * 1000));
}

/** Seconds as milliseconds with three significant digits or so: 0.1246 → "124.6 ms", 0.0012 → "1.20 ms". */
export function msOf(seconds) {
  if (missing(seconds)) return "—";
  const v = seconds * 1000;
  const digits = v >= 100 ? 1 : v >= 1 ? 2 : 3;
  return `${intl(Intl.NumberFormat, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v)} ms`;
}

/** A length of time a person reads at a glance: "45 s", "about 25 min", "about 2 h 10 min". */
export function duration(seconds) {
  if (missing(seconds) || seconds < 0) return "—";
  if (seconds < 60) return t("common.seconds", { n: Math.max(1, Math.round(seconds)) });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t("common.about_minutes", { n: minutes });
  return t("common.about_hours", { h: Math.floor(minutes / 60), m: minutes % 60 });
}

export function bytes(v) {
  if (missing(v)) return "—";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  let size = v;
  while (size >= 1024 && i < units.length - 1) {
    size /= 1024;
    i += 1;
  }
  return `${i ? num(size, 1) : size} ${units[i]}`;
}

export function compact(v) {
  if (missing(v)) return "—";
  return intl(Intl.NumberFormat, { notation: "compact", maximumFractionDigits: 1 }).format(v);
}

export function costOf(usage, card) {
  if (!usage || !card) return null;
  return (
    (usage.prompt_tokens * (card.price_input_per_1k || 0)) / 1000 +
    (usage.completion_tokens * (card.price_output_per_1k || 0)) / 1000
  );
}
