// API keys of the tenant: create (role, scopes, models, read-only, expiry), rotate, revoke.
import { useState } from "preact/hooks";
import { NewKey } from "../components/newkey.jsx";
import { useToast } from "../components/toast.jsx";
import { Async, Badge, Field, Page, Panel } from "../components/ui.jsx";
import { del, get, keyStore, post } from "../lib/api.js";
import { when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { listModels } from "../lib/models.js";
import { useSession } from "../lib/session.js";

const DAY_S = 86400;
const EXPIRIES = [
  ["", "Never"],
  ["1", "In 1 day"],
  ["7", "In 7 days"],
  ["30", "In 30 days"],
  ["90", "In 90 days"],
  ["365", "In 1 year"],
  ["date", "On a date…"],
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
    if (!form.scopes.length) found.scopes = "Choose at least one scope";
    let expiresAt = null;
    if (form.expiry === "date") {
      expiresAt = Math.floor(Date.parse(`${form.date}T23:59:59Z`) / 1000);
      if (!form.date || !(expiresAt > Date.now() / 1000)) found.date = "A date in the future";
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

  if (!roles.length) return <p class="muted">A {session.role.replace("_", " ")} key cannot create keys.</p>;
  return (
    <form class="key-form" onSubmit={submit} noValidate aria-label="Create a key">
      <div class="form-grid">
        <Field label="Name" hint="what the key is for, e.g. ci or alice-laptop">
          {(props) => <input {...props} maxLength={128} value={form.name} onInput={(e) => set("name", e.currentTarget.value)} />}
        </Field>
        <Field label="Role">
          {(props) => (
            <select {...props} value={form.role} onChange={(e) => setForm((f) => ({ ...f, ...initial(e.currentTarget.value) }))}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {r.replace("_", " ")}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Expires">
          {(props) => (
            <select {...props} value={form.expiry} onChange={(e) => set("expiry", e.currentTarget.value)}>
              {EXPIRIES.map(([value, text]) => (
                <option key={value} value={value}>
                  {text}
                </option>
              ))}
            </select>
          )}
        </Field>
        {form.expiry === "date" && (
          <Field label="Expiry date" error={errors.date} hint="the end of that day, UTC">
            {(props) => <input {...props} type="date" value={form.date} onInput={(e) => set("date", e.currentTarget.value)} />}
          </Field>
        )}
      </div>
      <div class="choices">
        <fieldset class={errors.scopes ? "invalid" : ""}>
          <legend>Scopes</legend>
          <ul class="checks scope-checks">
            {offered.map((scope) => (
              <li key={scope}>
                <label class="check">
                  <input type="checkbox" checked={form.scopes.includes(scope)} onChange={(e) => set("scopes", toggle(form.scopes, scope, e.currentTarget.checked))} />
                  {scope}
                </label>
              </li>
            ))}
          </ul>
          {errors.scopes ? <div class="field-error">{errors.scopes}</div> : <div class="hint">all ticked: the key follows its role</div>}
        </fieldset>
        <fieldset>
          <legend>Allowed models</legend>
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
          <Field label="More models or wildcards" hint="none ticked and none typed: every model; e.g. ft:*">
            {(props) => <input {...props} value={form.patterns} onInput={(e) => set("patterns", e.currentTarget.value)} />}
          </Field>
        </fieldset>
        <fieldset>
          <legend>Access</legend>
          <label class="check">
            <input type="checkbox" checked={form.read_only} onChange={(e) => set("read_only", e.currentTarget.checked)} /> Read-only (GET requests only)
          </label>
        </fieldset>
      </div>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          Create key
        </button>
      </div>
    </form>
  );
}

function status(k) {
  if (k.revoked_at) return <Badge>revoked {when(k.revoked_at)}</Badge>;
  if (k.expires_at && k.expires_at * 1000 < Date.now()) return <Badge tone="warn">expired</Badge>;
  return <Badge tone="ok">active</Badge>;
}

function KeysTable({ keys, onChanged, onIssued, self }) {
  const toast = useToast();
  const [busy, run] = useAction(toast.error);
  const revoke = (key) =>
    confirm(`Revoke ${key.name || key.id}? Calls with it fail at once${key.id === self ? ", and this console signs out" : ""}.`) &&
    run(async () => {
      await del(`/v1/keys/${encodeURIComponent(key.id)}`);
      toast.ok(`Key ${key.name || key.id} revoked`);
      onChanged();
    });
  const rotate = (key) =>
    confirm(`Rotate ${key.name || key.id}? A new key with the same settings is issued and this one stops working at once.`) &&
    run(async () => {
      const issued = await post(`/v1/keys/${encodeURIComponent(key.id)}/rotate`);
      if (key.id === self) keyStore.set(issued.key); // the console's own key: carry on with the new one
      onIssued(issued);
      onChanged();
    });
  return (
    <div class="table-wrap">
      <table aria-label="Keys" data-testid="keys-table">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Role</th>
            <th scope="col">Scopes</th>
            <th scope="col">Models</th>
            <th scope="col">Status</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} class={k.revoked_at ? "row-muted" : ""} data-key-id={k.id}>
              <td>
                {k.name || <span class="muted">unnamed</span>} {k.id === self && <Badge tone="info">this key</Badge>}
                <div class="muted small">
                  {k.id}
                  {k.rotated_from ? ` · rotated from ${k.rotated_from}` : ""}
                </div>
              </td>
              <td>
                {k.role.replace("_", " ")} {k.read_only && <Badge>read-only</Badge>}
              </td>
              <td class="small clip">{k.scopes.length ? k.scopes.join(", ") : "none"}</td>
              <td class="small clip">{k.allowed_models ? k.allowed_models.join(", ") : "all models"}</td>
              <td>{status(k)}</td>
              <td>{k.expires_at ? when(k.expires_at) : "never"}</td>
              <td>{when(k.last_used_at)}</td>
              <td class="row-actions">
                {!k.revoked_at && (
                  <>
                    <button type="button" class="small secondary" disabled={busy} onClick={() => rotate(k)} aria-label={`Rotate ${k.name || k.id}`}>
                      Rotate
                    </button>
                    <button type="button" class="small danger" disabled={busy} onClick={() => revoke(k)} aria-label={`Revoke ${k.name || k.id}`}>
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
    <Page title="API keys" subtitle={`Keys of ${session.tenant}: what each may call, and until when.`}>
      <NewKey issued={issued} onDone={() => setIssued(null)} />
      {session.isAdmin && (
        <p class="muted">
          These are the keys of your own tenant. Other tenants' keys are on the <a href="#/admin/tenants">Tenants</a> page.
        </p>
      )}
      <Panel
        title="Keys"
        actions={
          <label class="check small">
            <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.currentTarget.checked)} /> Show revoked keys
          </label>
        }
      >
        <Async state={keys} emptyTitle="No keys">
          {(data) => <KeysTable keys={shown(data)} self={session.keyId} onChanged={keys.reload} onIssued={issue} />}
        </Async>
      </Panel>
      <Panel title="Create a key">
        {models.data ? <KeyForm models={models.data} onIssued={issue} /> : <p class="muted">Loading…</p>}
      </Panel>
    </Page>
  );
}
