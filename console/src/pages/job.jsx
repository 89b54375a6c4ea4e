// One fine-tuning job: status and phase, live loss chart, events, checkpoints (publishable
// once the job has ended), controls, and "try it" beside the base model.
import { useEffect, useRef, useState } from "preact/hooks";
import { LineChart } from "../components/charts.jsx";
import { Checkpoints } from "../components/checkpoints.jsx";
import { useConfirm } from "../components/confirm.jsx";
import { latestPhase, phaseName, Phases } from "../components/phases.jsx";
import { useToast } from "../components/toast.jsx";
import { TryIt } from "../components/try-it.jsx";
import { Async, Copyable, Empty, Page, Panel, Progress, Stat, StatusBadge } from "../components/ui.jsx";
import { get, getAll, post } from "../lib/api.js";
import { duration, num, when } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { useAction, useAsync, usePoll } from "../lib/hooks.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const POLL_MS = 1500;
const eventNumber = (event) => Number(event.id.split("-").pop());
const isStep = (e) => e.type === "metrics" && e.data && typeof e.data.step === "number" && e.data.resumed_from_step === undefined;

function lossSeries(events) {
  const sorted = events.filter(isStep).sort((a, b) => a.data.step - b.data.step);
  const points = (key) => sorted.filter((e) => typeof e.data[key] === "number").map((e) => ({ x: e.data.step, y: e.data[key] }));
  return [
    { name: t("job.training_loss"), points: points("train_loss") },
    { name: t("job.validation_loss"), points: points("val_loss") },
  ].filter((s, i) => i === 0 || s.points.length);
}

function latestMetrics(events) {
  return events.find((e) => e.type === "metrics" && e.data && e.data.total_steps) || null;
}

/**
 * Tokens per second: the trainer's own figure for its latest steps; where an event lacks it
 * (a resume), trained tokens over the time since training began. Null while unknown: never
 * "0 tok/s" for a job that has trained.
 */
export function trainingSpeed(events) {
  const step = events.find((e) => isStep(e) && e.data.tokens_per_s > 0);
  if (step) return step.data.tokens_per_s;
  const last = events.find((e) => isStep(e) && e.data.trained_tokens > 0);
  const began = events.find((e) => e.data && e.data.phase === "training");
  if (!last || !began) return null;
  const seconds = last.created_at - began.created_at;
  return seconds > 0 ? last.data.trained_tokens / seconds : null;
}

function Controls({ job, onChange }) {
  const toast = useToast();
  const confirm = useConfirm();
  const [busy, run] = useAction(toast.error);
  const DONE = { pause: () => t("job.paused_toast"), resume: () => t("job.resumed_toast"), cancel: () => t("job.cancelled_toast") };
  const act = (verb) => () =>
    run(async () => {
      if (verb === "cancel" && !(await confirm({ title: t("job.cancel_title"), body: t("job.cancel_body"), confirm: t("job.cancel_yes"), cancel: t("job.cancel_no"), danger: true }))) return;
      onChange(await post(`/v1/fine_tuning/jobs/${job.id}/${verb}`));
      toast.ok(DONE[verb]());
    });
  if (TERMINAL.has(job.status)) return null;
  return (
    <>
      {job.status === "paused" ? (
        <button type="button" onClick={act("resume")} disabled={busy}>
          {t("job.resume")}
        </button>
      ) : (
        <button type="button" class="secondary" onClick={act("pause")} disabled={busy}>
          {t("job.pause")}
        </button>
      )}
      <button type="button" class="danger" onClick={act("cancel")} disabled={busy}>
        {t("job.cancel")}
      </button>
    </>
  );
}

