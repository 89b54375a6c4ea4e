// One fine-tuning job: status, live loss chart, events, checkpoints, controls, and a "try it" chat.
import { useEffect, useRef, useState } from "preact/hooks";
import { LineChart } from "../components/charts.jsx";
import { Chat } from "../components/chat.jsx";
import { useToast } from "../components/toast.jsx";
import { Async, Copyable, Empty, Page, Panel, Progress, Stat, StatusBadge } from "../components/ui.jsx";
import { get, getAll, post } from "../lib/api.js";
import { ms, num, when } from "../lib/format.js";
import { useAction, useAsync, usePoll } from "../lib/hooks.js";
import { cardOf, listModels } from "../lib/models.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const POLL_MS = 1500;
const eventNumber = (event) => Number(event.id.split("-").pop());

function lossSeries(events) {
  const metrics = events.filter((e) => e.type === "metrics" && e.data && e.data.step !== undefined);
  const sorted = [...metrics].sort((a, b) => a.data.step - b.data.step);
  const points = (key) => sorted.filter((e) => typeof e.data[key] === "number").map((e) => ({ x: e.data.step, y: e.data[key] }));
  return [
    { name: "training loss", points: points("train_loss") },
    { name: "validation loss", points: points("val_loss") },
  ].filter((s, i) => i === 0 || s.points.length);
}

function latestMetrics(events) {
  return events.find((e) => e.type === "metrics" && e.data && e.data.total_steps) || null;
}

function Controls({ job, onChange }) {
  const toast = useToast();
  const [busy, run] = useAction(toast.error);
  const act = (verb) => () =>
    run(async () => {
      if (verb === "cancel" && !confirm("Cancel this job? It cannot be resumed.")) return;
      onChange(await post(`/v1/fine_tuning/jobs/${job.id}/${verb}`));
      toast.ok(`Job ${verb === "cancel" ? "cancelled" : `${verb}d`}`);
    });
  if (TERMINAL.has(job.status)) return null;
  return (
    <>
      {job.status === "paused" ? (
        <button type="button" onClick={act("resume")} disabled={busy}>
          Resume
        </button>
      ) : (
        <button type="button" class="secondary" onClick={act("pause")} disabled={busy}>
          Pause
        </button>
      )}
      <button type="button" class="danger" onClick={act("cancel")} disabled={busy}>
        Cancel
      </button>
    </>
  );
}

function Events({ events }) {
  if (!events.length) return <Empty title="No events yet" />;
  return (
    <ol class="events" aria-label="Job events, newest first">
      {events.slice(0, 200).map((e) => (
        <li key={e.id} class={`event event-${e.level}`}>
          <time>{when(e.created_at)}</time> <span>{e.message}</span>
        </li>
      ))}
    </ol>
  );
}

function Checkpoints({ jobId, tick }) {
  const checkpoints = useAsync((signal) => get(`/v1/fine_tuning/jobs/${jobId}/checkpoints?limit=100`, { signal }).then((p) => p.data), [jobId, tick]);
  return (
    <Async state={checkpoints} emptyTitle="No checkpoints yet" empty="One is written every few steps and at each epoch's end.">
      {(data) => (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col" class="num">Step</th>
                <th scope="col">Checkpoint</th>
                <th scope="col">Metrics</th>
                <th scope="col">Saved</th>
              </tr>
            </thead>
            <tbody>
              {data.map((c) => (
                <tr key={c.id}>
                  <td class="num">{c.step_number}</td>
                  <td class="clip">{c.fine_tuned_model_checkpoint}</td>
                  <td class="small">
                    {Object.entries(c.metrics)
                      .filter(([, v]) => typeof v === "number")
                      .map(([k, v]) => `${k} ${+v.toPrecision(4)}`)
                      .join(" · ")}
                  </td>
                  <td>{when(c.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Async>
  );
}

function Overview({ job, latest }) {
  const h = job.hyperparameters || {};
  const lora = (job.method && job.method.lora) || {};
  return (
    <div class="stats-grid">
      <Stat label="Status" value={<StatusBadge status={job.status} />} />
      <Stat label="Base model" value={job.model} />
      <Stat label="Trained tokens" value={num(job.trained_tokens)} />
      <Stat label="Epochs · batch · LR×" value={`${h.n_epochs ?? "auto"} · ${h.batch_size ?? "auto"} · ${h.learning_rate_multiplier ?? "auto"}`} />
      <Stat label="LoRA" value={Object.keys(lora).length ? Object.entries(lora).map(([k, v]) => `${k}=${v}`).join(", ") : "auto"} />
      {latest && <Stat label="Speed" value={`${num(Math.round(latest.data.tokens_per_s || 0))} tok/s`} hint={latest.data.eta_s ? `about ${ms(latest.data.eta_s * 1000)} left` : null} />}
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
      if (fresh.status !== job.status) setTick((t) => t + 1);
      setJob(fresh);
    },
    POLL_MS,
    live,
  );
  const models = useAsync((signal) => (job.status === "succeeded" ? listModels(signal) : Promise.resolve([])), [job.status]);
  const latest = events && latestMetrics(events);
  const series = events ? lossSeries(events) : [];
  return (
    <Page title={job.suffix ? `${job.id} (${job.suffix})` : job.id} subtitle={`Created ${when(job.created_at)}${job.finished_at ? ` · finished ${when(job.finished_at)}` : ""}`} actions={<Controls job={job} onChange={setJob} />}>
      <div class="status-line" role="status" aria-live="polite" data-testid="job-status" data-status={job.status}>
        <StatusBadge status={job.status} />
        {latest && live && <Progress label="Training steps" value={latest.data.step} max={latest.data.total_steps} />}
        {job.fine_tuned_model && (
          <span>
            Fine-tuned model: <Copyable value={job.fine_tuned_model} />
          </span>
        )}
      </div>
      {job.error && (
        <div class="state error" role="alert">
          <strong>The job failed</strong>
          <div>{job.error.message || String(job.error)}</div>
        </div>
      )}
      <Overview job={job} latest={latest} />
      <Panel title="Loss">
        {events === null ? (
          <p class="muted">Loading…</p>
        ) : series[0].points.length ? (
          <div data-testid="loss-chart">
            <LineChart series={series} label="Training and validation loss by step" xLabel="step" yLabel="loss" />
          </div>
        ) : (
          <Empty title={live ? "Waiting for the first training step…" : "No training steps were recorded"} />
        )}
      </Panel>
      {job.status === "succeeded" && job.fine_tuned_model && (
        <Panel title={`Try ${job.fine_tuned_model}`}>
          <Chat model={job.fine_tuned_model} card={cardOf(models.data, job.fine_tuned_model)} />
        </Panel>
      )}
      <div class="two-col">
        <Panel title="Events">{events === null ? <p class="muted">Loading…</p> : <Events events={events} />}</Panel>
        <Panel title="Checkpoints">
          <Checkpoints jobId={job.id} tick={tick + (latest ? Math.floor(latest.data.step / 10) : 0)} />
        </Panel>
      </div>
    </Page>
  );
}

export function Job({ id }) {
  const job = useAsync((signal) => get(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}`, { signal }), [id]);
  return <Async state={job}>{(data) => <JobView key={data.id} initial={data} />}</Async>;
}
