// Platform admin: the append-only, hash-chained audit log and whether its chain verifies.
import { useState } from "preact/hooks";
import { AuditEntries, AuditFilters, KIND_OPTIONS, PollingToggle } from "../components/audit.jsx";
import { Async, Badge, Page, Panel } from "../components/ui.jsx";
import { get } from "../lib/api.js";
import { num } from "../lib/format.js";
import { useAsync } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";

/** `GET /v1/admin/audit/verify`: `{object: "audit.verification", ok, count, bad_seq, reason}`. */
function Verification() {
  const result = useAsync((signal) => get("/v1/admin/audit/verify", { signal }), []);
  return (
    <Async state={result}>
      {(data) => (
        <div class={`verify ${data.ok ? "verify-ok" : "verify-bad"}`} role="status" data-testid="audit-verify" data-ok={String(data.ok)}>
          {data.ok ? <Badge tone="ok">{t("audit.chain_ok")}</Badge> : <Badge tone="bad">{t("audit.chain_broken")}</Badge>}
          <span>
            {data.ok
              ? t("audit.verified", { count: data.count, n: num(data.count) })
              : t("audit.verify_failed", { count: data.count, n: num(data.count), seq: data.bad_seq, reason: data.reason })}
          </span>
          <button type="button" class="small secondary" onClick={result.reload}>
            {t("audit.verify_again")}
          </button>
        </div>
      )}
    </Async>
  );
}

export function Audit() {
  const tenants = useAsync((signal) => get("/v1/admin/tenants", { signal }).then((p) => p.data), []);
  const [filters, setFilters] = useState({});
  const [showPolling, setShowPolling] = useState(false);
  const names = new Map((tenants.data || []).map((t) => [t.id, t.name]));
  const fields = [
    ["tenant_id", t("audit.field_tenant"), (tenants.data || []).map((tenant) => [tenant.id, tenant.name])],
    ["key_id", t("audit.field_key_id")],
    ["kind", t("audit.field_kind"), KIND_OPTIONS()],
    ["action", t("audit.field_action")],
    ["model", t("audit.field_model")],
  ];
  return (
    <Page title={t("audit.admin_title")} subtitle={t("audit.admin_subtitle")}>
      <Panel title={t("audit.verification")}>
        <Verification />
      </Panel>
      <Panel title={t("audit.entries")}>
        <AuditFilters fields={fields} onApply={setFilters} />
        <PollingToggle checked={showPolling} onChange={setShowPolling} />
        <AuditEntries path="/v1/admin/audit" filters={filters} showPolling={showPolling} tenantName={(id) => names.get(id) || id || "—"} />
      </Panel>
    </Page>
  );
}
