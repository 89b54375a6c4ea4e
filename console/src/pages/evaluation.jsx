// One evaluation: progress and events while it runs, then its report (and the standalone HTML page).
import { useState } from "preact/hooks";
import { useConfirm } from "../components/confirm.jsx";
import { Report } from "../components/report.jsx";
import { useToast } from "../components/toast.jsx";
import { Async, Page, Panel, Progress, StatusBadge } from "../components/ui.jsx";
import { get, post, request } from "../lib/api.js";
import { when } from "../lib/format.js";
import { useAction, useAsync, usePoll } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

async function downloadHtml(id) {
  const response = await request(`/v1/evaluations/${id}/report?format=html`);
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: `${id}.html` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Events said from data.code (src/modelyard/evals/service.py and job.py); an event with no
// code this console knows (an older server, a new kind) shows the server's English.
const EVENTS = {
  created: (d) => t("evaluations.event_created", { models: t("evaluations.event_models", { count: d.models }), items: t("evaluations.event_items", { count: d.items }) }),
  started: () => t("evaluations.event_started"),
  asking: (d) => t("evaluations.event_asking", { model: d.model, count: d.pending }),
  scoring: () => t("evaluations.event_scoring"),
  completed: () => t("evaluations.event_completed"),
  cancelled: () => t("evaluations.event_cancelled"),
  failed: (d) => (
    <>
      {t("evaluations.event_failed")} <span lang="en">{d.error}</span>
    </>
  ),
};

function EventText({ event }) {
  const say = event.data && EVENTS[event.data.code];
  return say ? <span data-code={event.data.code}>{say(event.data)}</span> : <span lang="en">{event.message}</span>;
}

function Events({ id, tick }) {
  // Reloaded on each poll's tick: those reloads are the console's polling too.
  const events = useAsync((signal) => get(`/v1/evaluations/${id}/events?limit=50`, { signal, poll: tick > 0 }).then((p) => p.data), [id, tick]);
  return (
    <Async state={events} emptyTitle={t("evaluations.no_events")}>
      {(data) => (
        <ol class="events">
          {data.map((e) => (
            <li key={e.id} class={`event event-${e.level}`}>
              <time>{when(e.created_at)}</time> <EventText event={e} />
            </li>
          ))}
        </ol>
      )}
    </Async>
  );
}

function EvaluationView({ initial }) {
  const toast = useToast();
  const [evaluation, setEvaluation] = useState(initial);
  const [tick, setTick] = useState(0);
  const [busy, run] = useAction(toast.error);
  const live = !TERMINAL.has(evaluation.status);
  usePoll(
    async () => {
      setEvaluation(await get(`/v1/evaluations/${evaluation.id}`));
      setTick((t) => t + 1);
    },
    1500,
    live,
  );
  const report = useAsync(
    (signal) => (evaluation.status === "succeeded" ? get(`/v1/evaluations/${evaluation.id}/report`, { signal }) : Promise.resolve(null)),
    [evaluation.status],
  );
  const confirm = useConfirm();
  const cancel = async () => {
    const yes = await confirm({
      title: t("evaluations.cancel_title", { name: evaluation.name || evaluation.id }),
      body: t("evaluations.cancel_body"),
      confirm: t("evaluations.cancel_confirm"),
      danger: true,
    });
    if (yes) run(async () => setEvaluation(await post(`/v1/evaluations/${evaluation.id}/cancel`)));
  };
  // The dataset by its name (a deleted one by its id).
  const dataset = useAsync((signal) => get(`/v1/files/${encodeURIComponent(evaluation.file)}`, { signal }).catch(() => null), [evaluation.file]);
  const datasetName = (dataset.data && dataset.data.filename) || evaluation.file;
  const { progress } = evaluation;
  return (
    <Page
      title={evaluation.name || evaluation.id}
      subtitle={
        <span data-testid="eval-subtitle">
          {evaluation.id} · {t("evaluations.dataset_label")} <a href={`#/datasets/${evaluation.file}`}>{datasetName}</a> ·{" "}
          {evaluation.metrics.map((m) => m.name).join(", ")} · {t("evaluations.created_at", { when: when(evaluation.created_at) })}
        </span>
      }
      actions={
        <>
          {live && (
            <button type="button" class="danger" onClick={cancel} disabled={busy}>
              {t("evaluations.cancel")}
            </button>
          )}
          {evaluation.status === "succeeded" && (
            <button type="button" class="secondary" onClick={() => run(() => downloadHtml(evaluation.id))}>
              {t("evaluations.download_html")}
            </button>
          )}
        </>
      }
    >
      <div class="status-line" role="status" aria-live="polite" data-testid="eval-status" data-status={evaluation.status}>
        <StatusBadge status={evaluation.status} />
        <Progress label={t("evaluations.answers_scored")} value={progress.done || 0} max={progress.total} />
        <span class="muted">{evaluation.models.join(t("evaluations.vs"))}</span>
      </div>
      {evaluation.error && (
        <div class="state error" role="alert">
          <strong>{t("evaluations.failed")}</strong>
          <div lang="en">{evaluation.error.message || String(evaluation.error)}</div>
        </div>
      )}
      {evaluation.status === "succeeded" && (
        <Async state={report}>{(data) => data && <Report report={data} evaluationId={evaluation.id} onRated={report.reload} />}</Async>
      )}
      <Panel title={t("evaluations.events")}>
        <Events id={evaluation.id} tick={tick} />
      </Panel>
    </Page>
  );
}

export function Evaluation({ id }) {
  const evaluation = useAsync((signal) => get(`/v1/evaluations/${encodeURIComponent(id)}`, { signal }), [id]);
  return <Async state={evaluation}>{(data) => <EvaluationView key={data.id} initial={data} />}</Async>;
}
