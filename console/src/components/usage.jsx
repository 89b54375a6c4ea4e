// The charts and table of a usage report: cost (or revenue) and tokens by day, model or key.
import { BarChart, ColumnChart } from "./charts.jsx";
import { Field, Stat } from "./ui.jsx";
import { compact, money, num } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { daysOf, PERIODS, sumBy, tokensOf } from "../lib/usage.js";

// Chart titles by measure and grouping, each its own message (a language orders them its own way).
const TITLES = {
  cost: {
    day: () => t("usage.cost_per_day"),
    model: () => t("usage.cost_by_model"),
    key: () => t("usage.cost_by_key"),
  },
  revenue: {
    day: () => t("usage.revenue_per_day"),
    model: () => t("usage.revenue_by_model"),
    key: () => t("usage.revenue_by_key"),
  },
  tokens: {
    day: () => t("usage.tokens_per_day"),
    model: () => t("usage.tokens_by_model"),
    key: () => t("usage.tokens_by_key"),
  },
};
const MEASURE = { cost: () => t("usage.cost"), revenue: () => t("usage.revenue") };
const COLUMN = {
  day: () => t("usage.col_day"),
  model: () => t("usage.col_model"),
  key: () => t("usage.col_key"),
  cost: () => t("usage.col_cost"),
  revenue: () => t("usage.col_revenue"),
};

/** Two charts of one grouping: money and tokens. `label(name)` names a model or key. */
export function UsageCharts({ report, group, measure = "cost", label = (name) => name }) {
  const days = group === "day" ? daysOf(report) : null;
  const sums = sumBy(report.data, group, measure, { days });
  // Every day of the period; the 12 largest models or keys.
  const items = (group === "day" ? sums : sums.slice(0, 12)).map((row) => ({
    label: group === "day" ? row.day.slice(5) : label(row[group]),
    money: row[measure],
    tokens: tokensOf(row),
  }));
  const Chart = group === "day" ? ColumnChart : BarChart;
  const title = TITLES[measure][group]();
  const tokensTitle = TITLES.tokens[group]();
  return (
    <div class="chart-grid" data-testid={`usage-${group}`}>
      <figure class="chart-box">
        <figcaption>{title}</figcaption>
        <Chart items={items.map((i) => ({ label: i.label, value: i.money }))} label={title} format={money} />
      </figure>
      <figure class="chart-box">
        <figcaption>{tokensTitle}</figcaption>
        <Chart items={items.map((i) => ({ label: i.label, value: i.tokens }))} label={tokensTitle} format={compact} />
      </figure>
    </div>
  );
}

export function UsageTotals({ report, measure = "cost" }) {
  const totals = report.totals;
  return (
    <div class="stats-grid" data-testid="usage-totals">
      <Stat label={t("usage.requests")} value={num(totals.requests)} />
      <Stat label={t("usage.prompt_tokens")} value={num(totals.prompt_tokens)} />
      <Stat label={t("usage.completion_tokens")} value={num(totals.completion_tokens)} />
      <Stat label={MEASURE[measure]()} value={money(totals[measure])} />
    </div>
  );
}

/** The rows summed by `groups` (a subset of the report's), with a totals row. */
export function UsageTable({ report, groups, measure = "cost", label = (_, name) => name }) {
  const rows = groups.length === 1 ? sumBy(report.data, groups[0], measure) : report.data;
  return (
    <div class="table-wrap">
      <table aria-label={t("usage.table_label")} data-testid="usage-table">
        <thead>
          <tr>
            {groups.map((g) => (
              <th key={g} scope="col">
                {COLUMN[g]()}
              </th>
            ))}
            <th scope="col" class="num">
              {t("usage.col_requests")}
            </th>
            <th scope="col" class="num">
              {t("usage.col_prompt_tokens")}
            </th>
            <th scope="col" class="num">
              {t("usage.col_completion_tokens")}
            </th>
            <th scope="col" class="num">
              {COLUMN[measure]()}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {groups.map((g) => (
                <td key={g} class="clip">
                  {label(g, row[g])}
                </td>
              ))}
              <td class="num">{num(row.requests)}</td>
              <td class="num">{num(row.prompt_tokens)}</td>
              <td class="num">{num(row.completion_tokens)}</td>
              <td class="num">{money(row[measure])}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr class="totals">
            <th scope="row" colSpan={groups.length}>
              {t("usage.total")}
            </th>
            <td class="num">{num(report.totals.requests)}</td>
            <td class="num">{num(report.totals.prompt_tokens)}</td>
            <td class="num">{num(report.totals.completion_tokens)}</td>
            <td class="num">{money(report.totals[measure])}</td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

/** The period a report covers, and the UTC days that makes. */
export function PeriodPicker({ period, setPeriod, range }) {
  return (
    <div class="inline-form">
      <Field label={t("usage.period")}>
        {(props) => (
          <select {...props} value={period} onChange={(e) => setPeriod(e.currentTarget.value)}>
            {PERIODS.map(([value, text]) => (
              <option key={value} value={value}>
                {text()}
              </option>
            ))}
          </select>
        )}
      </Field>
      <span class="muted period-range">
        {t("usage.range", { start: range.start, end: range.end })}
      </span>
    </div>
  );
}
