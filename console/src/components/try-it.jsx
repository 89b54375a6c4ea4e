// "Try it" on a fine-tuned model: one prompt, generation settings, and the same prompt sent
// to the base model beside it, so the difference the training made is seen at once.
import { useState } from "preact/hooks";
import { t } from "../lib/i18n.js";
import { post } from "../lib/api.js";
import { ms, num } from "../lib/format.js";
import { Field } from "./ui.jsx";

const LIMITS = { temperature: [0, 2], max_tokens: [1, 4096] };

function checkSettings(settings) {
  const errors = {};
  const temperature = Number(settings.temperature);
  if (settings.temperature === "" || !Number.isFinite(temperature) || temperature < LIMITS.temperature[0] || temperature > LIMITS.temperature[1])
    errors.temperature = t("job.try_temperature_error", { min: 0, max: 2 });
  const maxTokens = Number(settings.max_tokens);
  if (!Number.isInteger(maxTokens) || maxTokens < LIMITS.max_tokens[0] || maxTokens > LIMITS.max_tokens[1])
    errors.max_tokens = t("job.try_max_tokens_error", { min: 1, max: 4096 });
  return errors;
}

async function answer(model, prompt, settings) {
  const started = performance.now();
  const reply = await post("/v1/chat/completions", {
    model,
    messages: [{ role: "user", content: prompt }],
    temperature: Number(settings.temperature),
    max_tokens: Number(settings.max_tokens),
  });
  const choice = reply.choices && reply.choices[0];
  return { text: (choice && choice.message && choice.message.content) || "", usage: reply.usage, ms: performance.now() - started };
}

function Answer({ model, role, result }) {
  return (
    <section class="try-answer" data-testid={`try-answer-${role}`} aria-busy={result && result.busy ? "true" : "false"}>
      <h3>
        <span class="muted small">{role === "tuned" ? t("job.try_tuned") : t("job.try_base")}</span> <span class="clip">{model}</span>
      </h3>
      {!result ? (
        <p class="muted">{t("job.try_nothing_yet")}</p>
      ) : result.busy ? (
        <p class="muted" role="status">
          {t("job.try_waiting")}
        </p>
      ) : result.error ? (
        <div class="state error" role="alert">
          {result.error}
        </div>
      ) : (
        <>
          <pre class="try-text">{result.text || t("job.try_empty_answer")}</pre>
          <p class="muted small">
            {t("job.try_meta", { tokens: num(result.usage ? result.usage.completion_tokens : null), time: ms(result.ms) })}
          </p>
        </>
      )}
    </section>
  );
}

export function TryIt({ model, base }) {
  const [prompt, setPrompt] = useState("");
  const [settings, setSettings] = useState({ temperature: "0", max_tokens: "128" });
  const [compare, setCompare] = useState(true);
  const [errors, setErrors] = useState({});
  const [results, setResults] = useState({});
  const busy = Object.values(results).some((r) => r && r.busy);
  const set = (name) => (e) => setSettings((s) => ({ ...s, [name]: e.currentTarget.value }));

  const submit = (event) => {
    event.preventDefault();
    const found = checkSettings(settings);
    if (!prompt.trim()) found.prompt = t("job.try_prompt_error");
    setErrors(found);
    if (Object.keys(found).length) return;
    const targets = [["tuned", model], ...(compare && base ? [["base", base]] : [])];
    setResults(Object.fromEntries(targets.map(([role]) => [role, { busy: true }])));
    for (const [role, id] of targets) {
      answer(id, prompt, settings).then(
        (result) => setResults((r) => ({ ...r, [role]: result })),
        (error) => setResults((r) => ({ ...r, [role]: { error: error.message || String(error) } })),
      );
    }
  };

  return (
    <form class="try-it" onSubmit={submit} noValidate data-testid="try-it">
      <Field label={t("job.try_prompt")} error={errors.prompt} hint={t("job.try_prompt_hint")}>
        {(props) => <textarea {...props} rows={3} value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} />}
      </Field>
      <div class="form-grid">
        <Field label={t("job.try_temperature")} error={errors.temperature} hint={t("job.try_temperature_hint")}>
          {(props) => <input {...props} name="temperature" type="number" min={0} max={2} step={0.1} value={settings.temperature} onInput={set("temperature")} />}
        </Field>
        <Field label={t("job.try_max_tokens")} error={errors.max_tokens}>
          {(props) => <input {...props} name="max_tokens" type="number" min={1} max={4096} step={1} value={settings.max_tokens} onInput={set("max_tokens")} />}
        </Field>
      </div>
      {base && (
        <label class="check">
          <input type="checkbox" checked={compare} onChange={(e) => setCompare(e.currentTarget.checked)} /> {t("job.try_compare", { base })}
        </label>
      )}
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t("job.try_running") : t("job.try_send")}
        </button>
      </div>
      <div class={compare && base ? "try-grid" : "try-grid single"}>
        <Answer model={model} role="tuned" result={results.tuned} />
        {compare && base && <Answer model={base} role="base" result={results.base} />}
      </div>
    </form>
  );
}
