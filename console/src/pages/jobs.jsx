// Fine-tuning: the tenant's jobs, and the form that starts one (simple, with an advanced
// section) with an estimate of tokens, time on this machine and cost before it starts.
import { useEffect, useState } from "preact/hooks";
import { useToast } from "../components/toast.jsx";
import { Async, Field, Page, Panel, StatusBadge } from "../components/ui.jsx";
import { get, post } from "../lib/api.js";
import { duration, money, num, when } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { listModels, tunable } from "../lib/models.js";
import { navigate } from "../lib/router.js";
import { listFiles } from "./datasets.jsx";

export function Jobs() {
  const jobs = useAsync((signal) => get("/v1/fine_tuning/jobs?limit=100", { signal }).then((p) => p.data), []);
  return (
    <Page
      title={t("jobs.title")}
      subtitle={t("jobs.subtitle")}
      actions={
        <a class="button primary" href="#/fine-tuning/new">
          {t("jobs.new")}
        </a>
      }
    >
      <Panel>
        <Async state={jobs} emptyTitle={t("jobs.empty")} empty={<a href="#/fine-tuning/new">{t("jobs.start_one")}</a>}>
          {(data) => (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t("jobs.col_job")}</th>
                    <th scope="col">{t("jobs.col_base")}</th>
                    <th scope="col">{t("jobs.col_status")}</th>
                    <th scope="col">{t("jobs.col_model")}</th>
                    <th scope="col" class="num">{t("jobs.col_tokens")}</th>
                    <th scope="col">{t("jobs.col_created")}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.map((j) => (
                    <tr key={j.id}>
                      <td>
                        <a href={`#/fine-tuning/${j.id}`}>{j.id}</a>
                      </td>
                      <td>{j.model}</td>
                      <td>
                        <StatusBadge status={j.status} />
                      </td>
                      <td class="clip">{j.fine_tuned_model || "—"}</td>
                      <td class="num">{num(j.trained_tokens)}</td>
                      <td>{when(j.created_at)}</td>
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

// [name, label, min, max, step, integer?]; labels are functions: read in the current language.
const HYPER = [
  ["n_epochs", () => t("jobs.epochs"), 1, 50, 1, true],
  ["batch_size", () => t("jobs.batch_size"), 1, 256, 1, true],
  ["learning_rate_multiplier", () => t("jobs.lr_multiplier"), 0.0001, 100, "any", false],
];
const LORA = [
  ["r", () => t("jobs.lora_r"), 1, 256, 1, true],
  ["alpha", () => t("jobs.lora_alpha"), 0.0001, 10000, "any", false],
  ["dropout", () => t("jobs.lora_dropout"), 0, 0.99, 0.01, false],
  ["max_seq_length", () => t("jobs.max_seq_length"), 16, 32768, 1, true],
];

function checkNumber(raw, [, label, min, max, , integer]) {
  if (raw === "" || raw === undefined) return [undefined, null];
  const value = Number(raw);
  if (!Number.isFinite(value)) return [undefined, t("jobs.error_number", { field: label() })];
  if (integer && !Number.isInteger(value)) return [undefined, t("jobs.error_whole", { field: label() })];
  if (value < min || value > max) return [undefined, t("jobs.error_range", { field: label(), min, max })];
  return [value, null];
}

/** The request body and the per-field errors, from the form's raw strings. */
export function buildJob(form) {
  const errors = {};
  const take = (specs) => {
    const out = {};
    for (const spec of specs) {
      const [value, error] = checkNumber(form[spec[0]], spec);
      if (error) errors[spec[0]] = error;
      else if (value !== undefined) out[spec[0]] = value;
    }
    return out;
  };
  if (!form.model) errors.model = t("jobs.error_model");
  if (!form.training_file) errors.training_file = t("jobs.error_file");
  if (form.suffix && !/^[A-Za-z0-9_-]{1,40}$/.test(form.suffix)) errors.suffix = t("jobs.error_suffix");
  if (form.validation_file && form.validation_file === form.training_file) errors.validation_file = t("jobs.error_same_file");
  const hyperparameters = take(HYPER);
  const lora = take(LORA);
  const targets = (form.target_modules || "").split(",").map((s) => s.trim()).filter(Boolean);
  if (targets.length) lora.target_modules = targets;
  const body = { model: form.model, training_file: form.training_file };
  if (form.suffix) body.suffix = form.suffix;
  if (form.validation_file) body.validation_file = form.validation_file;
  if (form.seed !== undefined && form.seed !== "") body.seed = Number(form.seed);
  body.method = { type: "supervised", supervised: { hyperparameters }, lora };
  return { body, errors };
}

function NumberInput({ spec, form, set, errors }) {
  const [name, label, min, max, step] = spec;
  return (
    <Field label={label()} error={errors[name]} hint={t("jobs.blank_auto")}>
      {(props) => (
        <input {...props} name={name} type="number" min={min} max={max} step={step} placeholder={t("jobs.auto")} value={form[name] ?? ""} onInput={(e) => set(name, e.currentTarget.value)} />
      )}
    </Field>
  );
}

function FileSelect({ label, name, files, form, set, errors, optional }) {
  return (
    <Field label={label} error={errors[name]}>
      {(props) => (
        <select {...props} name={name} value={form[name] || ""} onChange={(e) => set(name, e.currentTarget.value)}>
          <option value="">{optional ? t("jobs.none") : t("jobs.choose_file")}</option>
          {files.map((f) => (
            <option key={f.id} value={f.id}>
              {t("jobs.file_option", { name: f.filename, count: f.examples, n: num(f.examples), id: f.id })}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

// How the estimate's time was found, one literal key each.
const BASIS = {
  measured: () => t("jobs.basis_measured"),
  hardware_probe: () => t("jobs.basis_probe"),
  unknown: () => t("jobs.basis_unknown"),
};
const ESTIMATE_DELAY_MS = 400;

/** Asks the server what the job in `form` would take, each time the form settles. */
function useEstimate(form) {
  const [state, setState] = useState({ data: null, error: null, loading: false });
  const { body, errors } = buildJob(form);
  const ready = !Object.keys(errors).length;
  const key = ready ? JSON.stringify(body) : "";
  useEffect(() => {
    if (!key) {
      setState({ data: null, error: null, loading: false });
      return undefined;
    }
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    const timer = setTimeout(() => {
      post("/v1/fine_tuning/estimates", JSON.parse(key), { signal: controller.signal }).then(
        (data) => controller.signal.aborted || setState({ data, error: null, loading: false }),
        (error) => controller.signal.aborted || setState({ data: null, error, loading: false }),
      );
    }, ESTIMATE_DELAY_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [key]);
  return state;
}

function EstimatePanel({ form }) {
  const { data, error, loading } = useEstimate(form);
  return (
    <section class="estimate" aria-live="polite" aria-busy={loading ? "true" : "false"} data-testid="job-estimate">
      <h3>{t("jobs.estimate_title")}</h3>
      {error ? (
        <div class="state error" role="alert">
          {error.message}
        </div>
      ) : !data ? (
        <p class="muted">{loading ? t("jobs.estimating") : t("jobs.estimate_needs")}</p>
      ) : (
        <>
          <dl class="estimate-figures">
            <div>
              <dt>{t("jobs.estimate_tokens")}</dt>
              <dd data-testid="estimate-tokens">{num(data.trained_tokens)}</dd>
            </div>
            <div>
              <dt>{t("jobs.estimate_time")}</dt>
              <dd data-testid="estimate-time">{data.seconds === null ? t("jobs.estimate_time_unknown") : duration(data.seconds)}</dd>
            </div>
            <div>
              <dt>{t("jobs.estimate_cost")}</dt>
              <dd data-testid="estimate-cost">{money(data.cost)}</dd>
            </div>
          </dl>
          <p class="hint" data-testid="estimate-basis">
            {data.token_counter === "tokenizer"
              ? t("jobs.tokens_counted", { examples: num(data.examples), count: data.epochs, epochs: num(data.epochs), model: data.model })
              : t("jobs.tokens_estimated", { examples: num(data.examples), count: data.epochs, epochs: num(data.epochs) })}{" "}
            {BASIS[data.basis] ? BASIS[data.basis]() : ""}
            {data.tokens_per_s ? ` ${t("jobs.speed_used", { n: num(Math.round(data.tokens_per_s)) })}` : ""}{" "}
            {data.price_training_per_1k ? t("jobs.price_used", { price: money(data.price_training_per_1k) }) : t("jobs.price_free")}
          </p>
        </>
      )}
    </section>
  );
}

function JobForm({ models, files, initial }) {
  const toast = useToast();
  const [form, setForm] = useState(initial);
  const [errors, setErrors] = useState({});
  const [busy, run] = useAction(toast.error);
  const set = (name, value) => setForm((f) => ({ ...f, [name]: value }));
  const submit = (event) => {
    event.preventDefault();
    const built = buildJob(form);
    setErrors(built.errors);
    if (Object.keys(built.errors).length) return;
    run(async () => {
      const job = await post("/v1/fine_tuning/jobs", built.body);
      toast.ok(t("jobs.started", { id: job.id }));
      navigate(`/fine-tuning/${job.id}`);
    });
  };
  const shared = { form, set, errors };
  return (
    <form class="panel form" onSubmit={submit} noValidate>
      <Field label={t("jobs.base_model")} error={errors.model}>
        {(props) => (
          <select {...props} name="model" value={form.model} onChange={(e) => set("model", e.currentTarget.value)}>
            <option value="">{t("jobs.choose_model")}</option>
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
              </option>
            ))}
          </select>
        )}
      </Field>
      <FileSelect label={t("jobs.training_data")} name="training_file" files={files} {...shared} />
      <Field label={t("jobs.suffix")} error={errors.suffix} hint={t("jobs.suffix_hint")}>
        {(props) => <input {...props} name="suffix" value={form.suffix || ""} onInput={(e) => set("suffix", e.currentTarget.value)} />}
      </Field>
      <details>
        <summary>{t("jobs.advanced")}</summary>
        <div class="form-grid">
          {HYPER.map((spec) => (
            <NumberInput key={spec[0]} spec={spec} {...shared} />
          ))}
          {LORA.map((spec) => (
            <NumberInput key={spec[0]} spec={spec} {...shared} />
          ))}
          <Field label={t("jobs.target_modules")} hint={t("jobs.target_modules_hint")}>
            {(props) => <input {...props} name="target_modules" value={form.target_modules || ""} onInput={(e) => set("target_modules", e.currentTarget.value)} />}
          </Field>
          <Field label={t("jobs.seed")} hint={t("jobs.seed_hint")}>
            {(props) => <input {...props} name="seed" type="number" min={0} value={form.seed ?? ""} onInput={(e) => set("seed", e.currentTarget.value)} />}
          </Field>
          <FileSelect label={t("jobs.validation_data")} name="validation_file" files={files} optional {...shared} />
        </div>
      </details>
      <EstimatePanel form={form} />
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t("jobs.starting") : t("jobs.start")}
        </button>
      </div>
    </form>
  );
}

export function NewJob({ query }) {
  const data = useAsync(async (signal) => {
    const [models, files] = await Promise.all([listModels(signal), listFiles(signal)]);
    return { models: tunable(models), files: files.filter((f) => f.purpose === "fine-tune") };
  }, []);
  const initial = { model: query.get("model") || "", training_file: query.get("file") || "" };
  return (
    <Page title={t("jobs.new_title")} subtitle={t("jobs.new_subtitle")}>
      <Async state={data}>
        {({ models, files }) =>
          files.length ? (
            <JobForm models={models} files={files} initial={{ ...initial, model: initial.model || (models[0] && models[0].id) || "" }} />
          ) : (
            <Panel>
              <p>
                {t("jobs.no_data")} <a href="#/datasets">{t("jobs.upload_dataset")}</a>
              </p>
            </Panel>
          )
        }
      </Async>
    </Page>
  );
}
