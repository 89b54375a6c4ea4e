// A tenant's own audit trail (`GET /v1/audit`): a member sees its key's calls, a tenant admin its tenant's.
import { useState } from "preact/hooks";
import { AuditEntries, AuditFilters } from "../components/audit.jsx";
import { Page, Panel } from "../components/ui.jsx";
import { useSession } from "../lib/session.js";

const FIELDS = [
  ["kind", "Kind", [["request", "request"], ["admin", "admin"]]],
  ["model", "Model"],
];

export function Activity() {
  const session = useSession();
  const [filters, setFilters] = useState({});
  const whose = session.role === "tenant_admin" ? `every key of ${session.tenant}` : "this key";
  return (
    <Page title="Activity" subtitle={`The audit trail of ${whose}: every call, its route, model, status and tokens; never prompts.`}>
      <Panel>
        <AuditFilters fields={FIELDS} onApply={setFilters} />
        <AuditEntries path="/v1/audit" filters={filters} />
      </Panel>
    </Page>
  );
}
