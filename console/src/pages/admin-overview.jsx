// Platform admin: where an admin lands. The platform at a glance (tenants with their keys and
// this month's usage, providers and their models, models not ready, the audit chain), then the
// machine this server runs on and the number formats it serves, evaluates and trains in.
// Serving (the gateway's copy) and evaluations (the job worker's copy, items sent in batches) may differ.
import { Async, Badge, Empty, Page, Panel, Stat } from "../components/ui.jsx";
import { get } from "../lib/api.js";
import { money, msOf, num, when } from "../lib/format.js";
import { useAsync } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";
import { href } from "../lib/router.js";

// The four kinds of work measured (hardware/probe.py), in the order a request meets them.
const WORK = [
  ["prefill", () => t("admin.work_prefill"), () => t("admin.work_prefill_unit")],
  ["decode", () => t("admin.work_decode"), () => t("admin.work_decode_unit")],
  ["batched_decode", () => t("admin.work_batched"), () => t("admin.work_batched_unit")],
  ["train", () => t("admin.work_train"), () => t("admin.work_train_unit")],
];
const FORMATS = ["float32", "bfloat16"];

function configured(value) {
  return value === "auto" ? t("admin.configured_auto") : t("admin.configured_explicit", { value });
}

function Machine({ system }) {
  const cpu = system.number_formats && system.number_formats.cpu;
  const overrides = cpu ? Object.entries(cpu.isa_overrides || {}) : [];
  return (
    <Panel title={t("admin.machine")}>
      {cpu ? (
        <p data-testid="cpu-description">{cpu.description}</p>
      ) : (
        <p class="muted">{t("admin.cpu_pending")}</p>
      )}
      <div class="stats-grid">
        {cpu && <Stat label="PyTorch" value={cpu.torch_version} hint={t("admin.kernels", { capability: cpu.torch_capability })} />}
        <Stat label={t("admin.cores")} value={num(system.cores_available)} hint={t("admin.cores_hint")} />
        <Stat label={t("admin.torch_threads")} value={num(system.torch_threads)} hint={t("admin.torch_threads_hint")} />
        <Stat label={t("admin.worker_nice")} value={num(system.worker_nice)} hint={t("admin.worker_nice_hint")} />
        <Stat label="modelyard" value={system.version} />
      </div>
      {cpu && (
        <div class="overview-flags">
          <span class="muted small">{t("admin.isa_intro")}</span>
          {cpu.flags.length ? (
            <ul class="tags" data-testid="cpu-flags">
              {cpu.flags.map((flag) => (
                <li key={flag}>{flag}</li>
              ))}
            </ul>
          ) : (
            <span class="small">{t("admin.none")}</span>
          )}
          {overrides.length > 0 && (
            <span class="small">{t("admin.overridden", { list: overrides.map(([name, value]) => `${name}=${value}`).join(", ") })}</span>
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
        <caption class="sr-only">{t("admin.figures_caption")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("admin.work")}</th>
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
                {label()} <span class="muted small">{unit()}</span>
              </td>
              {FORMATS.map((f) => (
                <td class="num" key={f} data-format={f}>
                  {choice.fastest[kind] === f && <Badge tone="ok">{t("admin.faster")}</Badge>} {msOf(choice.figures[kind][f])}
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
      <p class="hint">{t("admin.figures_hint")}</p>
      <p data-testid="serve-reason">
        {t("admin.best_serving")} <strong>{choice.serve}</strong>, {t("admin.because", { reason: choice.serve_reason })}
      </p>
      {choice.batch_reason && (
        <p data-testid="batch-reason">
          {t("admin.best_evaluations")} <strong>{choice.batch}</strong>, {t("admin.because", { reason: choice.batch_reason })}
        </p>
      )}
      <p class="muted small" data-testid="measured-at">
        {t("admin.measured_at", { when: when(report.measured_at) })}{" "}
        {report.from_cache ? <Badge>{t("admin.from_cache")}</Badge> : <Badge tone="info">{t("admin.measured_here")}</Badge>}{" "}
        {report.from_cache && t("admin.cache_note", { file: report.cache_file })}
      </p>
    </>
  );
}

function Formats({ system }) {
  const report = system.number_formats;
  return (
    <Panel title={t("admin.number_formats")}>
      <div class="stats-grid">
        <Stat
          label={t("admin.serving")}
          value={<span data-testid="serving-dtype">{system.serving_dtype}</span>}
          hint={configured(system.configured.torch_dtype)}
        />
        <Stat
          label={t("admin.evaluations")}
          value={<span data-testid="evaluation-dtype">{system.evaluation_dtype}</span>}
          hint={configured(system.configured.torch_dtype)}
        />
        <Stat
          label={t("admin.training")}
          value={<span data-testid="training-dtype">{system.training_dtype}</span>}
          hint={configured(system.configured.train_dtype)}
        />
      </div>
      {report ? (
        <Measured report={report} />
      ) : (
        <Empty title={t("admin.not_measured")}>{t("admin.not_measured_body")}</Empty>
      )}
    </Panel>
  );
}

function Tenants({ tenants, since }) {
  return (
    <Panel title={t("admin.tenants")}>
      {tenants.length ? (
        <div class="table-wrap">
          <table data-testid="overview-tenants">
            <caption class="sr-only">{t("admin.tenants_caption", { since: when(since) })}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.tenant")}</th>
                <th scope="col" class="num">{t("admin.keys")}</th>
                <th scope="col" class="num">{t("admin.requests")}</th>
                <th scope="col" class="num">{t("admin.tokens")}</th>
                <th scope="col" class="num">{t("admin.cost")}</th>
              </tr>
            </thead>
            <tbody>
              {tenants.map((tenant) => (
                <tr key={tenant.id} data-tenant={tenant.name}>
                  <td>
                    <a href={href("/admin/tenants")}>{tenant.name}</a>
                  </td>
                  <td class="num">{num(tenant.keys)}</td>
                  <td class="num">{num(tenant.usage.requests)}</td>
                  <td class="num">{num(tenant.usage.prompt_tokens + tenant.usage.completion_tokens)}</td>
                  <td class="num">{money(tenant.usage.cost)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <Empty title={t("admin.no_tenants")} />
      )}
      <p class="hint small">{t("admin.usage_since", { since: when(since) })}</p>
    </Panel>
  );
}

function Providers({ providers }) {
  return (
    <Panel title={t("admin.providers_count", { count: providers.length, n: num(providers.length) })}>
      <ul class="overview-providers" data-testid="overview-providers">
        {providers.map((provider) => (
          <li key={provider.name} data-provider={provider.name}>
            <strong>{provider.name}</strong>{" "}
            <span class="muted small">{t("admin.models_count", { count: provider.models.length, n: num(provider.models.length) })}</span>
            <ul class="tags">
              {provider.models.map((id) => (
                <li key={id}>{id}</li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
      <p class="small">
        <a href={href("/admin/providers")}>{t("admin.manage_providers")}</a>
      </p>
    </Panel>
  );
}

function Health({ models, audit }) {
  const waiting = models.importing + models.loading;
  return (
    <Panel title={t("admin.health")}>
      <div class="stats-grid">
        <Stat label={t("admin.models_ready")} value={num(models.ready)} hint={waiting ? t("admin.models_waiting", { n: num(waiting) }) : undefined} />
        <Stat label={t("admin.models_failed")} value={num(models.failed)} />
        <Stat
          label={t("admin.audit_chain")}
          value={
            <span data-testid="audit-chain">
              {audit.ok ? <Badge tone="ok">{t("admin.audit_ok")}</Badge> : <Badge tone="bad">{t("admin.audit_broken", { seq: audit.bad_seq })}</Badge>}
            </span>
          }
          hint={audit.ok ? t("admin.audit_entries", { count: audit.count, n: num(audit.count) }) : audit.reason}
        />
      </div>
      <p class="small">
        <a href={href("/admin/audit")}>{t("admin.open_audit")}</a>
      </p>
    </Panel>
  );
}

function Platform({ overview }) {
  return (
    <>
      <Tenants tenants={overview.tenants} since={overview.month_start} />
      <div class="overview-row">
        <Health models={overview.models} audit={overview.audit} />
        <Providers providers={overview.providers} />
      </div>
    </>
  );
}

/** `GET /v1/admin/overview`, then `GET /v1/admin/system` (asking measures the machine if nothing has yet: about a second). */
export function Overview() {
  const overview = useAsync((signal) => get("/v1/admin/overview", { signal }), []);
  const system = useAsync((signal) => get("/v1/admin/system", { signal }), []);
  return (
    <Page title={t("admin.overview_title")} subtitle={t("admin.overview_subtitle")}>
      <Async state={overview}>{(data) => <Platform overview={data} />}</Async>
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
