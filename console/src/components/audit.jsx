// Audit entries, newest first, with filters and "older entries" paging (`before=<seq>`).
// Reads the console's own polling made are left out unless asked for (a filter: the
// entries are still in the log and its chain).
import { useEffect, useState } from "preact/hooks";
import { useToast } from "./toast.jsx";
import { Badge, Empty, ErrorNote, Field, Loading } from "./ui.jsx";
import { get, query } from "../lib/api.js";
import { ms, num, when } from "../lib/format.js";
import { useAction } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";
import { roleName } from "../lib/session.js";

const PAGE = 50;

// What a path parameter names, one literal key each; an unknown one shows as its name.
const RESOURCE_NAMES = {
  job_id: () => t("audit.resource_job"),
  file_id: () => t("audit.resource_file"),
  key_id: () => t("audit.resource_key"),
  model_id: () => t("audit.resource_model"),
  evaluation_id: () => t("audit.resource_evaluation"),
  tenant_name: () => t("audit.resource_tenant"),
  name: () => t("audit.resource_tenant"),
  step: () => t("audit.resource_step"),
  host: () => t("audit.resource_host"),
  scope: () => t("audit.resource_scope"),
};
const resourceName = (param) => (RESOURCE_NAMES[param] ? RESOURCE_NAMES[param]() : param);

// The entry kinds the filters offer.
export const KIND_OPTIONS = () => [
  ["request", t("audit.kind_request")],
  ["admin", t("audit.kind_admin")],
];

/** What the call acted on: "job ftjob-…", "key ci-pipeline (key_…)". */
function Resource({ entry }) {
  const resource = entry.resource;
  if (!resource || !Object.keys(resource).length) return null;
  return (
    <div class="small audit-resource" data-testid="audit-resource">
      {Object.entries(resource).map(([param, value]) => {
        const named = param === "key_id" && entry.resource_name;
        return (
          <span key={param} class="audit-resource-item">
            <span class="muted">{resourceName(param)}</span>{" "}
            {named ? (
              <>
                <strong>{entry.resource_name}</strong> <code class="muted">{value}</code>
              </>
            ) : (
              <code>{value}</code>
            )}
          </span>
        );
      })}
    </div>
  );
}

