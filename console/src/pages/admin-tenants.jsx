// Platform admin: tenants, each tenant's quota and keys (issue, rotate, revoke, per-key quota).
// A new tenant's first key is its tenant_admin key (the server's rule); later keys default to member.
import { useRef, useState } from "preact/hooks";
import { useConfirm } from "../components/confirm.jsx";
import { GraceField } from "../components/grace-field.jsx";
import { NewKey, roleName } from "../components/newkey.jsx";
import { QuotaEditor } from "../components/quota-editor.jsx";
import { useToast } from "../components/toast.jsx";
import { Async, Badge, Field, Page, Panel } from "../components/ui.jsx";
import { del, get, post } from "../lib/api.js";
import { when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";
import { useSession } from "../lib/session.js";

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

function CreateTenant({ onCreated }) {
  const toast = useToast();
  const [name, setName] = useState("");
  const [error, setError] = useState(null);
  const [busy, run] = useAction(toast.error);
  const submit = (event) => {
    event.preventDefault();
    if (!NAME.test(name)) return setError(t("admin.tenant_name_rule"));
    setError(null);
    run(async () => {
      onCreated(await post("/v1/admin/tenants", { name }));
      setName("");
    });
  };
  return (
    <form class="inline-form" onSubmit={submit} noValidate>
      <Field label={t("admin.new_tenant_name")} hint={t("admin.first_key_hint")} error={error}>
        {(props) => <input {...props} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <button type="submit" class="primary" disabled={busy}>
        {t("admin.create_tenant")}
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
  const confirm = useConfirm();
  const grace = useRef(0);
  const label = (key) => key.name || key.id;
  const issue = (event) => {
    event.preventDefault();
    run(async () => {
      onIssued(await post(path, { role, name: name.trim() }));
      setName("");
      keys.reload();
    });
  };
  const revoke = (key) =>
    run(async () => {
      const yes = await confirm({
        title: t("admin.revoke_title", { key: label(key), tenant }),
        body: t("admin.revoke_body"),
        confirm: t("admin.revoke"),
        danger: true,
      });
      if (!yes) return;
      await del(`/v1/admin/keys/${encodeURIComponent(key.id)}`);
      toast.ok(t("admin.revoked_toast"));
      keys.reload();
    });
  const rotate = (key) =>
    run(async () => {
      grace.current = 0;
      const yes = await confirm({
        title: t("admin.rotate_title", { key: label(key), tenant }),
        body: t("admin.rotate_body"),
        confirm: t("admin.rotate"),
        children: <GraceField choice={grace} />,
      });
      if (!yes) return;
      const body = grace.current ? { grace_s: grace.current } : undefined;
      onIssued(await post(`/v1/admin/keys/${encodeURIComponent(key.id)}/rotate`, body));
      keys.reload();
    });
  return (
    <Panel title={t("admin.keys_of", { tenant })}>
      <form class="inline-form" onSubmit={issue} aria-label={t("admin.issue_to", { tenant })}>
        <Field label={t("admin.key_name")}>{(props) => <input {...props} maxLength={128} value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
        <Field label={t("admin.role")}>
          {(props) => (
            <select {...props} value={role} onChange={(e) => setRole(e.currentTarget.value)}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {roleName(r)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" disabled={busy}>
          {t("admin.issue_key")}
        </button>
      </form>
      <Async state={keys} emptyTitle={t("admin.no_keys")}>
        {(data) => (
          <div class="table-wrap">
            <table aria-label={t("admin.keys_of", { tenant })}>
              <thead>
                <tr>
                  <th scope="col">{t("admin.col_key")}</th>
                  <th scope="col">{t("admin.role")}</th>
                  <th scope="col">{t("admin.col_scopes")}</th>
                  <th scope="col">{t("admin.col_created")}</th>
                  <th scope="col">{t("admin.col_last_used")}</th>
                  <th scope="col">
                    <span class="sr-only">{t("admin.col_actions")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.map((k) => (
                  <tr key={k.id} class={k.revoked_at ? "row-muted" : quotaKey === k.id ? "row-selected" : ""}>
                    <td>
                      {k.name || <span class="muted">{t("admin.unnamed")}</span>}
                      <div class="muted small">{k.id}</div>
                    </td>
                    <td>
                      {roleName(k.role)} {k.read_only && <Badge>{t("admin.read_only")}</Badge>}
                    </td>
                    <td class="small clip">{k.scopes.join(", ")}</td>
                    <td>{when(k.created_at)}</td>
                    <td>{when(k.last_used_at)}</td>
                    <td class="row-actions">
                      {k.revoked_at ? (
                        <Badge>{t("admin.revoked_at", { when: when(k.revoked_at) })}</Badge>
                      ) : (
                        <>
                          <button type="button" class="small secondary" aria-pressed={quotaKey === k.id} onClick={() => setQuotaKey(quotaKey === k.id ? null : k.id)}>
                            {t("admin.quota")}
                          </button>
                          <button type="button" class="small secondary" disabled={busy} onClick={() => rotate(k)}>
                            {t("admin.rotate")}
                          </button>
                          <button type="button" class="small danger" disabled={busy} onClick={() => revoke(k)}>
                            {t("admin.revoke")}
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
    <Page title={t("admin.tenants")} subtitle={t("admin.tenants_subtitle")}>
      <NewKey issued={issued} onDone={() => setIssued(null)} />
      <Panel title={t("admin.tenants")}>
        <CreateTenant
          onCreated={(created) => {
            setIssued(created.key);
            choose(created.name);
            tenants.reload();
          }}
        />
        <Async state={tenants} emptyTitle={t("admin.no_tenants")}>
          {(data) => (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t("admin.tenant")}</th>
                    <th scope="col">{t("admin.col_id")}</th>
                    <th scope="col">{t("admin.col_created")}</th>
                    <th scope="col">
                      <span class="sr-only">{t("admin.col_actions")}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.map((tenant) => (
                    <tr key={tenant.id} class={selected === tenant.name ? "row-selected" : ""}>
                      <td>{tenant.name}</td>
                      <td class="muted small">{tenant.id}</td>
                      <td>{when(tenant.created_at)}</td>
                      <td class="row-actions">
                        <button type="button" class="small secondary" aria-pressed={selected === tenant.name} onClick={() => choose(tenant.name)}>
                          {t("admin.keys_and_quota")}
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
          <QuotaEditor key={`q-${selected}`} path={`/v1/admin/quotas/tenants/${encodeURIComponent(selected)}`} title={t("admin.quota_of", { name: selected })} />
          {quotaKey && <QuotaEditor key={`k-${quotaKey}`} path={`/v1/admin/quotas/keys/${encodeURIComponent(quotaKey)}`} title={t("admin.quota_of_key", { key: quotaKey })} />}
        </>
      )}
    </Page>
  );
}
