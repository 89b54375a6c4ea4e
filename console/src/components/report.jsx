// The evaluation report: recommendation, per-model table, charts, and per-example comparison with A/B rating.
import { useState } from "preact/hooks";
import { post } from "../lib/api.js";
import { money, ms, num, pct } from "../lib/format.js";
import { useAction } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";
import { BarChart } from "./charts.jsx";
import { useToast } from "./toast.jsx";
import { Badge, Field, Panel } from "./ui.jsx";

// The report's picks and their titles; the reason under each is the server's (English) sentence.
const PICKS = [
  ["best_quality", () => t("report.best_quality")],
  ["cheapest_within_tolerance", () => t("report.cheapest")],
  ["fastest", () => t("report.fastest")],
];

function score(value, fraction) {
  if (value === null || value === undefined) return "—";
  return fraction ? pct(value) : num(+value.toPrecision(3));
}

function Recommendation({ report }) {
  return (
    <div class="picks">
      {PICKS.map(([key, label]) => {
        const pick = report.recommendation[key] || {};
        return (
          <article key={key} class="card pick">
            <h3>{label()}</h3>
            <p class="pick-model">{pick.model || t("report.no_model")}</p>
            <p class="muted small" lang="en">
              {pick.reason}
            </p>
          </article>
        );
      })}
    </div>
  );
}

