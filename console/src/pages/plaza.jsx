// The model plaza: a card per model the key can use, filtered by task, provider, kind and tag.
// Each card says whether the model can answer now (importing, loading, failed) and what kind
// of model it is: a base model continues text, so its card says so and points to what works.
import { useMemo, useState } from "preact/hooks";
import { Async, Badge, Empty, Field, Page } from "../components/ui.jsx";
import { compact, num, price } from "../lib/format.js";
import { useAsync, usePoll } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";
import { isBase, isChat, isReady, kindLabel, kindOf, listModels, readinessText, tunable } from "../lib/models.js";
import { href } from "../lib/router.js";

const distinct = (values) => [...new Set(values)].sort();
const READINESS_POLL_MS = 2000;

function Select({ label, value, options, onChange, name = (o) => o }) {
  return (
    <Field label={label}>
      {(props) => (
        <select {...props} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">{t("plaza.all")}</option>
          {options.map((o) => (
            <option key={o} value={o}>
              {name(o)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** Importing (with its progress), loading or failed; nothing for a ready model. */
function Readiness({ card }) {
  if (isReady(card)) return null;
  const tone = card.status === "failed" ? "bad" : "info";
  return (
    <div class={`model-readiness readiness-${card.status}`} data-testid="model-status" role="status">
      <Badge tone={tone}>{readinessText(card)}</Badge>
      {card.status === "importing" && (
        <progress max="1" value={card.progress ?? 0} aria-label={readinessText(card)} />
      )}
    </div>
  );
}

function BaseModelNote({ model, canTune }) {
  return (
    <div class="base-note" data-testid="base-model-note">
      <p>{t("plaza.base_note")}</p>
      <p class="card-links">
        <a href={href("/playground", { model: model.id, mode: "complete" })}>{t("plaza.try_completion")}</a>
        <a href={href("/playground", { model: model.id, mode: "complete", fewshot: "1" })}>{t("plaza.try_few_shot")}</a>
        {canTune && <a href={href("/fine-tuning/new", { model: model.id })}>{t("plaza.fine_tune_yours")}</a>}
      </p>
    </div>
  );
}

function Lineage({ lineage }) {
  return (
    <div class="lineage" data-testid="lineage">
      <p class="small">
        {t("plaza.lineage_base")} <strong>{lineage.base_model}</strong>
      </p>
      <ul class="card-links small">
        {lineage.job && (
          <li>
            <a href={href(`/fine-tuning/${encodeURIComponent(lineage.job)}`)}>{t("plaza.lineage_job")}</a>
          </li>
        )}
        {lineage.training_file && (
          <li>
            <a href={href(`/datasets/${encodeURIComponent(lineage.training_file)}`)}>{t("plaza.lineage_training_file")}</a>
          </li>
        )}
        {lineage.validation_file && (
          <li>
            <a href={href(`/datasets/${encodeURIComponent(lineage.validation_file)}`)}>{t("plaza.lineage_validation_file")}</a>
          </li>
        )}
        {lineage.evaluations.map((id, i) => (
          <li key={id}>
            <a href={href(`/evaluations/${encodeURIComponent(id)}`)}>{t("plaza.lineage_evaluation", { n: i + 1 })}</a>
          </li>
        ))}
      </ul>
      {lineage.evaluations.length === 0 && <p class="muted small">{t("plaza.lineage_no_evaluations")}</p>}
    </div>
  );
}

function ModelCard({ model, canTune }) {
  const { card } = model;
  const kind = kindOf(model);
  const ready = isReady(card);
  return (
    <article class="card model-card" aria-labelledby={`m-${model.id}`} data-model={model.id}>
      <header>
        <h2 id={`m-${model.id}`} class="model-id" title={model.id}>
          {model.id}
        </h2>
        <Badge tone={kind === "fine-tuned" ? "info" : kind === "remote" ? "warn" : "ok"}>{kindLabel(kind)}</Badge>
        {isChat(model) && (
          <Badge tone={isBase(model) ? "muted" : "ok"}>{isBase(model) ? t("plaza.base_model") : t("plaza.instruct_model")}</Badge>
        )}
      </header>
      <p class="muted small">
        {card.provider} · {card.task} · {card.backend}
      </p>
      <Readiness card={card} />
      {card.description && <p class="description">{card.description}</p>}
      {isBase(model) && <BaseModelNote model={model} canTune={canTune} />}
      {card.lineage && <Lineage lineage={card.lineage} />}
      <dl class="facts">
        <div>
          <dt>{t("plaza.context")}</dt>
          <dd>{card.context_length ? t("plaza.tokens", { n: num(card.context_length) }) : "—"}</dd>
        </div>
        <div>
          <dt>{t("plaza.parameters")}</dt>
          <dd>{card.parameters ? compact(card.parameters) : "—"}</dd>
        </div>
        <div class="wide">
          <dt>{t("plaza.price")}</dt>
          <dd>{price(card)}</dd>
        </div>
        <div>
          <dt>{t("plaza.licence")}</dt>
          <dd>{card.licence}</dd>
        </div>
      </dl>
      {card.tags.length > 0 && (
        <ul class="tags" aria-label={t("plaza.tags")}>
          {card.tags.map((tag) => (
            <li key={tag}>{tag}</li>
          ))}
        </ul>
      )}
      <footer class="card-actions">
        {isChat(model) && (
          <a class="button small" href={href("/playground", { model: model.id })}>
            {ready ? t("plaza.try") : t("plaza.try_when_ready")}
          </a>
        )}
        {canTune && (
          <a class="button small secondary" href={href("/fine-tuning/new", { model: model.id })}>
            {t("plaza.fine_tune")}
          </a>
        )}
        {isChat(model) && (
          <a class="button small secondary" href={href("/evaluations/new", { model: model.id })}>
            {t("plaza.evaluate")}
          </a>
        )}
      </footer>
    </article>
  );
}

function Filtered({ models }) {
  const [filters, setFilters] = useState({ text: "", task: "", provider: "", kind: "", tag: "" });
  const set = (name) => (value) => setFilters((f) => ({ ...f, [name]: value }));
  const tuneIds = useMemo(() => new Set(tunable(models).map((m) => m.id)), [models]);
  const shown = models.filter(
    (m) =>
      (!filters.text || m.id.toLowerCase().includes(filters.text.toLowerCase())) &&
      (!filters.task || m.card.task === filters.task) &&
      (!filters.provider || m.card.provider === filters.provider) &&
      (!filters.kind || kindOf(m) === filters.kind) &&
      (!filters.tag || m.card.tags.includes(filters.tag)),
  );
  return (
    <>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <Field label={t("plaza.search")}>
          {(props) => (
            <input {...props} type="search" placeholder={t("plaza.search_placeholder")} value={filters.text} onInput={(e) => set("text")(e.currentTarget.value)} />
          )}
        </Field>
        <Select label={t("plaza.task")} value={filters.task} options={distinct(models.map((m) => m.card.task))} onChange={set("task")} />
        <Select label={t("plaza.provider")} value={filters.provider} options={distinct(models.map((m) => m.card.provider))} onChange={set("provider")} />
        <Select label={t("plaza.kind")} value={filters.kind} options={distinct(models.map(kindOf))} onChange={set("kind")} name={kindLabel} />
        <Select label={t("plaza.tag")} value={filters.tag} options={distinct(models.flatMap((m) => m.card.tags))} onChange={set("tag")} />
      </form>
      <p class="muted" aria-live="polite">
        {t("plaza.shown", { shown: num(shown.length), count: models.length, total: num(models.length) })}
      </p>
      {shown.length ? (
        <div class="card-grid">
          {shown.map((m) => (
            <ModelCard key={m.id} model={m} canTune={tuneIds.has(m.id)} />
          ))}
        </div>
      ) : (
        <Empty title={t("plaza.no_match")} />
      )}
    </>
  );
}

export function Plaza() {
  const models = useAsync((signal) => listModels(signal), []);
  // While a model imports or loads, its card follows it until it is ready.
  const pending = Boolean(models.data && models.data.some((m) => !isReady(m.card)));
  usePoll(() => listModels(undefined).then(models.setData, () => {}), READINESS_POLL_MS, pending);
  return (
    <Page title={t("plaza.title")} subtitle={t("plaza.subtitle")}>
      <Async state={models} emptyTitle={t("plaza.empty_title")} empty={t("plaza.empty")}>
        {(data) => <Filtered models={data} />}
      </Async>
    </Page>
  );
}
