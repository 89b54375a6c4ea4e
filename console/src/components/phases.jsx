// What a fine-tuning job is doing before and between its steps: the phases the worker
// writes as events (data.phase), shown as a row of steps with the current one marked.
import { t } from "../lib/i18n.js";

export const PHASES = ["queued", "loading_base", "tokenizing", "training", "saving", "publishing"];

// Literal keys (the message catalogs are checked for every key the sources name).
const NAMES = {
  queued: () => t("job.phase_queued"),
  loading_base: () => t("job.phase_loading_base"),
  tokenizing: () => t("job.phase_tokenizing"),
  training: () => t("job.phase_training"),
  saving: () => t("job.phase_saving"),
  publishing: () => t("job.phase_publishing"),
};

export const phaseName = (phase) => (NAMES[phase] ? NAMES[phase]() : phase);

/** The latest phase among `events` (newest first), or null. */
export function latestPhase(events) {
  const found = (events || []).find((e) => e.data && PHASES.includes(e.data.phase));
  return found ? found.data.phase : null;
}

export function Phases({ current }) {
  const at = PHASES.indexOf(current);
  return (
    <ol class="phases" aria-label={t("job.phases_label")} data-testid="job-phases" data-phase={current || ""}>
      {PHASES.map((phase, i) => (
        <li key={phase} class={i < at ? "phase done" : i === at ? "phase current" : "phase"} aria-current={i === at ? "step" : undefined}>
          {phaseName(phase)}
        </li>
      ))}
    </ol>
  );
}
