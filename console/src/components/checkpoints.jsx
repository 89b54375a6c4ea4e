// A job's stored checkpoints; once the job has finished (or was cancelled), each can be
// published as a model of the tenant (POST .../checkpoints/{step}/publish).
import { useToast } from "./toast.jsx";
import { Async, Badge } from "./ui.jsx";
import { get, post } from "../lib/api.js";
import { href } from "../lib/router.js";
import { t } from "../lib/i18n.js";
import { num, when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";

function metricsText(metrics) {
  return Object.entries(metrics)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => `${k} ${num(+v.toPrecision(4))}`)
    .join(" · ");
}

export function Checkpoints({ jobId, tick, finished }) {
  const toast = useToast();
  const [busy, run] = useAction(toast.error);
  const checkpoints = useAsync((signal) => get(`/v1/fine_tuning/jobs/${jobId}/checkpoints?limit=100`, { signal }).then((p) => p.data), [jobId, tick]);
  const publish = (c) =>
    run(async () => {
      const done = await post(`/v1/fine_tuning/jobs/${jobId}/checkpoints/${c.step_number}/publish`);
      toast.ok(t("job.published_toast", { model: done.model }));
      checkpoints.reload();
    });
  return (
    <Async state={checkpoints} emptyTitle={t("job.no_checkpoints")} empty={t("job.no_checkpoints_hint")}>
      {(data) => (
        <>
          {finished ? <p class="hint">{t("job.publish_hint")}</p> : <p class="hint">{t("job.publish_later")}</p>}
          <div class="table-wrap">
            <table data-testid="checkpoints">
              <thead>
                <tr>
                  <th scope="col" class="num">{t("job.col_step")}</th>
                  <th scope="col">{t("job.col_checkpoint")}</th>
                  <th scope="col">{t("job.col_metrics")}</th>
                  <th scope="col">{t("job.col_saved")}</th>
                  <th scope="col">
                    <span class="sr-only">{t("job.col_actions")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.map((c) => (
                  <tr key={c.id} data-step={c.step_number}>
                    <td class="num">{num(c.step_number)}</td>
                    <td class="clip">{c.fine_tuned_model_checkpoint}</td>
                    <td class="small">{metricsText(c.metrics)}</td>
                    <td>{when(c.created_at)}</td>
                    <td class="row-actions">
                      {c.published ? (
                        <>
                          <Badge tone="ok">{t("job.published")}</Badge>{" "}
                          <a class="small" href={href("/playground", { model: c.fine_tuned_model_checkpoint })}>
                            {t("job.try_in_playground")}
                          </a>
                        </>
                      ) : (
                        finished && (
                          <button
                            type="button"
                            class="small"
                            disabled={busy}
                            onClick={() => publish(c)}
                            aria-label={t("job.publish_step", { step: c.step_number })}
                          >
                            {t("job.publish")}
                          </button>
                        )
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Async>
  );
}
