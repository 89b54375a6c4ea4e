// Evaluations: the tenant's runs, and the form that starts one (dataset, models, metrics).
import { useState } from "preact/hooks";
import { useToast } from "../components/toast.jsx";
import { Async, Field, Page, Panel, Progress, StatusBadge } from "../components/ui.jsx";
import { get, post } from "../lib/api.js";
import { num, when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { chatModels, listModels } from "../lib/models.js";
import { t } from "../lib/i18n.js";
import { navigate } from "../lib/router.js";
import { listFiles } from "./datasets.jsx";

export function Evaluations() {
  const evals = useAsync((signal) => get("/v1/evaluations?limit=100", { signal }).then((p) => p.data), []);
  return (
    <Page
      title={t("evaluations.title")}
      subtitle={t("evaluations.subtitle")}
      actions={
        <a class="button primary" href="#/evaluations/new">
          {t("evaluations.new")}
        </a>
      }
    >
      <Panel>
        <Async state={evals} emptyTitle={t("evaluations.empty_title")} empty={<a href="#/evaluations/new">{t("evaluations.run_one")}</a>}>
          {(data) => (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t("evaluations.col_evaluation")}</th>
                    <th scope="col">{t("evaluations.col_models")}</th>
                    <th scope="col">{t("evaluations.col_status")}</th>
                    <th scope="col">{t("evaluations.col_progress")}</th>
                    <th scope="col">{t("evaluations.col_created")}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.map((e) => (
                    <tr key={e.id}>
                      <td>
                        <a href={`#/evaluations/${e.id}`}>{e.name || e.id}</a>
                        <div class="muted small">{e.id}</div>
                      </td>
                      <td class="clip">{e.models.join(", ")}</td>
                      <td>
                        <StatusBadge status={e.status} />
                      </td>
                      <td>
                        <Progress label={t("evaluations.progress_of", { id: e.id })} value={e.progress.done || 0} max={e.progress.total} />
                      </td>
                      <td>{when(e.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Async>
      </Panel>
    </Page>
  );
}

/** Text with ``code`` or `code` spans (as metric descriptions are written) as <code>, never raw markup. */
export function InlineCode({ text }) {
  const parts = String(text || "").split(/``(.+?)``|`([^`]+)`/);
  // split() with two groups yields [text, group1, group2, text, ...]
  const out = [];
  for (let i = 0; i < parts.length; i += 3) {
    if (parts[i]) out.push(parts[i]);
    const code = parts[i + 1] ?? parts[i + 2];
    if (code) out.push(<code key={i}>{code}</code>);
  }
  return <>{out}</>;
}

const PURPOSES = { "fine-tune": () => t("evaluations.purpose_fine_tune"), evals: () => t("evaluations.purpose_evals") };
const purposeName = (purpose) => (PURPOSES[purpose] ? PURPOSES[purpose]() : purpose);

// Metric descriptions in the reader's language, by metric name; a metric the console does not
// know yet shows the server's own (English) description.
const METRIC_TEXT = {
  bleu: () => t("evaluations.metric_bleu"),
  contains: () => t("evaluations.metric_contains"),
  embedding_similarity: () => t("evaluations.metric_embedding_similarity"),
  exact_match: () => t("evaluations.metric_exact_match"),
  json_match: () => t("evaluations.metric_json_match"),
  json_valid: () => t("evaluations.metric_json_valid"),
  judge: () => t("evaluations.metric_judge"),
  regex: () => t("evaluations.metric_regex"),
  rouge_l: () => t("evaluations.metric_rouge_l"),
  token_f1: () => t("evaluations.metric_token_f1"),
};

function MetricDescription({ metric }) {
  const known = METRIC_TEXT[metric.name];
  return (
    <span class="muted small" data-testid="metric-description" lang={known ? undefined : "en"}>
      <InlineCode text={known ? known() : metric.description} />
    </span>
  );
}

const requiredOptions = (metric) => (metric.options && metric.options.required) || [];

function MetricChoice({ metric, chosen, options, onToggle, onOption }) {
  return (
    <li class="metric-choice">
      <label class="check eval-check">
        <input type="checkbox" name="metric" value={metric.name} checked={chosen} onChange={onToggle} />
        <span>
          <strong>{metric.name}</strong>{" "}
          <MetricDescription metric={metric} />
        </span>
      </label>
      {chosen &&
        requiredOptions(metric).map((option) => (
          <Field key={option} label={t("evaluations.metric_option", { metric: metric.name, option })} class="nested">
            {(props) => <input {...props} value={options[option] || ""} onInput={(e) => onOption(option, e.currentTarget.value)} />}
          </Field>
        ))}
    </li>
  );
}

function EvalForm({ models, files, metrics, initial }) {
  const toast = useToast();
  const [form, setForm] = useState({
    name: "",
    file: initial.file || (files[0] && files[0].id) || "",
    models: initial.model ? [initial.model] : [],
    metrics: { exact_match: {} },
    temperature: 0,
    max_tokens: 64,
  });
  // Checked on submit, then again as the form changes: a fixed field loses its message.
  const [tried, setTried] = useState(false);
  const [busy, run] = useAction(toast.error);
  const set = (name, value) => setForm((f) => ({ ...f, [name]: value }));
  const toggleModel = (id) => set("models", form.models.includes(id) ? form.models.filter((m) => m !== id) : [...form.models, id]);
  const toggleMetric = (name) => {
    const next = { ...form.metrics };
    if (next[name]) delete next[name];
    else next[name] = {};
    set("metrics", next);
  };
  const check = () => {
    const found = {};
    if (!form.file) found.file = t("evaluations.error_dataset");
    if (!form.models.length) found.models = t("evaluations.error_models");
    if (form.models.length > 8) found.models = t("evaluations.error_too_many_models", { max: 8 });
    if (!Object.keys(form.metrics).length) found.metrics = t("evaluations.error_metrics");
    return found;
  };
  const errors = tried ? check() : {};
  const submit = (event) => {
    event.preventDefault();
    setTried(true);
    if (Object.keys(check()).length) return;
    const body = {
      name: form.name,
      file: form.file,
      models: form.models,
      metrics: Object.entries(form.metrics).map(([name, options]) => ({ name, ...options })),
      generation: { temperature: Number(form.temperature), max_tokens: Number(form.max_tokens) },
    };
    run(async () => {
      const created = await post("/v1/evaluations", body);
      toast.ok(t("evaluations.started", { id: created.id }));
      navigate(`/evaluations/${created.id}`);
    });
  };
  return (
    <form class="panel form" onSubmit={submit} noValidate>
      <Field label={t("evaluations.name_optional")}>
        {(props) => <input {...props} name="name" value={form.name} onInput={(e) => set("name", e.currentTarget.value)} />}
      </Field>
      <Field label={t("evaluations.dataset")} error={errors.file} hint={t("evaluations.dataset_hint")}>
        {(props) => (
          <select {...props} name="file" value={form.file} onChange={(e) => set("file", e.currentTarget.value)}>
            <option value="">{t("evaluations.choose_dataset")}</option>
            {files.map((f) => (
              <option key={f.id} value={f.id}>
                {t("evaluations.dataset_option", { name: f.filename, count: num(f.examples), purpose: purposeName(f.purpose) })}
              </option>
            ))}
          </select>
        )}
      </Field>
      <fieldset class={errors.models ? "invalid" : ""}>
        <legend>{t("evaluations.models")}</legend>
        <ul class="checks">
          {models.map((m) => (
            <li key={m.id}>
              <label class="check eval-check">
                <input type="checkbox" name="model" value={m.id} checked={form.models.includes(m.id)} onChange={() => toggleModel(m.id)} />
                <span>{m.id}</span>
              </label>
            </li>
          ))}
        </ul>
        {errors.models && <div class="field-error" role="alert">{errors.models}</div>}
      </fieldset>
      <fieldset class={errors.metrics ? "invalid" : ""}>
        <legend>{t("evaluations.metrics")}</legend>
        <ul class="checks">
          {metrics.map((m) => (
            <MetricChoice
              key={m.name}
              metric={m}
              chosen={!!form.metrics[m.name]}
              options={form.metrics[m.name] || {}}
              onToggle={() => toggleMetric(m.name)}
              onOption={(option, value) => set("metrics", { ...form.metrics, [m.name]: { ...form.metrics[m.name], [option]: value } })}
            />
          ))}
        </ul>
        {errors.metrics && <div class="field-error" role="alert">{errors.metrics}</div>}
      </fieldset>
      <div class="form-grid">
        <Field label={t("evaluations.temperature")} hint={t("evaluations.temperature_hint")}>
          {(props) => <input {...props} type="number" min={0} max={2} step={0.1} value={form.temperature} onInput={(e) => set("temperature", e.currentTarget.value)} />}
        </Field>
        <Field label={t("evaluations.max_tokens")}>
          {(props) => <input {...props} type="number" min={1} max={4096} value={form.max_tokens} onInput={(e) => set("max_tokens", e.currentTarget.value)} />}
        </Field>
      </div>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t("evaluations.starting") : t("evaluations.run")}
        </button>
      </div>
    </form>
  );
}

export function NewEvaluation({ query }) {
  const data = useAsync(async (signal) => {
    const [models, files, metrics] = await Promise.all([listModels(signal), listFiles(signal), get("/v1/evaluations/metrics", { signal })]);
    return { models: chatModels(models), files, metrics: metrics.data };
  }, []);
  return (
    <Page title={t("evaluations.new")} subtitle={t("evaluations.new_subtitle")}>
      <Async state={data}>
        {({ models, files, metrics }) =>
          files.length ? (
            <EvalForm models={models} files={files} metrics={metrics} initial={{ file: query.get("file"), model: query.get("model") }} />
          ) : (
            <Panel>
              <p>
                {t("evaluations.no_datasets_before")}
                <a href="#/datasets">{t("evaluations.no_datasets_link")}</a>
                {t("evaluations.no_datasets_after")}
              </p>
            </Panel>
          )
        }
      </Async>
    </Page>
  );
}
