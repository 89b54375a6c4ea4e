// A tenant's own audit trail (`GET /v1/audit`): a member sees its key's calls, a tenant admin its tenant's.
import { useState } from "preact/hooks";
import { AuditEntries, AuditFilters, KIND_OPTIONS, PollingToggle } from "../components/audit.jsx";
import { Page, Panel } from "../components/ui.jsx";
import { t } from "../lib/i18n.js";
import { useSession } from "../lib/session.js";

export function Activity() {
  const session = useSession();
  const [filters, setFilters] = useState({});
  const [showPolling, setShowPolling] = useState(false);
  const fields = [
    ["kind", t("audit.field_kind"), KIND_OPTIONS()],
    ["model", t("audit.field_model")],
  ];
  const subtitle = session.role === "tenant_admin" ? t("audit.activity_subtitle_tenant", { tenant: session.tenant }) : t("audit.activity_subtitle_key");
  return (
    <Page title={t("audit.activity_title")} subtitle={subtitle}>
      <Panel>
        <AuditFilters fields={fields} onApply={setFilters} />
        <PollingToggle checked={showPolling} onChange={setShowPolling} />
        <AuditEntries path="/v1/audit" filters={filters} showPolling={showPolling} />
      </Panel>
    </Page>
  );
}