function ModelsTable({ report }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">{t("report.col_model")}</th>
            {report.metrics.map((m) => (
              <th key={m.name} scope="col" class="num">
                {m.name}
              </th>
            ))}
            <th scope="col" class="num">{t("report.col_latency")}</th>
            <th scope="col" class="num">{t("report.col_first_token")}</th>
            <th scope="col" class="num">{t("report.col_tokens")}</th>
            <th scope="col" class="num">{t("report.col_cost_per_item")}</th>
            <th scope="col" class="num">{t("report.col_failures")}</th>
            <th scope="col" class="num">{t("report.col_win_rate")}</th>
          </tr>
        </thead>
        <tbody>
          {report.models.map((model) => (
            <tr key={model.id}>
              <th scope="row">{model.id}</th>
              {report.metrics.map((m) => {
                const s = model.metrics[m.name] || {};
                return (
                  <td key={m.name} class="num" title={s.ci_low !== null ? t("report.interval", { low: score(s.ci_low, m.fraction), high: score(s.ci_high, m.fraction) }) : ""}>
                    {score(s.mean, m.fraction)}
                  </td>
                );
              })}
              <td class="num">
                {ms(model.latency.p50_ms)} / {ms(model.latency.p95_ms)}
              </td>
              <td class="num">{ms(model.latency.ttft_p50_ms)}</td>
              <td class="num">
                {num(model.tokens.prompt_total)} / {num(model.tokens.completion_total)}
              </td>
              <td class="num">{money(model.cost.per_item)}</td>
              <td class="num">{num(model.failures.count)}</td>
              <td class="num">
                {model.human.comparisons ? t("report.win_rate", { rate: pct(model.human.win_rate, 0), count: num(model.human.comparisons) }) : "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Charts({ report }) {
  const primary = report.metrics.find((m) => m.name === report.primary_metric) || report.metrics[0];
  const quality = report.models.map((m) => {
    const s = (primary && m.metrics[primary.name]) || {};
    return { label: m.id, value: s.mean, low: s.ci_low ?? undefined, high: s.ci_high ?? undefined };
  });
  return (
    <div class="chart-grid" data-testid="report-charts">
      {primary && (
        <figure class="chart-box">
          <figcaption>{t("report.metric_interval", { metric: primary.name })}</figcaption>
          <BarChart items={quality} label={t("report.metric_by_model", { metric: primary.name })} format={(v) => score(v, primary.fraction)} />
        </figure>
      )}
      <figure class="chart-box">
        <figcaption>{t("report.median_latency")}</figcaption>
        <BarChart items={report.models.map((m) => ({ label: m.id, value: m.latency.p50_ms }))} label={t("report.median_latency_by_model")} format={ms} />
      </figure>
      <figure class="chart-box">
        <figcaption>{t("report.cost_per_1k")}</figcaption>
        <BarChart items={report.models.map((m) => ({ label: m.id, value: m.cost.per_1k_items }))} label={t("report.cost_per_1k_by_model")} format={money} />
      </figure>
    </div>
  );
}

function Rate({ evaluationId, item, a, b, onRated }) {
  const toast = useToast();
  const [busy, run] = useAction(toast.error);
  const [done, setDone] = useState(null);
  const rate = (winner) =>
    run(async () => {
      await post(`/v1/evaluations/${evaluationId}/ratings`, { item, model_a: a, model_b: b, winner });
      setDone(winner);
      onRated();
    });
  const label = { a: t("report.a_is_better", { model: a }), tie: t("report.tie"), b: t("report.a_is_better", { model: b }) };
  const button = { a: t("report.a_better"), tie: t("report.tie"), b: t("report.b_better") };
  return (
    <div class="rate" role="group" aria-label={t("report.rate_group", { item, a, b })}>
      {["a", "tie", "b"].map((w) => (
        <button key={w} type="button" class={`small ${done === w ? "primary" : "secondary"}`} disabled={busy} aria-pressed={done === w} onClick={() => rate(w)} title={label[w]}>
          {button[w]}
        </button>
      ))}
    </div>
  );
}

function Examples({ report, evaluationId, onRated }) {
  const ids = report.models.map((m) => m.id);
  const [onlyFailed, setOnlyFailed] = useState(false);
  const [a, setA] = useState(ids[0]);
  const [b, setB] = useState(ids[1] || ids[0]);
  const rows = report.examples.filter((e) => !onlyFailed || e.failed);
  const pickModel = (label, value, set) => (
    <Field label={label}>
      {(props) => (
        <select {...props} value={value} onChange={(e) => set(e.currentTarget.value)}>
          {ids.map((id) => (
            <option key={id}>{id}</option>
          ))}
        </select>
      )}
    </Field>
  );
  const shown = ids.length > 1 ? [a, b] : ids;
  return (
    <>
      <div class="inline-form">
        {ids.length > 1 && pickModel(t("report.model_a"), a, setA)}
        {ids.length > 1 && pickModel(t("report.model_b"), b, setB)}
        <label class="check">
          <input type="checkbox" checked={onlyFailed} onChange={(e) => setOnlyFailed(e.currentTarget.checked)} /> {t("report.only_failed")}
        </label>
      </div>
      <div class="table-wrap">
        <table class="examples" data-testid="examples">
          <thead>
            <tr>
              <th scope="col" class="num">#</th>
              <th scope="col">{t("report.col_prompt")}</th>
              <th scope="col">{t("report.col_reference")}</th>
              {shown.map((id, i) => (
                <th key={`${id}-${i}`} scope="col">
                  {ids.length > 1 ? `${i ? "B" : "A"}: ` : ""}
                  {id}
                </th>
              ))}
              {ids.length > 1 && <th scope="col">{t("report.col_which")}</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.index} class={row.failed ? "row-flag" : ""}>
                <td class="num">{row.index}</td>
                <td class="clip">{row.prompt}</td>
                <td class="clip">{row.reference ?? "—"}</td>
                {shown.map((id, i) => {
                  const cell = row.models[id] || {};
                  const primary = cell.scores && cell.scores[report.primary_metric];
                  return (
                    <td key={`${id}-${i}`} class="clip">
                      {cell.error ? <Badge tone="bad">{t("report.error")}</Badge> : cell.output}
                      {primary && primary.value !== null && (
                        <div class="small muted">
                          {report.primary_metric} {num(+primary.value.toPrecision(3))}
                        </div>
                      )}
                    </td>
                  );
                })}
                {ids.length > 1 && (
                  <td>{a !== b ? <Rate key={`${a}-${b}`} evaluationId={evaluationId} item={row.index} a={a} b={b} onRated={onRated} /> : <span class="muted small">{t("report.pick_two")}</span>}</td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function Report({ report, evaluationId, onRated }) {
  return (
    <>
      <Panel title={t("report.recommendation")}>
        <Recommendation report={report} />
      </Panel>
      <Panel title={t("report.models")}>
        <ModelsTable report={report} />
        <Charts report={report} />
      </Panel>
      <Panel title={t("report.examples", { count: num(report.examples.length) })}>
        <Examples report={report} evaluationId={evaluationId} onRated={onRated} />
      </Panel>
    </>
  );
}
