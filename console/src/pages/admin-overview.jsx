// Platform admin: the machine this server runs on and the number formats it serves, evaluates and trains in.
// Serving (the gateway's copy) and evaluations (the job worker's copy, items sent in batches) may differ.
import { Async, Badge, Empty, Page, Panel, Stat } from "../components/ui.jsx";
import { get } from "../lib/api.js";
import { msOf, num, whenZoned } from "../lib/format.js";
import { useAsync } from "../lib/hooks.js";

// The four kinds of work measured (hardware/probe.py), in the order a request meets them.
const WORK = [
  ["prefill", "Prefill", "per prompt token"],
  ["decode", "Decoding, one stream", "per new token"],
  ["batched_decode", "Decoding, 8 streams batched", "per step of 8 rows"],
  ["train", "LoRA training", "per training token"],
];
const FORMATS = ["float32", "bfloat16"];

function configured(value) {
  return value === "auto" ? "configured: auto (the faster here)" : `configured: ${value} (set explicitly)`;
}

function Machine({ system }) {
  const cpu = system.number_formats && system.number_formats.cpu;
  const overrides = cpu ? Object.entries(cpu.isa_overrides || {}) : [];
  return (
    <Panel title="Machine">
      {cpu ? (
        <p data-testid="cpu-description">{cpu.description}</p>
      ) : (
        <p class="muted">The CPU is described once the number formats are measured (see below).</p>
      )}
      <div class="stats-grid">
        {cpu && <Stat label="PyTorch" value={cpu.torch_version} hint={`${cpu.torch_capability} kernels`} />}
        <Stat label="Cores" value={num(system.cores_available)} hint="this process may run on" />
        <Stat label="Torch threads" value={num(system.torch_threads)} hint="for serving and training" />
        <Stat label="Worker niceness" value={num(system.worker_nice)} hint="training yields the CPU to requests" />
        <Stat label="modelyard" value={system.version} />
      </div>
      {cpu && (
        <div class="overview-flags">
          <span class="muted small">Instruction sets that decide the speed of float32 and bfloat16:</span>
          {cpu.flags.length ? (
            <ul class="tags" data-testid="cpu-flags">
              {cpu.flags.map((flag) => (
                <li key={flag}>{flag}</li>
              ))}
            </ul>
          ) : (
            <span class="small">none</span>
          )}
          {overrides.length > 0 && (
            <span class="small">overridden: {overrides.map(([name, value]) => `${name}=${value}`).join(", ")}</span>
          )}
        </div>
      )}
    </Panel>
  );
}

function Figures({ choice }) {
  return (
    <div class="table-wrap">
      <table data-testid="format-figures">
        <caption class="sr-only">Milliseconds per token of Gemma 3 270M in float32 and bfloat16</caption>
        <thead>
          <tr>
            <th scope="col">Work</th>
            {FORMATS.map((f) => (
              <th scope="col" class="num" key={f}>
                {f}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {WORK.map(([kind, label, unit]) => (
            <tr key={kind} data-kind={kind}>
              <td>
                {label} <span class="muted small">{unit}</span>
              </td>
              {FORMATS.map((f) => (
                <td class="num" key={f} data-format={f}>
                  {choice.fastest[kind] === f && <Badge tone="ok">faster</Badge>} {msOf(choice.figures[kind][f])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Measured({ report }) {
  const { choice } = report;
  return (
    <>
      <Figures choice={choice} />
      <p class="hint">
        Milliseconds of Gemma 3 270M's work, the fastest of repeated runs on the threads torch uses. bfloat16 counts as faster
        only by a clear margin: float32's results are exact.
      </p>
      <p data-testid="serve-reason">
        Measured best for serving: <strong>{choice.serve}</strong>, as {choice.serve_reason}.
      </p>
      {choice.batch_reason && (
        <p data-testid="batch-reason">
          Measured best for evaluations: <strong>{choice.batch}</strong>, as {choice.batch_reason}.
        </p>
      )}
      <p class="muted small" data-testid="measured-at">
        Measured {whenZoned(report.measured_at)}{" "}
        {report.from_cache ? (
          <Badge>from the cache</Badge>
        ) : (
          <Badge tone="info">measured by this server</Badge>
        )}{" "}
        {report.from_cache &&
          `Kept in ${report.cache_file} under the hardware folder per CPU and torch version; delete it to measure again.`}
      </p>
    </>
  );
}

function Formats({ system }) {
  const report = system.number_formats;
  return (
    <Panel title="Number formats">
      <div class="stats-grid">
        <Stat
          label="Serving"
          value={<span data-testid="serving-dtype">{system.serving_dtype}</span>}
          hint={configured(system.configured.torch_dtype)}
        />
        <Stat
          label="Evaluations"
          value={<span data-testid="evaluation-dtype">{system.evaluation_dtype}</span>}
          hint={configured(system.configured.torch_dtype)}
        />
        <Stat
          label="Training"
          value={<span data-testid="training-dtype">{system.training_dtype}</span>}
          hint={configured(system.configured.train_dtype)}
        />
      </div>
      {report ? (
        <Measured report={report} />
      ) : (
        <Empty title="Not measured">
          Both formats are set explicitly (MODELYARD_TORCH_DTYPE, MODELYARD_TRAIN_DTYPE), so this machine was not
          measured; set them to auto to have the faster one chosen here.
        </Empty>
      )}
    </Panel>
  );
}

/** `GET /v1/admin/system` (asking measures the machine if nothing has yet: about a second). */
export function Overview() {
  const system = useAsync((signal) => get("/v1/admin/system", { signal }), []);
  return (
    <Page title="Overview" subtitle="The machine this server runs on, and the number formats it serves, evaluates and trains models in.">
      <Async state={system}>
        {(data) => (
          <>
            <Machine system={data} />
            <Formats system={data} />
          </>
        )}
      </Async>
    </Page>
  );
}
