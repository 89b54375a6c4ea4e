// Audit entries, newest first, with filters and "older entries" paging (`before=<seq>`).
import { useEffect, useState } from "preact/hooks";
import { useToast } from "./toast.jsx";
import { Badge, Empty, ErrorNote, Field, Loading } from "./ui.jsx";
import { get, query } from "../lib/api.js";
import { ms, num, when } from "../lib/format.js";
import { useAction } from "../lib/hooks.js";

const PAGE = 50;

function Detail({ detail }) {
  if (!detail || !Object.keys(detail).length) return null;
  return (
    <div class="muted small">
      {Object.entries(detail)
        .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`)
        .join(" ")}
    </div>
  );
}

export function AuditTable({ rows, tenantName }) {
  return (
    <div class="table-wrap">
      <table aria-label="Audit entries" data-testid="audit-entries" class="audit-table">
        <thead>
          <tr>
            <th scope="col" class="num">
              seq
            </th>
            <th scope="col">time</th>
            <th scope="col">kind</th>
            {tenantName && <th scope="col">tenant</th>}
            <th scope="col">key · role</th>
            <th scope="col">request</th>
            <th scope="col">model</th>
            <th scope="col" class="num">
              status
            </th>
            <th scope="col" class="num">
              tokens in / out
            </th>
            <th scope="col" class="num">
              latency
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => (
            <tr key={e.seq} class={e.status_code >= 400 ? "row-flag" : ""}>
              <td class="num">{e.seq}</td>
              <td class="nowrap">{when(e.created_at)}</td>
              <td>{e.kind === "admin" ? <Badge tone="warn">{e.action || "admin"}</Badge> : <Badge>request</Badge>}</td>
              {tenantName && <td>{tenantName(e.tenant_id)}</td>}
              <td class="small">
                {e.key_id || "—"}
                <div class="muted">{e.role ? e.role.replace("_", " ") : ""}</div>
              </td>
              <td class="route">
                <code>{e.method}</code> {e.route}
                <Detail detail={e.detail} />
              </td>
              <td class="clip">{e.model || "—"}</td>
              <td class="num">{e.status_code ?? "—"}</td>
              <td class="num">{e.prompt_tokens === null && e.completion_tokens === null ? "—" : `${num(e.prompt_tokens ?? 0)} / ${num(e.completion_tokens ?? 0)}`}</td>
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
 * data, has_more, last_seq}`; "Older entries" asks for `before=last_seq`.
 */
export function AuditEntries({ path, filters, tenantName }) {
  const toast = useToast();
  const [state, setState] = useState({ rows: null, more: false, last: null, error: null });
  const [busy, run] = useAction(toast.error);
  const where = JSON.stringify(filters);
  useEffect(() => {
    const controller = new AbortController();
    setState({ rows: null, more: false, last: null, error: null });
    get(`${path}${query({ ...filters, limit: PAGE })}`, { signal: controller.signal }).then(
      (page) => setState({ rows: page.data, more: page.has_more, last: page.last_seq, error: null }),
      (error) => controller.signal.aborted || setState({ rows: null, more: false, last: null, error }),
    );
    return () => controller.abort();
  }, [path, where]);
  const older = () =>
    run(async () => {
      const page = await get(`${path}${query({ ...filters, limit: PAGE, before: state.last })}`);
      setState((s) => ({ rows: [...s.rows, ...page.data], more: page.has_more, last: page.last_seq, error: null }));
    });
  if (state.error) return <ErrorNote error={state.error} />;
  if (!state.rows) return <Loading />;
  if (!state.rows.length) return <Empty title="No audit entries match" />;
  return (
    <>
      <AuditTable rows={state.rows} tenantName={tenantName} />
      <div class="table-foot">
        <span class="muted small">
          {state.rows.length} entries shown, newest first{state.more ? "" : " (all of them)"}
        </span>
        {state.more && (
          <button type="button" class="small secondary" disabled={busy} onClick={older}>
            Older entries
          </button>
        )}
      </div>
    </>
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
    <form class="inline-form" onSubmit={submit} aria-label="Filter the audit log">
      {fields.map(([name, label, options]) => (
        <Field key={name} label={label}>
          {(props) =>
            options ? (
              <select {...props} value={form[name]} onChange={(e) => setForm({ ...form, [name]: e.currentTarget.value })}>
                <option value="">any</option>
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
      <button type="submit">Filter</button>
      <button type="button" class="secondary" onClick={() => (setForm(blank), onApply(blank))}>
        Clear
      </button>
    </form>
  );
}
