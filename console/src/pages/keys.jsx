// API keys of the tenant: create (role, scopes, models, read-only, expiry), rotate (with a
// grace period for the old key), revoke; both confirmed in the page's own dialog.
import { useRef, useState } from "preact/hooks";
import { useConfirm } from "../components/confirm.jsx";
import { GraceField } from "../components/grace-field.jsx";
import { NewKey } from "../components/newkey.jsx";
import { useToast } from "../components/toast.jsx";
import { Async, Badge, Field, Page, Panel } from "../components/ui.jsx";
import { del, get, keyStore, post } from "../lib/api.js";
import { when } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { listModels } from "../lib/models.js";
import { roleName, scopeName, useSession } from "../lib/session.js";

const DAY_S = 86400;
const EXPIRIES = [
  ["", () => t("keys.expiry_never")],
  ["1", () => t("keys.expiry_days", { count: 1, n: 1 })],
  ["7", () => t("keys.expiry_days", { count: 7, n: 7 })],
  ["30", () => t("keys.expiry_days", { count: 30, n: 30 })],
  ["90", () => t("keys.expiry_days", { count: 90, n: 90 })],
  ["365", () => t("keys.expiry_year")],
  ["date", () => t("keys.expiry_date")],
];

/** Every scope a key of `role` can hold but `admin`, which comes with the admin role alone. */
const roleScopes = (session, role) => (session.grantable[role] || []).filter((s) => s !== "admin");

/** The scopes a new key of `role` may be given by this session: the role's, and only ones it holds. */
export function grantableScopes(session, role) {
  return roleScopes(session, role).filter((s) => session.can(s));
}

const patterns = (text) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

