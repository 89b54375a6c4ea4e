// Usage and cost of the tenant: by day, model and key over a period, CSV export, and quotas.
import { useState } from "preact/hooks";
import { useToast } from "../components/toast.jsx";
import { Async, Badge, Empty, Page, Panel, Progress } from "../components/ui.jsx";
import { PeriodPicker, UsageCharts, UsageTable, UsageTotals } from "../components/usage.jsx";
import { download, get, query } from "../lib/api.js";
import { bytes, money, num } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { useSession } from "../lib/session.js";
import { periodRange } from "../lib/usage.js";

const TABLES = [
  ["day", "By day"],
  ["model", "By model"],
  ["key", "By key"],
  ["day,model,key", "Every row"],
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
    const self = id === session.keyId ? " (this key)" : "";
    return `${name ? `${name} · ${id}` : id}${self}`;
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
            <Empty title="No usage in this period">
              {data.start} to {data.end} (UTC). Calls show up here within a second.
            </Empty>
          </Panel>
        ) : (
          <>
            <UsageTotals report={data} />
            <Panel title="By day">
              <UsageCharts report={data} group="day" />
            </Panel>
            <div class="two-col">
              <Panel title="By model">
                <UsageCharts report={data} group="model" />
              </Panel>
              <Panel title="By key">
                <UsageCharts report={data} group="key" label={(id) => keyName(id)} />
              </Panel>
            </div>
            <Panel
              title="Table"
              actions={
                <div class="segmented" role="group" aria-label="Group the table">
                  {TABLES.map(([value, text]) => (
                    <button key={value} type="button" aria-pressed={table === value} class={`small ${table === value ? "primary" : "secondary"}`} onClick={() => setTable(value)}>
                      {text}
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

// remaining name -> [limit field, title, format]
const METERED = [
  ["requests_this_minute", "requests_per_minute", "Requests per minute", num],
  ["tokens_this_minute", "tokens_per_minute", "Tokens per minute", num],
  ["spend_this_period", "spend_budget", "Spend", money],
  ["job_slots", "max_concurrent_jobs", "Concurrent jobs (fine-tunes, evaluations)", num],
];
const CAPS = [
  ["max_tokens", "Max tokens per request", num],
  ["max_upload_bytes", "Max upload size", bytes],
];
const ALL_LIMITS = [...METERED.map(([, field, title, fmt]) => [field, title, fmt]), ...CAPS];

function QuotaStatus({ data }) {
  const { effective, remaining } = data;
  const period = effective.budget_period === "day+month" ? "day / month" : effective.budget_period;
  const spent = data.tenant.used.spend_this_period;
  return (
    <>
      <ul class="quotas" data-testid="quotas">
        {METERED.map(([left, field, title, fmt]) => {
          const limit = effective[field];
          const name = field === "spend_budget" ? `${title} per ${period}` : title;
          return (
            <li key={field} class="quota" data-limit={field}>
              <div class="quota-head">
                <strong>{name}</strong>
                <span class="muted">
                  {limit === null || limit === undefined ? (
                    <>
                      <Badge>no limit</Badge>
                      {field === "spend_budget" && spent !== null ? ` ${money(spent)} spent this ${effective.budget_period}` : ""}
                    </>
                  ) : (
                    `${fmt(remaining[left])} left of ${fmt(limit)}`
                  )}
                </span>
              </div>
              {limit !== null && limit !== undefined && (
                <Progress label={`${name} used`} value={Math.max(0, limit - remaining[left])} max={limit} format={fmt} />
              )}
            </li>
          );
        })}
        {CAPS.map(([field, title, fmt]) => (
          <li key={field} class="quota" data-limit={field}>
            <div class="quota-head">
              <strong>{title}</strong>
              <span class="muted">{effective[field] === null ? <Badge>no limit</Badge> : fmt(effective[field])}</span>
            </div>
          </li>
        ))}
      </ul>
      <details>
        <summary>Where the limits come from</summary>
        <div class="table-wrap">
          <table aria-label="Limits of the tenant and the key">
            <thead>
              <tr>
                <th scope="col">Limit</th>
                <th scope="col">Tenant {data.tenant.name}</th>
                <th scope="col">This key</th>
                <th scope="col">Applies (the stricter)</th>
              </tr>
            </thead>
            <tbody>
              {ALL_LIMITS.map(([field, title, fmt]) => (
                <tr key={field}>
                  <td>{title}</td>
                  {[data.tenant.limits[field], data.key.limits[field], effective[field]].map((v, i) => (
                    <td key={i}>{v === null ? <span class="muted">no limit</span> : fmt(v)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p class="muted small">Windows: {data.window}.</p>
      </details>
    </>
  );
}

function Quotas() {
  const quotas = useAsync((signal) => get("/v1/quotas", { signal }), []);
  return (
    <Panel title="Quotas" actions={<button type="button" class="small secondary" onClick={quotas.reload}>Refresh</button>}>
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
      title="Usage & cost"
      subtitle="What every call cost, at the prices on the model cards."
      actions={
        <button type="button" class="secondary" disabled={busy} onClick={exportCsv}>
          Export CSV
        </button>
      }
    >
      <PeriodPicker period={period} setPeriod={setPeriod} range={range} />
      <Report period={period} table={table} setTable={setTable} />
      <Quotas />
    </Page>
  );
}
