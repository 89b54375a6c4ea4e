// The model plaza: a card per model the key can use, filtered by task, provider, kind and tag.
import { useMemo, useState } from "preact/hooks";
import { Async, Badge, Empty, Field, Page } from "../components/ui.jsx";
import { compact, num, price } from "../lib/format.js";
import { useAsync } from "../lib/hooks.js";
import { isChat, kindOf, listModels, tunable } from "../lib/models.js";
import { href } from "../lib/router.js";

const distinct = (values) => [...new Set(values)].sort();

function Select({ label, value, options, onChange }) {
  return (
    <Field label={label}>
      {(props) => (
        <select {...props} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">All</option>
          {options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

function ModelCard({ model, canTune }) {
  const { card } = model;
  const kind = kindOf(model);
  return (
    <article class="card model-card" aria-labelledby={`m-${model.id}`}>
      <header>
        <h2 id={`m-${model.id}`} class="model-id" title={model.id}>
          {model.id}
        </h2>
        <Badge tone={kind === "fine-tuned" ? "info" : kind === "remote" ? "warn" : "ok"}>{kind}</Badge>
      </header>
      <p class="muted small">
        {card.provider} · {card.task} · {card.backend}
        {card.status !== "ready" && card.status !== "available" ? ` · ${card.status}` : ""}
      </p>
      {card.description && <p class="description">{card.description}</p>}
      <dl class="facts">
        <div>
          <dt>Context</dt>
          <dd>{card.context_length ? `${num(card.context_length)} tokens` : "—"}</dd>
        </div>
        <div>
          <dt>Parameters</dt>
          <dd>{card.parameters ? compact(card.parameters) : "—"}</dd>
        </div>
        <div class="wide">
          <dt>Price</dt>
          <dd>{price(card)}</dd>
        </div>
        <div>
          <dt>Licence</dt>
          <dd>{card.licence}</dd>
        </div>
      </dl>
      {card.tags.length > 0 && (
        <ul class="tags" aria-label="Tags">
          {card.tags.map((t) => (
            <li key={t}>{t}</li>
          ))}
        </ul>
      )}
      <footer class="card-actions">
        {isChat(model) && <a class="button small" href={href("/playground", { model: model.id })}>Try</a>}
        {canTune && (
          <a class="button small secondary" href={href("/fine-tuning/new", { model: model.id })}>
            Fine-tune
          </a>
        )}
        {isChat(model) && (
          <a class="button small secondary" href={href("/evaluations/new", { model: model.id })}>
            Evaluate
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
        <Field label="Search">
          {(props) => (
            <input {...props} type="search" placeholder="model id" value={filters.text} onInput={(e) => set("text")(e.currentTarget.value)} />
          )}
        </Field>
        <Select label="Task" value={filters.task} options={distinct(models.map((m) => m.card.task))} onChange={set("task")} />
        <Select label="Provider" value={filters.provider} options={distinct(models.map((m) => m.card.provider))} onChange={set("provider")} />
        <Select label="Kind" value={filters.kind} options={distinct(models.map(kindOf))} onChange={set("kind")} />
        <Select label="Tag" value={filters.tag} options={distinct(models.flatMap((m) => m.card.tags))} onChange={set("tag")} />
      </form>
      <p class="muted" aria-live="polite">
        {shown.length} of {models.length} models
      </p>
      {shown.length ? (
        <div class="card-grid">
          {shown.map((m) => (
            <ModelCard key={m.id} model={m} canTune={tuneIds.has(m.id)} />
          ))}
        </div>
      ) : (
        <Empty title="No model matches these filters." />
      )}
    </>
  );
}

export function Plaza() {
  const models = useAsync((signal) => listModels(signal), []);
  return (
    <Page title="Model plaza" subtitle="Every model your key can call: built-in, remote and your fine-tunes.">
      <Async state={models} emptyTitle="No models yet" empty="An admin registers models with `modelyard models add`.">
        {(data) => <Filtered models={data} />}
      </Async>
    </Page>
  );
}