function KeyForm({ models, onIssued }) {
  const session = useSession();
  const toast = useToast();
  const roles = Object.keys(session.grantable);
  const initial = (role) => ({ role, scopes: grantableScopes(session, role) });
  const [form, setForm] = useState({ name: "", ...initial(roles[0]), models: [], patterns: "", read_only: false, expiry: "30", date: "" });
  const [errors, setErrors] = useState({});
  const [busy, run] = useAction(toast.error);
  const set = (name, value) => setForm((f) => ({ ...f, [name]: value }));
  const offered = grantableScopes(session, form.role);
  const toggle = (list, item, on) => (on ? [...list, item] : list.filter((x) => x !== item));

  const submit = (event) => {
    event.preventDefault();
    const found = {};
    if (!form.scopes.length) found.scopes = t("keys.error_scopes");
    let expiresAt = null;
    if (form.expiry === "date") {
      expiresAt = Math.floor(Date.parse(`${form.date}T23:59:59Z`) / 1000);
      if (!form.date || !(expiresAt > Date.now() / 1000)) found.date = t("keys.error_date");
    }
    setErrors(found);
    if (Object.keys(found).length) return;
    const body = { name: form.name.trim(), role: form.role, read_only: form.read_only };
    // Every scope of the role ticked: leave `scopes` out, so the key follows its role.
    const all = roleScopes(session, form.role);
    if (!all.every((s) => form.scopes.includes(s))) body.scopes = all.filter((s) => form.scopes.includes(s));
    const allowed = [...form.models, ...patterns(form.patterns)];
    if (allowed.length) body.allowed_models = [...new Set(allowed)];
    if (expiresAt) body.expires_at = expiresAt;
    else if (form.expiry) body.expires_in_s = Number(form.expiry) * DAY_S;
    run(async () => {
      onIssued(await post("/v1/keys", body));
      setForm((f) => ({ ...f, name: "" }));
    });
  };

  if (!roles.length) return <p class="muted">{t("keys.cannot_create", { role: roleName(session.role) })}</p>;
  return (
    <form class="key-form" onSubmit={submit} noValidate aria-label={t("keys.create")}>
      <div class="form-grid">
        <Field label={t("keys.name")} hint={t("keys.name_hint")}>
          {(props) => <input {...props} maxLength={128} value={form.name} onInput={(e) => set("name", e.currentTarget.value)} />}
        </Field>
        <Field label={t("keys.role")}>
          {(props) => (
            <select {...props} value={form.role} onChange={(e) => setForm((f) => ({ ...f, ...initial(e.currentTarget.value) }))}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {roleName(r)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("keys.expires")}>
          {(props) => (
            <select {...props} value={form.expiry} onChange={(e) => set("expiry", e.currentTarget.value)}>
              {EXPIRIES.map(([value, text]) => (
                <option key={value} value={value}>
                  {text()}
                </option>
              ))}
            </select>
          )}
        </Field>
        {form.expiry === "date" && (
          <Field label={t("keys.expiry_date_label")} error={errors.date} hint={t("keys.expiry_date_hint")}>
            {(props) => <input {...props} type="date" value={form.date} onInput={(e) => set("date", e.currentTarget.value)} />}
          </Field>
        )}
      </div>
      <div class="choices">
        <fieldset class={errors.scopes ? "invalid" : ""}>
          <legend>{t("keys.scopes")}</legend>
          <ul class="checks scope-checks">
            {offered.map((scope) => (
              <li key={scope}>
                <label class="check">
                  <input type="checkbox" checked={form.scopes.includes(scope)} onChange={(e) => set("scopes", toggle(form.scopes, scope, e.currentTarget.checked))} />
                  {scopeName(scope)}
                </label>
              </li>
            ))}
          </ul>
          {errors.scopes ? <div class="field-error">{errors.scopes}</div> : <div class="hint">{t("keys.scopes_hint")}</div>}
        </fieldset>
        <fieldset>
          <legend>{t("keys.allowed_models")}</legend>
          <ul class="checks model-checks">
            {models.map((m) => (
              <li key={m.id}>
                <label class="check">
                  <input type="checkbox" checked={form.models.includes(m.id)} onChange={(e) => set("models", toggle(form.models, m.id, e.currentTarget.checked))} />
                  {m.id}
                </label>
              </li>
            ))}
          </ul>
          <Field label={t("keys.more_models")} hint={t("keys.more_models_hint")}>
            {(props) => <input {...props} value={form.patterns} onInput={(e) => set("patterns", e.currentTarget.value)} />}
          </Field>
        </fieldset>
        <fieldset>
          <legend>{t("keys.access")}</legend>
          <label class="check">
            <input type="checkbox" checked={form.read_only} onChange={(e) => set("read_only", e.currentTarget.checked)} /> {t("keys.read_only_label")}
          </label>
        </fieldset>
      </div>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {t("keys.create_button")}
        </button>
      </div>
    </form>
  );
}

function status(k) {
  if (k.revoked_at) return <Badge>{t("keys.revoked_at", { when: when(k.revoked_at) })}</Badge>;
  if (k.expires_at && k.expires_at * 1000 < Date.now()) return <Badge tone="warn">{t("keys.expired")}</Badge>;
  return <Badge tone="ok">{t("keys.active")}</Badge>;
}

function KeysTable({ keys, onChanged, onIssued, self }) {
  const toast = useToast();
  const confirm = useConfirm();
  const grace = useRef(0);
  const [busy, run] = useAction(toast.error);
  const label = (key) => key.name || key.id;
  const revoke = (key) =>
    run(async () => {
      const yes = await confirm({
        title: t("keys.revoke_title", { key: label(key) }),
        body: key.id === self ? t("keys.revoke_body_self") : t("keys.revoke_body"),
        confirm: t("keys.revoke_yes"),
        danger: true,
      });
      if (!yes) return;
      await del(`/v1/keys/${encodeURIComponent(key.id)}`);
      toast.ok(t("keys.revoked_toast", { key: label(key) }));
      onChanged();
    });
  const rotate = (key) =>
    run(async () => {
      grace.current = 0;
      const yes = await confirm({
        title: t("keys.rotate_title", { key: label(key) }),
        body: t("keys.rotate_body"),
        confirm: t("keys.rotate_yes"),
        children: <GraceField choice={grace} />,
      });
      if (!yes) return;
      const body = grace.current ? { grace_s: grace.current } : undefined;
      const issued = await post(`/v1/keys/${encodeURIComponent(key.id)}/rotate`, body);
      if (key.id === self) keyStore.set(issued.key); // the console's own key: carry on with the new one
      onIssued(issued);
      onChanged();
    });
  return (
    <div class="table-wrap">
      <table aria-label={t("keys.keys")} data-testid="keys-table">
        <thead>
          <tr>
            <th scope="col">{t("keys.col_key")}</th>
            <th scope="col">{t("keys.col_role")}</th>
            <th scope="col">{t("keys.col_scopes")}</th>
            <th scope="col">{t("keys.col_models")}</th>
            <th scope="col">{t("keys.col_status")}</th>
            <th scope="col">{t("keys.col_expires")}</th>
            <th scope="col">{t("keys.col_last_used")}</th>
            <th scope="col">
              <span class="sr-only">{t("keys.col_actions")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} class={k.revoked_at ? "row-muted" : ""} data-key-id={k.id}>
              <td>
                {k.name || <span class="muted">{t("keys.unnamed")}</span>} {k.id === self && <Badge tone="info">{t("keys.this_key")}</Badge>}
                <div class="muted small">
                  {k.id}
                  {k.rotated_from ? ` · ${t("keys.rotated_from", { id: k.rotated_from })}` : ""}
                </div>
              </td>
              <td>
                {roleName(k.role)} {k.read_only && <Badge>{t("keys.read_only")}</Badge>}
              </td>
              <td class="small clip">{k.scopes.length ? k.scopes.map(scopeName).join(", ") : t("keys.no_scopes")}</td>
              <td class="small clip">{k.allowed_models ? k.allowed_models.join(", ") : t("keys.all_models")}</td>
              <td>{status(k)}</td>
              <td>{k.expires_at ? when(k.expires_at) : t("keys.never")}</td>
              <td>{when(k.last_used_at)}</td>
              <td class="row-actions">
                {!k.revoked_at && (
                  <>
                    <button type="button" class="small secondary" disabled={busy} onClick={() => rotate(k)} aria-label={t("keys.rotate_label", { key: label(k) })}>
                      {t("keys.rotate")}
                    </button>
                    <button type="button" class="small danger" disabled={busy} onClick={() => revoke(k)} aria-label={t("keys.revoke_label", { key: label(k) })}>
                      {t("keys.revoke")}
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Keys() {
  const session = useSession();
  const keys = useAsync((signal) => get("/v1/keys", { signal }).then((p) => p.data), []);
  const models = useAsync((signal) => (session.can("models") ? listModels(signal) : Promise.resolve([])), []);
  const [issued, setIssued] = useState(null);
  const [showRevoked, setShowRevoked] = useState(false);
  const shown = (data) => (showRevoked ? data : data.filter((k) => !k.revoked_at));
  const issue = (k) => {
    setIssued(k);
    keys.reload();
    window.scrollTo(0, 0); // the key is shown at the top of the page
  };
  return (
    <Page title={t("keys.title")} subtitle={t("keys.subtitle", { tenant: session.tenant })}>
      <NewKey issued={issued} onDone={() => setIssued(null)} />
      {session.isAdmin && (
        <p class="muted">
          {t("keys.admin_note")} <a href="#/admin/tenants">{t("keys.admin_note_link")}</a>
        </p>
      )}
      <Panel
        title={t("keys.keys")}
        actions={
          <label class="check small">
            <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.currentTarget.checked)} /> {t("keys.show_revoked")}
          </label>
        }
      >
        <Async state={keys} emptyTitle={t("keys.no_keys")}>
          {(data) => <KeysTable keys={shown(data)} self={session.keyId} onChanged={keys.reload} onIssued={issue} />}
        </Async>
      </Panel>
      <Panel title={t("keys.create")}>
        {models.data ? <KeyForm models={models.data} onIssued={issue} /> : <p class="muted">{t("keys.loading")}</p>}
      </Panel>
    </Page>
  );
}
