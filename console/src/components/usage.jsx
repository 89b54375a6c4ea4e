// The charts and table of a usage report: cost (or revenue) and tokens by day, model or key.
import { BarChart, ColumnChart } from "./charts.jsx";
import { Field, Stat } from "./ui.jsx";
import { compact, money, num } from "../lib/format.js";
import { daysOf, PERIODS, sumBy, tokensOf } from "../lib/usage.js";

const CAPTION = { day: "per day", model: "by model", key: "by key" };

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
  const title = measure === "revenue" ? "Revenue" : "Cost";
  return (
    <div class="chart-grid" data-testid={`usage-${group}`}>
      <figure class="chart-box">
        <figcaption>
          {title} {CAPTION[group]}
        </figcaption>
        <Chart items={items.map((i) => ({ label: i.label, value: i.money }))} label={`${title} ${CAPTION[group]}`} format={money} />
      </figure>
      <figure class="chart-box">
        <figcaption>Tokens {CAPTION[group]}</figcaption>
        <Chart items={items.map((i) => ({ label: i.label, value: i.tokens }))} label={`Tokens ${CAPTION[group]}`} format={compact} />
      </figure>
    </div>
  );
}

export function UsageTotals({ report, measure = "cost" }) {
  const t = report.totals;
  return (
    <div class="stats-grid" data-testid="usage-totals">
      <Stat label="Requests" value={num(t.requests)} />
      <Stat label="Prompt tokens" value={num(t.prompt_tokens)} />
      <Stat label="Completion tokens" value={num(t.completion_tokens)} />
      <Stat label={measure === "revenue" ? "Revenue" : "Cost"} value={money(t[measure])} />
    </div>
  );
}

/** The rows summed by `groups` (a subset of the report's), with a totals row. */
export function UsageTable({ report, groups, measure = "cost", label = (_, name) => name }) {
  const rows = groups.length === 1 ? sumBy(report.data, groups[0], measure) : report.data;
  return (
    <div class="table-wrap">
      <table aria-label="Usage" data-testid="usage-table">
        <thead>
          <tr>
            {groups.map((g) => (
              <th key={g} scope="col">
                {g}
              </th>
            ))}
            <th scope="col" class="num">
              requests
            </th>
            <th scope="col" class="num">
              prompt tokens
            </th>
            <th scope="col" class="num">
              completion tokens
            </th>
            <th scope="col" class="num">
              {measure}
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
              Total
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
      <Field label="Period">
        {(props) => (
          <select {...props} value={period} onChange={(e) => setPeriod(e.currentTarget.value)}>
            {PERIODS.map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        )}
      </Field>
      <span class="muted period-range">
        {range.start} to {range.end} (UTC days)
      </span>
    </div>
  );
}