function Detail({ detail, resource }) {
  // Path parameters already show as the resource; the rest is what a change noted.
  const rest = Object.entries(detail || {}).filter(([k, v]) => !(resource && resource[k] === v));
  if (!rest.length) return null;
  return <div class="muted small">{rest.map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ")}</div>;
}

function Tokens({ entry }) {
  if (entry.prompt_tokens === null && entry.completion_tokens === null) return "—";
  return `${num(entry.prompt_tokens ?? 0)} / ${num(entry.completion_tokens ?? 0)}`;
}

export function AuditTable({ rows, tenantName }) {
  return (
    <div class="table-wrap">
      <table aria-label={t("audit.table_label")} data-testid="audit-entries" class="audit-table">
        <thead>
          <tr>
            <th scope="col" class="num">
              {t("audit.col_seq")}
            </th>
            <th scope="col">{t("audit.col_time")}</th>
            <th scope="col">{t("audit.col_kind")}</th>
            {tenantName && <th scope="col">{t("audit.col_tenant")}</th>}
            <th scope="col">{t("audit.col_key")}</th>
            <th scope="col">{t("audit.col_request")}</th>
            <th scope="col">{t("audit.col_model")}</th>
            <th scope="col" class="num">
              {t("audit.col_status")}
            </th>
            <th scope="col" class="num">
              {t("audit.col_tokens")}
            </th>
            <th scope="col" class="num">
              {t("audit.col_latency")}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => (
            <tr key={e.seq} class={e.status_code >= 400 ? "row-flag" : ""} data-poll={String(Boolean(e.poll))}>
              <td class="num">{e.seq}</td>
              <td class="nowrap">{when(e.created_at)}</td>
              <td>
                {e.kind === "admin" ? <Badge tone="warn">{e.action || t("audit.kind_admin")}</Badge> : <Badge>{t("audit.kind_request")}</Badge>}
                {e.poll && (
                  <div>
                    <Badge>{t("audit.polling_badge")}</Badge>
                  </div>
                )}
              </td>
              {tenantName && <td>{tenantName(e.tenant_id)}</td>}
              <td class="small" data-testid="audit-key">
                {e.key_name ? <strong>{e.key_name}</strong> : !e.key_id && "—"}
                {e.key_id && <div class={e.key_name ? "muted" : ""}>{e.key_id}</div>}
                <div class="muted">{e.role ? roleName(e.role) : ""}</div>
              </td>
              <td class="route">
                <code>{e.method || "—"}</code> {e.route}
                <Resource entry={e} />
                <Detail detail={e.detail} resource={e.resource} />
              </td>
              <td class="clip">{e.model || "—"}</td>
              <td class="num">{e.status_code ?? "—"}</td>
              <td class="num" data-testid="audit-tokens">
                <Tokens entry={e} />
              </td>
              <td class="num">{ms(e.latency_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * `path` with `filters` (name -> value; blank ones left out), a page at a time: `{object:"list",
 * data, has_more, last_seq}`; "Older entries" asks for `before=last_seq`. Polling reads are
 * asked for only with `showPolling`.
 */
export function AuditEntries({ path, filters, tenantName, showPolling = false }) {
  const toast = useToast();
  const [state, setState] = useState({ rows: null, more: false, last: null, error: null });
  const [busy, run] = useAction(toast.error);
  const params = { ...filters, polling: showPolling ? "include" : "exclude", limit: PAGE };
  const where = JSON.stringify(params);
  useEffect(() => {
    const controller = new AbortController();
    setState({ rows: null, more: false, last: null, error: null });
    get(`${path}${query(params)}`, { signal: controller.signal }).then(
      (page) => setState({ rows: page.data, more: page.has_more, last: page.last_seq, error: null }),
      (error) => controller.signal.aborted || setState({ rows: null, more: false, last: null, error }),
    );
    return () => controller.abort();
  }, [path, where]);
  const older = () =>
    run(async () => {
      const page = await get(`${path}${query({ ...params, before: state.last })}`);
      setState((s) => ({ rows: [...s.rows, ...page.data], more: page.has_more, last: page.last_seq, error: null }));
    });
  if (state.error) return <ErrorNote error={state.error} />;
  if (!state.rows) return <Loading />;
  if (!state.rows.length) return <Empty title={t("audit.empty")} />;
  return (
    <>
      <AuditTable rows={state.rows} tenantName={tenantName} />
      <div class="table-foot">
        <span class="muted small">
          {state.more ? t("audit.shown_more", { count: state.rows.length }) : t("audit.shown_all", { count: state.rows.length })}
        </span>
        {state.more && (
          <button type="button" class="small secondary" disabled={busy} onClick={older}>
            {t("audit.older")}
          </button>
        )}
      </div>
    </>
  );
}

/** "Show the console's polling": off by default, so a change is not buried among reads. */
export function PollingToggle({ checked, onChange }) {
  return (
    <label class="check audit-polling-toggle">
      <input type="checkbox" data-testid="audit-show-polling" checked={checked} onChange={(e) => onChange(e.currentTarget.checked)} />
      <span>{t("audit.show_polling")}</span>
    </label>
  );
}

/** Filter fields: `fields` = [[name, label, options?]]; applied on submit. */
export function AuditFilters({ fields, onApply }) {
  const blank = Object.fromEntries(fields.map(([name]) => [name, ""]));
  const [form, setForm] = useState(blank);
  const submit = (event) => {
    event.preventDefault();
    onApply(form);
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label={t("audit.filter_label")}>
      {fields.map(([name, label, options]) => (
        <Field key={name} label={label}>
          {(props) =>
            options ? (
              <select {...props} value={form[name]} onChange={(e) => setForm({ ...form, [name]: e.currentTarget.value })}>
                <option value="">{t("audit.any")}</option>
                {options.map(([value, text]) => (
                  <option key={value} value={value}>
                    {text}
                  </option>
                ))}
              </select>
            ) : (
              <input {...props} value={form[name]} onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value.trim() })} />
            )
          }
        </Field>
      ))}
      <button type="submit">{t("audit.filter")}</button>
      <button type="button" class="secondary" onClick={() => (setForm(blank), onApply(blank))}>
        {t("audit.clear")}
      </button>
    </form>
  );
}
