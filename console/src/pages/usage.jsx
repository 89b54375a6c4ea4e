// Usage and cost of the tenant: by day, model and key over a period, CSV export, and quotas.
import { useState } from "preact/hooks";
import { useToast } from "../components/toast.jsx";
import { Async, Badge, Empty, Page, Panel, Progress } from "../components/ui.jsx";
import { PeriodPicker, UsageCharts, UsageTable, UsageTotals } from "../components/usage.jsx";
import { download, get, query } from "../lib/api.js";
import { bytes, money, num } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";
import { useSession } from "../lib/session.js";
import { periodRange } from "../lib/usage.js";

const TABLES = [
  ["day", () => t("usage.by_day")],
  ["model", () => t("usage.by_model")],
  ["key", () => t("usage.by_key")],
  ["day,model,key", () => t("usage.every_row")],
];

/** Key ids as names: the tenant's keys when this key may list them, else just "this key". */
function useKeyNames(session) {
  const keys = useAsync(
    (signal) => (session.can("keys") ? get("/v1/keys", { signal }).then((p) => p.data) : Promise.resolve([])),
    [],
  );
  const names = new Map((keys.data || []).map((k) => [k.id, k.name]));
  return (id) => {
    const name = names.get(id);
    const shown = name ? t("usage.key_named", { name, id }) : id;
    return id === session.keyId ? t("usage.this_key", { name: shown }) : shown;
  };
}

function Report({ period, table, setTable }) {
  const session = useSession();
  const keyName = useKeyNames(session);
  const range = periodRange(period);
  const report = useAsync(
    (signal) => get(`/v1/usage${query({ ...range, group_by: "day,model,key", format: "json" })}`, { signal }),
    [period],
  );
  const label = (group, value) => (group === "key" ? keyName(value) : value);
  return (
    <Async state={report}>
      {(data) =>
        data.data.length === 0 ? (
          <Panel>
            <Empty title={t("usage.empty_title")}>{t("usage.empty_body", { start: data.start, end: data.end })}</Empty>
          </Panel>
        ) : (
          <>
            <UsageTotals report={data} />
            <Panel title={t("usage.by_day")}>
              <UsageCharts report={data} group="day" />
            </Panel>
            <div class="two-col">
              <Panel title={t("usage.by_model")}>
                <UsageCharts report={data} group="model" />
              </Panel>
              <Panel title={t("usage.by_key")}>
                <UsageCharts report={data} group="key" label={(id) => keyName(id)} />
              </Panel>
            </div>
            <Panel
              title={t("usage.table")}
              actions={
                <div class="segmented" role="group" aria-label={t("usage.group_table")}>
                  {TABLES.map(([value, text]) => (
                    <button key={value} type="button" aria-pressed={table === value} class={`small ${table === value ? "primary" : "secondary"}`} onClick={() => setTable(value)}>
                      {text()}
                    </button>
                  ))}
                </div>
              }
            >
              <UsageTable report={data} groups={table.split(",")} label={label} />
            </Panel>
          </>
        )
      }
    </Async>
  );
}

// [remaining name, limit field, title, format]; titles are functions so they follow the language.
const METERED = [
  ["requests_this_minute", "requests_per_minute", () => t("usage.limit_requests_per_minute"), num],
  ["tokens_this_minute", "tokens_per_minute", () => t("usage.limit_tokens_per_minute"), num],
  ["spend_this_period", "spend_budget", () => t("usage.limit_spend"), money],
  ["job_slots", "max_concurrent_jobs", () => t("usage.limit_jobs"), num],
];
const CAPS = [
  ["max_tokens", () => t("usage.limit_max_tokens"), num],
  ["max_upload_bytes", () => t("usage.limit_max_upload"), bytes],
];
const BUDGET_PERIOD = {
  day: () => t("usage.budget_day"),
  month: () => t("usage.budget_month"),
  "day+month": () => t("usage.budget_day_month"),
};
const budgetPeriod = (value) => (BUDGET_PERIOD[value] ? BUDGET_PERIOD[value]() : value);
const ALL_LIMITS = [...METERED.map(([, field, title, fmt]) => [field, title, fmt]), ...CAPS];

