// Platform admin: tenants, each tenant's quota and keys (issue, rotate, revoke, per-key quota).
import { useState } from "preact/hooks";
import { NewKey } from "../components/newkey.jsx";
import { QuotaEditor } from "../components/quota-editor.jsx";
import { useToast } from "../components/toast.jsx";
import { Async, Badge, Field, Page, Panel } from "../components/ui.jsx";
import { del, get, post } from "../lib/api.js";
import { when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { useSession } from "../lib/session.js";

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

function CreateTenant({ onCreated }) {
  const toast = useToast();
  const [name, setName] = useState("");
  const [error, setError] = useState(null);
  const [busy, run] = useAction(toast.error);
  const submit = (event) => {
    event.preventDefault();
    if (!NAME.test(name)) return setError("Lowercase letters, digits and dashes, starting with a letter or digit");
    setError(null);
    run(async () => {
      onCreated(await post("/v1/admin/tenants", { name }));
      setName("");
    });
  };
  return (
    <form class="inline-form" onSubmit={submit} noValidate>
      <Field label="New tenant name" error={error}>
        {(props) => <input {...props} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <button type="submit" class="primary" disabled={busy}>
        Create tenant
      </button>
    </form>
  );
}

function TenantKeys({ tenant, onIssued, quotaKey, setQuotaKey }) {
  const roles = Object.keys(useSession().grantable);
  const toast = useToast();
  const path = `/v1/admin/tenants/${encodeURIComponent(tenant)}/keys`;
  const keys = useAsync((signal) => get(path, { signal }).then((p) => p.data), [tenant]);
  const [role, setRole] = useState("member");
  const [name, setName] = useState("");
  const [busy, run] = useAction(toast.error);
  const issue = (event) => {
    event.preventDefault();
    run(async () => {
      onIssued(await post(path, { role, name: name.trim() }));
      setName("");
      keys.reload();
    });
  };
  const revoke = (key) =>
    confirm(`Revoke ${key.name || key.id} of ${tenant}? Calls with it fail at once.`) &&
    run(async () => {
      await del(`/v1/admin/keys/${encodeURIComponent(key.id)}`);
      toast.ok("Key revoked");
      keys.reload();
    });
  const rotate = (key) =>
    confirm(`Rotate ${key.name || key.id} of ${tenant}? The old key stops working at once.`) &&
    run(async () => {
      onIssued(await post(`/v1/admin/keys/${encodeURIComponent(key.id)}/rotate`));
      keys.reload();
    });
  return (
    <Panel title={`Keys of ${tenant}`}>
      <form class="inline-form" onSubmit={issue} aria-label={`Issue a key to ${tenant}`}>
        <Field label="Key name">{(props) => <input {...props} maxLength={128} value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
        <Field label="Role">
          {(props) => (
            <select {...props} value={role} onChange={(e) => setRole(e.currentTarget.value)}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {r.replace("_", " ")}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" disabled={busy}>
          Issue a key
        </button>
      </form>
      <Async state={keys} emptyTitle="No keys">
        {(data) => (
          <div class="table-wrap">
            <table aria-label={`Keys of ${tenant}`}>
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Role</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.map((k) => (
                  <tr key={k.id} class={k.revoked_at ? "row-muted" : quotaKey === k.id ? "row-selected" : ""}>
                    <td>
                      {k.name || <span class="muted">unnamed</span>}
                      <div class="muted small">{k.id}</div>
                    </td>
                    <td>
                      {k.role.replace("_", " ")} {k.read_only && <Badge>read-only</Badge>}
                    </td>
                    <td class="small clip">{k.scopes.join(", ")}</td>
                    <td>{when(k.created_at)}</td>
                    <td>{when(k.last_used_at)}</td>
                    <td class="row-actions">
                      {k.revoked_at ? (
                        <Badge>revoked {when(k.revoked_at)}</Badge>
                      ) : (
                        <>
                          <button type="button" class="small secondary" aria-pressed={quotaKey === k.id} onClick={() => setQuotaKey(quotaKey === k.id ? null : k.id)}>
                            Quota
                          </button>
                          <button type="button" class="small secondary" disabled={busy} onClick={() => rotate(k)}>
                            Rotate
                          </button>
                          <button type="button" class="small danger" disabled={busy} onClick={() => revoke(k)}>
                            Revoke
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
    </Panel>
  );
}

export function Tenants() {
  const tenants = useAsync((signal) => get("/v1/admin/tenants", { signal }).then((p) => p.data), []);
  const [selected, setSelected] = useState(null);
  const [issued, setIssued] = useState(null);
  const [quotaKey, setQuotaKey] = useState(null);
  const choose = (name) => (setSelected(name), setQuotaKey(null));
  return (
    <Page title="Tenants" subtitle="Each tenant's data, models and keys are kept apart.">
      <NewKey issued={issued} onDone={() => setIssued(null)} />
      <Panel title="Tenants">
        <CreateTenant
          onCreated={(created) => {
            setIssued(created.key);
            choose(created.name);
            tenants.reload();
          }}
        />
        <Async state={tenants} emptyTitle="No tenants yet">
          {(data) => (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Tenant</th>
                    <th scope="col">Id</th>
                    <th scope="col">Created</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.map((t) => (
                    <tr key={t.id} class={selected === t.name ? "row-selected" : ""}>
                      <td>{t.name}</td>
                      <td class="muted small">{t.id}</td>
                      <td>{when(t.created_at)}</td>
                      <td class="row-actions">
                        <button type="button" class="small secondary" aria-pressed={selected === t.name} onClick={() => choose(t.name)}>
                          Keys and quota
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Async>
      </Panel>
      {selected && (
        <>
          <TenantKeys key={selected} tenant={selected} onIssued={setIssued} quotaKey={quotaKey} setQuotaKey={setQuotaKey} />
          <QuotaEditor key={`q-${selected}`} path={`/v1/admin/quotas/tenants/${encodeURIComponent(selected)}`} title={`Quota of ${selected}`} />
          {quotaKey && <QuotaEditor key={`k-${quotaKey}`} path={`/v1/admin/quotas/keys/${encodeURIComponent(quotaKey)}`} title={`Quota of key ${quotaKey}`} />}
        </>
      )}
    </Page>
  );
}
