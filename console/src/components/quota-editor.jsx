// A platform admin's editor of one quota (a tenant's or a key's): blank is no limit; saved whole (PUT).
import { useEffect, useState } from "preact/hooks";
import { useToast } from "./toast.jsx";
import { Async, Field, Panel } from "./ui.jsx";
import { get, put } from "../lib/api.js";
import { when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";

// field -> [label, hint, integer?] (label and hint: functions, so they follow the language)
export const QUOTA_FIELDS = [
  ["requests_per_minute", () => t("admin.quota_rpm"), () => t("admin.quota_rpm_hint"), true],
  ["tokens_per_minute", () => t("admin.quota_tpm"), () => t("admin.quota_tpm_hint"), true],
  ["spend_budget", () => t("admin.quota_budget"), () => t("admin.quota_budget_hint"), false],
  ["max_tokens", () => t("admin.quota_max_tokens"), () => t("admin.quota_max_tokens_hint"), true],
  ["max_upload_bytes", () => t("admin.quota_max_upload"), () => t("admin.quota_max_upload_hint"), true],
  ["max_concurrent_jobs", () => t("admin.quota_max_jobs"), () => t("admin.quota_max_jobs_hint"), true],
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
      errors[name] = integer ? t("admin.quota_whole_number", { least }) : t("admin.quota_number", { least });
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
      toast.ok(t("admin.quota_saved", { name: quota.data.name }));
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
                  <Field key={name} label={label()} hint={t("admin.quota_hint", { hint: hint() })} error={errors[name]}>
                    {(props) => (
                      <input {...props} inputMode="decimal" placeholder={t("admin.quota_no_limit")} value={form[name]} onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value })} />
                    )}
                  </Field>
                ))}
                <Field label={t("admin.quota_period")}>
                  {(props) => (
                    <select {...props} value={form.budget_period} onChange={(e) => setForm({ ...form, budget_period: e.currentTarget.value })}>
                      <option value="month">{t("admin.quota_period_month")}</option>
                      <option value="day">{t("admin.quota_period_day")}</option>
                    </select>
                  )}
                </Field>
              </div>
              <div class="form-actions">
                <button type="submit" class="primary" disabled={busy}>
                  {t("admin.quota_save")}
                </button>
                <span class="muted small">{data.updated_at ? t("admin.quota_last_saved", { when: when(data.updated_at) }) : t("admin.quota_none")}</span>
              </div>
            </form>
          )
        }
      </Async>
    </Panel>
  );
}