function QuotaStatus({ data }) {
  const { effective, remaining } = data;
  const period = budgetPeriod(effective.budget_period);
  const spent = data.tenant.used.spend_this_period;
  return (
    <>
      <ul class="quotas" data-testid="quotas">
        {METERED.map(([left, field, title, fmt]) => {
          const limit = effective[field];
          const name = field === "spend_budget" ? t("usage.spend_per", { period }) : title();
          return (
            <li key={field} class="quota" data-limit={field}>
              <div class="quota-head">
                <strong>{name}</strong>
                <span class="muted">
                  {limit === null || limit === undefined ? (
                    <>
                      <Badge>{t("usage.no_limit")}</Badge>
                      {field === "spend_budget" && spent !== null ? ` ${t("usage.spent_this", { amount: money(spent), period })}` : ""}
                    </>
                  ) : (
                    t("usage.left_of", { left: fmt(remaining[left]), limit: fmt(limit) })
                  )}
                </span>
              </div>
              {limit !== null && limit !== undefined && (
                <Progress label={t("usage.used", { name })} value={Math.max(0, limit - remaining[left])} max={limit} format={fmt} />
              )}
            </li>
          );
        })}
        {CAPS.map(([field, title, fmt]) => (
          <li key={field} class="quota" data-limit={field}>
            <div class="quota-head">
              <strong>{title()}</strong>
              <span class="muted">{effective[field] === null ? <Badge>{t("usage.no_limit")}</Badge> : fmt(effective[field])}</span>
            </div>
          </li>
        ))}
      </ul>
      <details>
        <summary>{t("usage.limits_from")}</summary>
        <div class="table-wrap">
          <table aria-label={t("usage.limits_table")}>
            <thead>
              <tr>
                <th scope="col">{t("usage.col_limit")}</th>
                <th scope="col">{t("usage.col_tenant", { name: data.tenant.name })}</th>
                <th scope="col">{t("usage.col_this_key")}</th>
                <th scope="col">{t("usage.col_applies")}</th>
              </tr>
            </thead>
            <tbody>
              {ALL_LIMITS.map(([field, title, fmt]) => (
                <tr key={field}>
                  <td>{title()}</td>
                  {[data.tenant.limits[field], data.key.limits[field], effective[field]].map((v, i) => (
                    <td key={i}>{v === null ? <span class="muted">{t("usage.no_limit")}</span> : fmt(v)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p class="muted small">{t("usage.windows", { window: t("usage.window_text") })}</p>
      </details>
    </>
  );
}

function Quotas() {
  const quotas = useAsync((signal) => get("/v1/quotas", { signal }), []);
  return (
    <Panel
      title={t("usage.quotas")}
      actions={
        <button type="button" class="small secondary" onClick={quotas.reload}>
          {t("usage.refresh")}
        </button>
      }
    >
      <Async state={quotas}>{(data) => <QuotaStatus data={data} />}</Async>
    </Panel>
  );
}

export function Usage() {
  const toast = useToast();
  const [period, setPeriod] = useState("30");
  const [table, setTable] = useState("day");
  const [busy, run] = useAction(toast.error);
  const exportCsv = () =>
    run(() => download(`/v1/usage${query({ ...periodRange(period), group_by: table, format: "csv" })}`, "usage.csv"));
  const range = periodRange(period);
  return (
    <Page
      title={t("usage.title")}
      subtitle={t("usage.subtitle")}
      actions={
        <button type="button" class="secondary" disabled={busy} onClick={exportCsv}>
          {t("usage.export_csv")}
        </button>
      }
    >
      <PeriodPicker period={period} setPeriod={setPeriod} range={range} />
      <Report period={period} table={table} setTable={setTable} />
      <Quotas />
    </Page>
  );
}
