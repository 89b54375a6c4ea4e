// Platform admin: remote providers (OpenAI-compatible endpoints) and the outbound allow-list.
import { useState } from "preact/hooks";
import { useConfirm } from "../components/confirm.jsx";
import { useToast } from "../components/toast.jsx";
import { Async, Field, Page, Panel } from "../components/ui.jsx";
import { del, get, post } from "../lib/api.js";
import { price, when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";
import { kindOf, listModels, readinessText } from "../lib/models.js";

const EMPTY = { id: "", provider: "", base_url: "", upstream_model: "", api_key: "", price_input_per_1k: "0", price_output_per_1k: "0", context_length: "" };

function check(form) {
  const errors = {};
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/.test(form.id)) errors.id = t("admin.err_model_id");
  if (!/^https?:\/\/\S+$/.test(form.base_url)) errors.base_url = t("admin.err_base_url");
  if (!form.upstream_model) errors.upstream_model = t("admin.err_upstream");
  for (const name of ["price_input_per_1k", "price_output_per_1k"]) if (!(Number(form[name]) >= 0)) errors[name] = t("admin.err_price");
  if (form.context_length && !(Number(form.context_length) >= 1)) errors.context_length = t("admin.err_context");
  return errors;
}

function RegisterRemote({ onAdded }) {
  const toast = useToast();
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState({});
  const [busy, run] = useAction(toast.error);
  const input = (name, label, props = {}) => (
    <Field label={label} error={errors[name]}>
      {(a11y) => <input {...a11y} {...props} value={form[name]} onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value })} />}
    </Field>
  );
  const submit = (event) => {
    event.preventDefault();
    const found = check(form);
    setErrors(found);
    if (Object.keys(found).length) return;
    const body = { kind: "remote", id: form.id, base_url: form.base_url, upstream_model: form.upstream_model, price_input_per_1k: Number(form.price_input_per_1k), price_output_per_1k: Number(form.price_output_per_1k) };
    if (form.provider) body.provider = form.provider;
    if (form.api_key) body.api_key = form.api_key;
    if (form.context_length) body.context_length = Number(form.context_length);
    run(async () => {
      await post("/v1/models", body);
      toast.ok(t("admin.registered", { id: form.id }));
      setForm(EMPTY);
      onAdded();
    });
  };
  return (
    <form class="form-grid" onSubmit={submit} noValidate>
      {input("id", t("admin.f_model_id"))}
      {input("provider", t("admin.f_provider"))}
      {input("base_url", t("admin.f_base_url"), { type: "url", placeholder: t("admin.f_base_url_placeholder") })}
      {input("upstream_model", t("admin.f_upstream"))}
      {input("api_key", t("admin.f_api_key"), { type: "password", autocomplete: "off" })}
      {input("context_length", t("admin.f_context"), { type: "number", min: 1 })}
      {input("price_input_per_1k", t("admin.f_price_in"), { type: "number", min: 0, step: "any" })}
      {input("price_output_per_1k", t("admin.f_price_out"), { type: "number", min: 0, step: "any" })}
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {t("admin.register_remote")}
        </button>
      </div>
    </form>
  );
}

function Remotes() {
  const toast = useToast();
  const models = useAsync((signal) => listModels(signal).then((all) => all.filter((m) => kindOf(m) === "remote")), []);
  const [busy, run] = useAction(toast.error);
  const confirm = useConfirm();
  const remove = (id) =>
    run(async () => {
      const yes = await confirm({ title: t("admin.remove_model_title", { id }), body: t("admin.remove_model_body"), confirm: t("admin.remove"), danger: true });
      if (!yes) return;
      await del(`/v1/models/${id}`);
      models.reload();
    });
  return (
    <>
      <Panel title={t("admin.remote_models")}>
        <Async state={models} emptyTitle={t("admin.no_remotes")} empty={t("admin.no_remotes_body")}>
          {(data) => (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t("admin.col_model")}</th>
                    <th scope="col">{t("admin.col_provider")}</th>
                    <th scope="col">{t("admin.col_price")}</th>
                    <th scope="col">{t("admin.col_status")}</th>
                    <th scope="col">
                      <span class="sr-only">{t("admin.col_actions")}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.map((m) => (
                    <tr key={m.id}>
                      <td>{m.id}</td>
                      <td>{m.card.provider}</td>
                      <td class="small">{price(m.card)}</td>
                      <td>{readinessText(m.card)}</td>
                      <td class="row-actions">
                        <button type="button" class="small danger" disabled={busy} onClick={() => remove(m.id)}>
                          {t("admin.remove")}
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
      <Panel title={t("admin.register_title")}>
        <RegisterRemote onAdded={models.reload} />
      </Panel>
    </>
  );
}

function Allowlist() {
  const toast = useToast();
  const hosts = useAsync((signal) => get("/v1/admin/outbound-allowlist", { signal }).then((p) => p.data || []), []);
  const [host, setHost] = useState("");
  const [busy, run] = useAction(toast.error);
  const confirm = useConfirm();
  const add = (event) => {
    event.preventDefault();
    if (host.trim()) run(async () => (await post("/v1/admin/outbound-allowlist", { host: host.trim() }), setHost(""), hosts.reload()));
  };
  const remove = (name) =>
    run(async () => {
      const yes = await confirm({ title: t("admin.remove_host_title", { host: name }), body: t("admin.remove_host_body"), confirm: t("admin.remove"), danger: true });
      if (!yes) return;
      await del(`/v1/admin/outbound-allowlist/${encodeURIComponent(name)}`);
      hosts.reload();
    });
  return (
    <Panel title={t("admin.allowlist")}>
      <p class="muted">{t("admin.allowlist_intro")}</p>
      <Async state={hosts} emptyTitle={t("admin.no_hosts")}>
        {(data) => (
          <div class="table-wrap">
            <table aria-label={t("admin.allowed_hosts")}>
              <thead>
                <tr>
                  <th scope="col">{t("admin.host")}</th>
                  <th scope="col">{t("admin.allowed_by")}</th>
                  <th scope="col">{t("admin.since")}</th>
                  <th scope="col">
                    <span class="sr-only">{t("admin.col_actions")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.map((h) => (
                  <tr key={h.host}>
                    <td>
                      <code>{h.host}</code>
                    </td>
                    <td class="muted small">{h.created_by || "—"}</td>
                    <td>{when(h.created_at)}</td>
                    <td class="row-actions">
                      <button type="button" class="small danger" disabled={busy} onClick={() => remove(h.host)} aria-label={t("admin.remove_host", { host: h.host })}>
                        {t("admin.remove")}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
      {!hosts.error && (
        <form class="inline-form" onSubmit={add}>
          <Field label={t("admin.host")}>{(props) => <input {...props} placeholder="api.example.com" value={host} onInput={(e) => setHost(e.currentTarget.value)} />}</Field>
          <button type="submit" disabled={busy}>
            {t("admin.allow")}
          </button>
        </form>
      )}
    </Panel>
  );
}

export function Providers() {
  return (
    <Page title={t("admin.providers")} subtitle={t("admin.providers_subtitle")}>
      <Remotes />
      <Allowlist />
    </Page>
  );
}
