// Platform admin: the append-only, hash-chained audit log and whether its chain verifies.
import { useState } from "preact/hooks";
import { AuditEntries, AuditFilters } from "../components/audit.jsx";
import { Async, Badge, Page, Panel } from "../components/ui.jsx";
import { get } from "../lib/api.js";
import { num } from "../lib/format.js";
import { useAsync } from "../lib/hooks.js";

/** `GET /v1/admin/audit/verify`: `{object: "audit.verification", ok, count, bad_seq, reason}`. */
function Verification() {
  const result = useAsync((signal) => get("/v1/admin/audit/verify", { signal }), []);
  return (
    <Async state={result}>
      {(data) => (
        <div class={`verify ${data.ok ? "verify-ok" : "verify-bad"}`} role="status" data-testid="audit-verify" data-ok={String(data.ok)}>
          {data.ok ? <Badge tone="ok">chain verified</Badge> : <Badge tone="bad">chain broken</Badge>}
          <span>
            {data.ok
              ? `${num(data.count)} entries checked, every hash matches.`
              : `${num(data.count)} entries checked; entry #${data.bad_seq} fails: ${data.reason}.`}
          </span>
          <button type="button" class="small secondary" onClick={result.reload}>
            Verify again
          </button>
        </div>
      )}
    </Async>
  );
}

export function Audit() {
  const tenants = useAsync((signal) => get("/v1/admin/tenants", { signal }).then((p) => p.data), []);
  const [filters, setFilters] = useState({});
  const names = new Map((tenants.data || []).map((t) => [t.id, t.name]));
  const fields = [
    ["tenant_id", "Tenant", (tenants.data || []).map((t) => [t.id, t.name])],
    ["key_id", "Key id"],
    ["kind", "Kind", [["request", "request"], ["admin", "admin"]]],
    ["action", "Action"],
    ["model", "Model"],
  ];
  return (
    <Page title="Audit log" subtitle="Every call and every administrative action, chained by hashes so an edit shows.">
      <Panel title="Verification">
        <Verification />
      </Panel>
      <Panel title="Entries">
        <AuditFilters fields={fields} onApply={setFilters} />
        <AuditEntries path="/v1/admin/audit" filters={filters} tenantName={(id) => names.get(id) || id || "—"} />
      </Panel>
    </Page>
  );
}
