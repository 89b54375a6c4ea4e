// Platform admin: remote providers (OpenAI-compatible endpoints) and the outbound allow-list.
import { useState } from "preact/hooks";
import { useToast } from "../components/toast.jsx";
import { Async, Field, Page, Panel } from "../components/ui.jsx";
import { del, get, post } from "../lib/api.js";
import { price, when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { kindOf, listModels } from "../lib/models.js";

const EMPTY = { id: "", provider: "", base_url: "", upstream_model: "", api_key: "", price_input_per_1k: "0", price_output_per_1k: "0", context_length: "" };

function check(form) {
  const errors = {};
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/.test(form.id)) errors.id = "Letters, digits and . _ : / - (no spaces)";
  if (!/^https?:\/\/\S+$/.test(form.base_url)) errors.base_url = "A URL that starts with http:// or https://";
  if (!form.upstream_model) errors.upstream_model = "The model's name at the provider";
  for (const name of ["price_input_per_1k", "price_output_per_1k"]) if (!(Number(form[name]) >= 0)) errors[name] = "A price of 0 or more";
  if (form.context_length && !(Number(form.context_length) >= 1)) errors.context_length = "A positive number of tokens";
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
      toast.ok(`Registered ${form.id}`);
      setForm(EMPTY);
      onAdded();
    });
  };
  return (
    <form class="form-grid" onSubmit={submit} noValidate>
      {input("id", "Model id in the plaza")}
      {input("provider", "Provider name")}
      {input("base_url", "Base URL", { type: "url", placeholder: "https://<provider host>/v1" })}
      {input("upstream_model", "Upstream model")}
      {input("api_key", "Provider API key", { type: "password", autocomplete: "off" })}
      {input("context_length", "Context length", { type: "number", min: 1 })}
      {input("price_input_per_1k", "Price in / 1K tokens", { type: "number", min: 0, step: "any" })}
      {input("price_output_per_1k", "Price out / 1K tokens", { type: "number", min: 0, step: "any" })}
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          Register remote model
        </button>
      </div>
    </form>
  );
}

function Remotes() {
  const toast = useToast();
  const models = useAsync((signal) => listModels(signal).then((all) => all.filter((m) => kindOf(m) === "remote")), []);
  const [busy, run] = useAction(toast.error);
  const remove = (id) =>
    confirm(`Remove ${id} from the plaza?`) &&
    run(async () => {
      await del(`/v1/models/${id}`);
      models.reload();
    });
  return (
    <>
      <Panel title="Remote models">
        <Async state={models} emptyTitle="No remote providers yet" empty="Register an OpenAI-compatible endpoint below.">
          {(data) => (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Provider</th>
                    <th scope="col">Price</th>
                    <th scope="col">Status</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.map((m) => (
                    <tr key={m.id}>
                      <td>{m.id}</td>
                      <td>{m.card.provider}</td>
                      <td class="small">{price(m.card)}</td>
                      <td>{m.card.status}</td>
                      <td class="row-actions">
                        <button type="button" class="small danger" disabled={busy} onClick={() => remove(m.id)}>
                          Remove
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
      <Panel title="Register a remote model">
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
  const add = (event) => {
    event.preventDefault();
    if (host.trim()) run(async () => (await post("/v1/admin/outbound-allowlist", { host: host.trim() }), setHost(""), hosts.reload()));
  };
  const remove = (name) =>
    confirm(`Remove ${name} from the allow-list? Remote models on it can no longer be called.`) &&
    run(async () => (await del(`/v1/admin/outbound-allowlist/${encodeURIComponent(name)}`), hosts.reload()));
  return (
    <Panel title="Outbound allow-list">
      <p class="muted">Remote providers on a private or loopback address may only be called on these hosts; public hosts need no entry.</p>
      <Async state={hosts} emptyTitle="No hosts allowed yet">
        {(data) => (
          <div class="table-wrap">
            <table aria-label="Allowed hosts">
              <thead>
                <tr>
                  <th scope="col">Host</th>
                  <th scope="col">Allowed by key</th>
                  <th scope="col">Since</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
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
                      <button type="button" class="small danger" disabled={busy} onClick={() => remove(h.host)} aria-label={`Remove ${h.host}`}>
                        Remove
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
          <Field label="Host">{(props) => <input {...props} placeholder="api.example.com" value={host} onInput={(e) => setHost(e.currentTarget.value)} />}</Field>
          <button type="submit" disabled={busy}>
            Allow
          </button>
        </form>
      )}
    </Panel>
  );
}

export function Providers() {
  return (
    <Page title="Providers" subtitle="Remote OpenAI-compatible models in the plaza; their keys are encrypted at rest.">
      <Remotes />
      <Allowlist />
    </Page>
  );
}