// The server writes its events in English; the ones it writes are known, so each is shown in
// the reader's language (a literal key each). Anything else shows as written.
const EVENT_TEXTS = [
  [/^Created fine-tuning job (\S+)$/, (m) => t("job.ev_created", { id: m[1] })],
  [/^Files validated: (\d+) training examples?(?:, (\d+) validation examples?)?$/, (m) =>
    m[2] ? t("job.ev_validated_both", { train: m[1], validation: m[2] }) : t("job.ev_validated", { train: m[1] })],
  [/^Fine-tuning started$/, () => t("job.ev_started")],
  [/^Checkpoint saved at step (\d+)$/, (m) => t("job.ev_checkpoint", { step: m[1] })],
  [/^Checkpoint at step (\d+) published as (\S+)$/, (m) => t("job.ev_checkpoint_published", { step: m[1], model: m[2] })],
  [/^New fine-tuned model created: (\S+)$/, (m) => t("job.ev_model_created", { model: m[1] })],
  [/^The job has successfully completed$/, () => t("job.ev_succeeded")],
  [/^Job cancelled$/, () => t("job.ev_cancelled")],
  [/^Pause requested; training stops at the next checkpoint$/, () => t("job.ev_pause_requested")],
  [/^Job resumed$/, () => t("job.ev_resumed")],
  [/^Job failed: (.*)$/s, (m) => t("job.ev_failed", { message: m[1] })],
];

function stepText(data) {
  if (data.resumed_from_step !== undefined) return t("job.ev_resumed_from", { step: data.resumed_from_step });
  const parts = [t("job.ev_step", { step: data.step, total: data.total_steps ?? "?" })];
  if (typeof data.train_loss === "number") parts.push(t("job.ev_train_loss", { loss: num(data.train_loss, 4) }));
  if (typeof data.val_loss === "number") parts.push(t("job.ev_val_loss", { loss: num(data.val_loss, 4) }));
  return parts.join(" · ");
}

export function eventText(e) {
  if (e.data && e.data.phase) return t("job.phase_event", { phase: phaseName(e.data.phase) });
  if (e.type === "metrics" && e.data && typeof e.data.step === "number") return stepText(e.data);
  for (const [pattern, text] of EVENT_TEXTS) {
    const found = pattern.exec(e.message);
    if (found) return text(found);
  }
  return e.message;
}

function Events({ events }) {
  if (!events.length) return <Empty title={t("job.no_events")} />;
  return (
    <ol class="events" aria-label={t("job.events_label")}>
      {events.slice(0, 200).map((e) => (
        <li key={e.id} class={`event event-${e.level}`}>
          <time>{when(e.created_at)}</time> <span>{eventText(e)}</span>
        </li>
      ))}
    </ol>
  );
}

function Overview({ job, latest, speed, live }) {
  const h = job.hyperparameters || {};
  const lora = (job.method && job.method.lora) || {};
  const auto = t("job.auto");
  const eta = live && latest && typeof latest.data.eta_s === "number" ? latest.data.eta_s : null;
  return (
    <div class="stats-grid">
      <Stat label={t("job.stat_status")} value={<StatusBadge status={job.status} />} />
      <Stat label={t("job.stat_base")} value={job.model} />
      <Stat label={t("job.stat_trained_tokens")} value={num(job.trained_tokens ?? (latest && latest.data.trained_tokens))} />
      <Stat label={t("job.stat_hyper")} value={`${h.n_epochs ?? auto} · ${h.batch_size ?? auto} · ${h.learning_rate_multiplier ?? auto}`} />
      <Stat label={t("job.stat_lora")} value={Object.keys(lora).length ? Object.entries(lora).map(([k, v]) => `${k}=${v}`).join(", ") : auto} />
      {speed !== null && (
        <div data-testid="job-speed">
          <Stat label={t("job.stat_speed")} value={t("job.speed", { n: num(Math.round(speed)) })} hint={eta !== null ? t("job.eta", { time: duration(eta) }) : null} />
        </div>
      )}
    </div>
  );
}

