// A platform admin's editor of one quota (a tenant's or a key's): blank is no limit; saved whole (PUT).
import { useEffect, useState } from "preact/hooks";
import { useToast } from "./toast.jsx";
import { Async, Field, Panel } from "./ui.jsx";
import { get, put } from "../lib/api.js";
import { when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";

// field -> [label, hint, integer?]
export const QUOTA_FIELDS = [
  ["requests_per_minute", "Requests per minute", "sliding 60 s", true],
  ["tokens_per_minute", "Tokens per minute", "prompt + completion", true],
  ["spend_budget", "Spend budget ($)", "per budget period", false],
  ["max_tokens", "Max tokens per request", "caps max_tokens", true],
  ["max_upload_bytes", "Max upload (bytes)", "one file", true],
  ["max_concurrent_jobs", "Max concurrent jobs", "fine-tunes and evaluations", true],
];

const toForm = (quota) => ({
  ...Object.fromEntries(QUOTA_FIELDS.map(([name]) => [name, quota[name] === null ? "" : String(quota[name])])),
  budget_period: quota.budget_period,
});

function check(form) {
  const errors = {};
  for (const [name, , , integer] of QUOTA_FIELDS) {
    const text = form[name].trim();
    if (text === "") continue;
    const value = Number(text);
    const least = name === "max_tokens" ? 1 : 0;
    if (!Number.isFinite(value) || value < least || (integer && !Number.isInteger(value))) {
      errors[name] = `${integer ? "A whole number" : "A number"} of ${least} or more, or blank for no limit`;
    }
  }
  return errors;
}

/** `path`: `/v1/admin/quotas/tenants/{name}` or `/v1/admin/quotas/keys/{id}`. */
export function QuotaEditor({ path, title }) {
  const toast = useToast();
  const quota = useAsync((signal) => get(path, { signal }), [path]);
  const [form, setForm] = useState(null);
  const [errors, setErrors] = useState({});
  const [busy, run] = useAction(toast.error);
  useEffect(() => {
    if (quota.data) setForm(toForm(quota.data));
  }, [quota.data]);
  const submit = (event) => {
    event.preventDefault();
    const found = check(form);
    setErrors(found);
    if (Object.keys(found).length) return;
    const body = { budget_period: form.budget_period };
    for (const [name] of QUOTA_FIELDS) body[name] = form[name].trim() === "" ? null : Number(form[name]);
    run(async () => {
      quota.setData(await put(path, body));
      toast.ok(`Quota of ${quota.data.name} saved`);
    });
  };
  return (
    <Panel title={title}>
      <Async state={quota}>
        {(data) =>
          form && (
            <form onSubmit={submit} noValidate aria-label={title} data-testid="quota-editor">
              <div class="form-grid">
                {QUOTA_FIELDS.map(([name, label, hint]) => (
                  <Field key={name} label={label} hint={`${hint}; blank = no limit`} error={errors[name]}>
                    {(props) => (
                      <input {...props} inputMode="decimal" placeholder="no limit" value={form[name]} onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value })} />
                    )}
                  </Field>
                ))}
                <Field label="Budget period">
                  {(props) => (
                    <select {...props} value={form.budget_period} onChange={(e) => setForm({ ...form, budget_period: e.currentTarget.value })}>
                      <option value="month">month (calendar, UTC)</option>
                      <option value="day">day (UTC)</option>
                    </select>
                  )}
                </Field>
              </div>
              <div class="form-actions">
                <button type="submit" class="primary" disabled={busy}>
                  Save quota
                </button>
                <span class="muted small">{data.updated_at ? `Last saved ${when(data.updated_at)}` : "No quota set yet: no limits."}</span>
              </div>
            </form>
          )
        }
      </Async>
    </Panel>
  );
}
