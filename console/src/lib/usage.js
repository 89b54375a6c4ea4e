// Usage reports (`GET /v1/usage`, `GET /v1/provider/usage`): periods in UTC days, and rows
// summed by one of the report's groups on the client, so one request draws every chart.
import { t } from "./i18n.js";

const DAY_MS = 86400000;

// [value, its name]: names are functions so they follow the language when it changes.
export const PERIODS = [
  ["7", () => t("usage.period_7")],
  ["30", () => t("usage.period_30")],
  ["90", () => t("usage.period_90")],
  ["month", () => t("usage.period_month")],
];

const iso = (time) => new Date(time).toISOString().slice(0, 10);

/** `{start, end}` as the API takes them (YYYY-MM-DD, UTC, both included). */
export function periodRange(period) {
  const today = new Date();
  const end = iso(today.getTime());
  if (period === "month") return { start: `${end.slice(0, 8)}01`, end };
  return { start: iso(today.getTime() - (Number(period) - 1) * DAY_MS), end };
}

/** Every day from start to end: a day without calls is a zero column, not a gap. */
export function daysOf({ start, end }) {
  const days = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += DAY_MS) days.push(iso(t));
  return days;
}

export const tokensOf = (row) => row.prompt_tokens + row.completion_tokens;

/** Rows summed by `group` ("day", "model", "key"), largest cost first (days in order). */
export function sumBy(rows, group, money = "cost", { days = null } = {}) {
  const sums = new Map((days || []).map((d) => [d, { [group]: d, requests: 0, prompt_tokens: 0, completion_tokens: 0, [money]: 0 }]));
  for (const row of rows) {
    const name = row[group] ?? "—";
    const sum = sums.get(name) || { [group]: name, requests: 0, prompt_tokens: 0, completion_tokens: 0, [money]: 0 };
    sum.requests += row.requests;
    sum.prompt_tokens += row.prompt_tokens;
    sum.completion_tokens += row.completion_tokens;
    sum[money] += row[money];
    sums.set(name, sum);
  }
  const all = [...sums.values()];
  return group === "day" ? all.sort((a, b) => (a.day < b.day ? -1 : 1)) : all.sort((a, b) => b[money] - a[money] || tokensOf(b) - tokensOf(a));
}