function JobView({ initial }) {
  const [job, setJob] = useState(initial);
  const [events, setEvents] = useState(null);
  const [tick, setTick] = useState(0);
  const seen = useRef(new Map());
  const merge = (rows) => {
    for (const e of rows) seen.current.set(e.id, e);
    setEvents([...seen.current.values()].sort((a, b) => eventNumber(b) - eventNumber(a)));
  };
  useEffect(() => {
    getAll(`/v1/fine_tuning/jobs/${job.id}/events`).then(merge, () => setEvents([]));
  }, [job.id]);
  const live = !TERMINAL.has(job.status);
  usePoll(
    async () => {
      const [fresh, page] = await Promise.all([get(`/v1/fine_tuning/jobs/${job.id}`), get(`/v1/fine_tuning/jobs/${job.id}/events?limit=100`)]);
      merge(page.data);
      if (fresh.status !== job.status) setTick((n) => n + 1);
      setJob(fresh);
    },
    POLL_MS,
    live,
  );
  const latest = events && latestMetrics(events);
  const series = events ? lossSeries(events) : [];
  const speed = events ? trainingSpeed(events) : null;
  // The list is read again when a checkpoint is saved (its event) or the status changes.
  const saved = events ? events.filter((e) => e.type !== "metrics" && e.data && typeof e.data.step === "number").length : 0;
  const changed = (fresh) => {
    setJob(fresh);
    setTick((n) => n + 1);
  };
  const phase = live && job.status !== "paused" ? job.phase || latestPhase(events) : null;
  const subtitle = job.finished_at ? t("job.subtitle_finished", { created: when(job.created_at), finished: when(job.finished_at) }) : t("job.subtitle", { created: when(job.created_at) });
  return (
    <Page title={job.suffix ? t("job.title_suffix", { id: job.id, suffix: job.suffix }) : t("job.title", { id: job.id })} subtitle={subtitle} actions={<Controls job={job} onChange={changed} />}>
      <div class="status-line" role="status" aria-live="polite" data-testid="job-status" data-status={job.status}>
        <StatusBadge status={job.status} />
        {latest && live && <Progress label={t("job.steps_label")} value={latest.data.step} max={latest.data.total_steps} />}
        {job.fine_tuned_model && (
          <span>
            {t("job.fine_tuned_model")} <Copyable value={job.fine_tuned_model} />
          </span>
        )}
      </div>
      {phase && <Phases current={phase} />}
      {job.error && (
        <div class="state error" role="alert">
          <strong>{t("job.failed")}</strong>
          <div>{job.error.message || String(job.error)}</div>
        </div>
      )}
      <Overview job={job} latest={latest} speed={speed} live={live} />
      <Panel title={t("job.loss")}>
        {events === null ? (
          <p class="muted">{t("job.loading")}</p>
        ) : series[0].points.length ? (
          <div data-testid="loss-chart">
            <LineChart series={series} label={t("job.loss_chart_label")} xLabel={t("job.step_axis")} yLabel={t("job.loss_axis")} integerX />
          </div>
        ) : (
          <Empty title={live ? (phase ? t("job.before_first_step", { phase: phaseName(phase) }) : t("job.waiting_first_step")) : t("job.no_steps")} />
        )}
      </Panel>
      {job.status === "succeeded" && job.fine_tuned_model && (
        <Panel title={t("job.try_title", { model: job.fine_tuned_model })}>
          <TryIt model={job.fine_tuned_model} base={job.model} />
        </Panel>
      )}
      <div class="two-col">
        <Panel title={t("job.events")}>{events === null ? <p class="muted">{t("job.loading")}</p> : <Events events={events} />}</Panel>
        <Panel title={t("job.checkpoints")}>
          <Checkpoints jobId={job.id} finished={TERMINAL.has(job.status)} tick={`${tick}-${saved}`} />
        </Panel>
      </div>
    </Page>
  );
}

export function Job({ id }) {
  const job = useAsync((signal) => get(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}`, { signal }), [id]);
  return <Async state={job}>{(data) => <JobView key={data.id} initial={data} />}</Async>;
}
