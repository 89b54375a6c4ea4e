// The evaluation report: recommendation, per-model table, charts, and per-example comparison with A/B rating.
import { useState } from "preact/hooks";
import { post } from "../lib/api.js";
import { money, ms, num, pct } from "../lib/format.js";
import { useAction } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";
import { BarChart } from "./charts.jsx";
import { useToast } from "./toast.jsx";
import { Badge, Field, Panel } from "./ui.jsx";

// The report's picks and their titles; the reason under each is said again from its code.
const PICKS = [
  ["best_quality", () => t("report.best_quality")],
  ["cheapest_within_tolerance", () => t("report.cheapest")],
  ["fastest", () => t("report.fastest")],
];

function score(value, fraction) {
  if (value === null || value === undefined) return "—";
  return fraction ? pct(value) : num(+value.toPrecision(3));
}

// A reason said from its code and params (src/modelyard/evals/reasons.py makes the English
// from the same params). Scores are fractions of 1 when params.fraction, else raw values.
const value = (p, v) => (p.fraction ? pct(v) : num(+v.toPrecision(3)));
const gap = (p) => (p.fraction ? t("report.gap_points", { n: num(p.gap * 100, 1) }) : num(+p.gap.toPrecision(3)));
const scored = (p) => ({ model: p.model, score: value(p, p.score), metric: p.metric });
const answers = (p) => t("report.answers_in", { model: p.model, p50: ms(p.p50_ms), p95: ms(p.p95_ms) });
const quality = (p) => (p.score === null || p.score === undefined ? t("report.quality_ungraded") : t("report.quality_scoring", { score: value(p, p.score), metric: p.metric }));
const faster = (p) => p.p50_ms > 0 && p.rival_p50_ms / p.p50_ms >= 1.05;

function costRatio(cost, reference) {
  if (cost === reference) return t("report.ratio_same");
  if (cost <= 0) return t("report.ratio_free");
  const ratio = reference / cost;
  if (ratio >= 2) return t("report.ratio_fraction", { n: num(ratio, 1) });
  if (ratio > 1) return t("report.ratio_percent", { pct: pct(cost / reference, 0) });
  return t("report.ratio_times", { n: num(cost / reference, 1) });
}

const cheaper = (p) => ({ ...scored(p), best: p.best, ratio: costRatio(p.cost, p.best_cost), cost: money(p.cost), best_cost: money(p.best_cost) });
const rival = (p) => ({ answers: answers(p), quality: quality(p), rival: p.rival, rival_p50: ms(p.rival_p50_ms), times: num(p.rival_p50_ms / p.p50_ms, 1) });

const REASONS = {
  no_graded: (p) => t("report.reason_no_graded", { metric: p.metric }),
  best_only_graded: (p) => t("report.reason_best_only_graded", scored(p)),
  best_tied_cheaper: (p) => t("report.reason_best_tied_cheaper", { ...scored(p), other: p.other }),
  best_tied_first: (p) => t("report.reason_best_tied_first", { ...scored(p), other: p.other }),
  best_ahead: (p) => t("report.reason_best_ahead", { ...scored(p), gap: gap(p), other: p.other, other_score: value(p, p.other_score) }),
  best_ahead_overlap: (p) => t("report.reason_best_ahead_overlap", { ...scored(p), gap: gap(p), other: p.other, other_score: value(p, p.other_score) }),
  cheapest_all_fail: (p) => t("report.reason_cheapest_all_fail", { tolerance: num(p.tolerance_points), limit: pct(p.failure_limit, 0) }),
  cheapest_free: (p) => t("report.reason_cheapest_free", { ...scored(p), tolerance: num(p.tolerance_points) }),
  cheapest_costs: (p) => t("report.reason_cheapest_costs", { ...scored(p), tolerance: num(p.tolerance_points), cost: money(p.cost) }),
  cheapest_level: (p) => t("report.reason_cheapest_level", cheaper(p)),
  cheapest_below_best: (p) => t("report.reason_cheapest_below_best", { ...cheaper(p), gap: gap(p) }),
  fastest_none: (p) => t("report.reason_fastest_none", { limit: pct(p.failure_limit, 0) }),
  fastest_best_quality: (p) => t("report.reason_fastest_best_quality", { answers: answers(p), quality: quality(p) }),
  fastest_alone: (p) => t("report.reason_fastest_alone", { answers: answers(p), quality: quality(p) }),
  fastest_vs_best: (p) => (faster(p) ? t("report.reason_fastest_vs_best", rival(p)) : t("report.reason_fastest_vs_best_same", rival(p))),
  fastest_vs_next: (p) => (faster(p) ? t("report.reason_fastest_vs_next", rival(p)) : t("report.reason_fastest_vs_next_same", rival(p))),
};

/** The reason in the reader's language; a code this console does not know keeps the server's English. */
function Reason({ pick }) {
  const say = REASONS[pick.code];
  if (say && pick.params) {
    try {
      return <p class="muted small" data-code={pick.code}>{say(pick.params)}</p>;
    } catch {
      // params this console cannot read (a newer server): the English below says it
    }
  }
  return (
    <p class="muted small" lang="en">
      {pick.reason}
    </p>
  );
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
            <Reason pick={pick} />
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
