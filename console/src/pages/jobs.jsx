// Fine-tuning: the tenant's jobs, and the form that starts one (simple, with an advanced section).
import { useState } from "preact/hooks";
import { useToast } from "../components/toast.jsx";
import { Async, Field, Page, Panel, StatusBadge } from "../components/ui.jsx";
import { get, post } from "../lib/api.js";
import { num, when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { listModels, tunable } from "../lib/models.js";
import { navigate } from "../lib/router.js";
import { listFiles } from "./datasets.jsx";

export function Jobs() {
  const jobs = useAsync((signal) => get("/v1/fine_tuning/jobs?limit=100", { signal }).then((p) => p.data), []);
  return (
    <Page
      title="Fine-tuning"
      subtitle="LoRA fine-tunes of a base model on your data; the result is a model only your tenant sees."
      actions={
        <a class="button primary" href="#/fine-tuning/new">
          New fine-tune
        </a>
      }
    >
      <Panel>
        <Async state={jobs} emptyTitle="No fine-tuning jobs yet" empty={<a href="#/fine-tuning/new">Start one</a>}>
          {(data) => (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Job</th>
                    <th scope="col">Base model</th>
                    <th scope="col">Status</th>
                    <th scope="col">Fine-tuned model</th>
                    <th scope="col" class="num">Trained tokens</th>
                    <th scope="col">Created</th>
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

// [name, label, min, max, step, integer?, hint]
const HYPER = [
  ["n_epochs", "Epochs", 1, 50, 1, true],
  ["batch_size", "Batch size", 1, 256, 1, true],
  ["learning_rate_multiplier", "Learning rate multiplier", 0.0001, 100, "any", false],
];
const LORA = [
  ["r", "LoRA rank (r)", 1, 256, 1, true],
  ["alpha", "LoRA alpha", 0.0001, 10000, "any", false],
  ["dropout", "LoRA dropout", 0, 0.99, 0.01, false],
  ["max_seq_length", "Max sequence length", 16, 32768, 1, true],
];

function checkNumber(raw, [, label, min, max, , integer]) {
  if (raw === "" || raw === undefined) return [undefined, null];
  const value = Number(raw);
  if (!Number.isFinite(value)) return [undefined, `${label} must be a number`];
  if (integer && !Number.isInteger(value)) return [undefined, `${label} must be a whole number`];
  if (value < min || value > max) return [undefined, `${label} must be between ${min} and ${max}`];
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
  if (!form.model) errors.model = "Choose a base model";
  if (!form.training_file) errors.training_file = "Choose a training file";
  if (form.suffix && !/^[A-Za-z0-9_-]{1,40}$/.test(form.suffix)) errors.suffix = "Letters, digits, - and _ only (up to 40)";
  if (form.validation_file && form.validation_file === form.training_file) errors.validation_file = "Pick a different file";
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
    <Field label={label} error={errors[name]} hint="blank = auto">
      {(props) => (
        <input {...props} name={name} type="number" min={min} max={max} step={step} placeholder="auto" value={form[name] ?? ""} onInput={(e) => set(name, e.currentTarget.value)} />
      )}
    </Field>
  );
}

function FileSelect({ label, name, files, form, set, errors, optional }) {
  return (
    <Field label={label} error={errors[name]}>
      {(props) => (
        <select {...props} name={name} value={form[name] || ""} onChange={(e) => set(name, e.currentTarget.value)}>
          <option value="">{optional ? "None" : "Choose a file…"}</option>
          {files.map((f) => (
            <option key={f.id} value={f.id}>
              {f.filename} ({f.examples} examples, {f.id})
            </option>
          ))}
        </select>
      )}
    </Field>
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
      toast.ok(`Started ${job.id}`);
      navigate(`/fine-tuning/${job.id}`);
    });
  };
  const shared = { form, set, errors };
  return (
    <form class="panel form" onSubmit={submit} noValidate>
      <Field label="Base model" error={errors.model}>
        {(props) => (
          <select {...props} name="model" value={form.model} onChange={(e) => set("model", e.currentTarget.value)}>
            <option value="">Choose a model…</option>
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
              </option>
            ))}
          </select>
        )}
      </Field>
      <FileSelect label="Training data" name="training_file" files={files} {...shared} />
      <Field label="Suffix (optional)" error={errors.suffix} hint="Part of the new model's name">
        {(props) => <input {...props} name="suffix" value={form.suffix || ""} onInput={(e) => set("suffix", e.currentTarget.value)} />}
      </Field>
      <details>
        <summary>Advanced settings</summary>
        <div class="form-grid">
          {HYPER.map((spec) => (
            <NumberInput key={spec[0]} spec={spec} {...shared} />
          ))}
          {LORA.map((spec) => (
            <NumberInput key={spec[0]} spec={spec} {...shared} />
          ))}
          <Field label="LoRA target modules" hint="comma-separated; blank = auto">
            {(props) => <input {...props} name="target_modules" value={form.target_modules || ""} onInput={(e) => set("target_modules", e.currentTarget.value)} />}
          </Field>
          <Field label="Seed" hint="blank = random">
            {(props) => <input {...props} name="seed" type="number" min={0} value={form.seed ?? ""} onInput={(e) => set("seed", e.currentTarget.value)} />}
          </Field>
          <FileSelect label="Validation data" name="validation_file" files={files} optional {...shared} />
        </div>
      </details>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Starting…" : "Start fine-tuning"}
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
    <Page title="New fine-tune" subtitle="Pick a base model and a dataset; the defaults suit most data.">
      <Async state={data}>
        {({ models, files }) =>
          files.length ? (
            <JobForm models={models} files={files} initial={{ ...initial, model: initial.model || (models[0] && models[0].id) || "" }} />
          ) : (
            <Panel>
              <p>
                No fine-tuning data yet. <a href="#/datasets">Upload a dataset</a> with purpose “fine-tune” first.
              </p>
            </Panel>
          )
        }
      </Async>
    </Page>
  );
}
