// The building blocks every page shares: page frame, loading/empty/error states, fields, badges.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { t } from "../lib/i18n.js";

export function Page({ title, subtitle, actions, children }) {
  const heading = useRef(null);
  useEffect(() => {
    document.title = `${title} · modelyard`;
  }, [title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-head">
        <div>
          <h1 id="page-title" ref={heading} tabIndex={-1}>
            {title}
          </h1>
          {subtitle && <p class="muted">{subtitle}</p>}
        </div>
        {actions && <div class="actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Panel({ title, actions, children, class: extra = "" }) {
  return (
    <section class={`panel ${extra}`}>
      {(title || actions) && (
        <header class="panel-head">
          {title && <h2>{title}</h2>}
          {actions && <div class="actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function Loading({ label }) {
  return (
    <div class="state loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label || t("ui.loading")}
    </div>
  );
}

export function Empty({ title, children }) {
  return (
    <div class="state empty">
      <strong>{title}</strong>
      {children && <div class="muted">{children}</div>}
    </div>
  );
}

export function ErrorNote({ error, onRetry }) {
  if (!error) return null;
  if (error.notAvailable) {
    return (
      <div class="state unavailable" role="note">
        <strong>{t("ui.unavailable_title")}</strong>
        <div class="muted">{t("ui.unavailable_body")}</div>
      </div>
    );
  }
  const forbidden = error.status === 403;
  return (
    <div class="state error" role="alert">
      <strong>{forbidden ? t("ui.forbidden") : t("ui.went_wrong")}</strong>
      <div>{error.message}</div>
      {onRetry && !forbidden && (
        <button type="button" onClick={onRetry}>
          {t("ui.try_again")}
        </button>
      )}
    </div>
  );
}

/** Loading, error, empty or the content, from a `useAsync` state. */
export function Async({ state, empty, emptyTitle, children }) {
  if (state.loading && state.data === undefined) return <Loading />;
  if (state.error) return <ErrorNote error={state.error} onRetry={state.reload} />;
  if (state.data === undefined) return <Loading />;
  const isEmpty = Array.isArray(state.data) ? state.data.length === 0 : false;
  const title = emptyTitle === undefined ? t("ui.nothing_yet") : emptyTitle;
  if (isEmpty && (empty || title)) return <Empty title={title}>{empty}</Empty>;
  return children(state.data);
}

export function Field({ label, hint, error, children, class: extra = "" }) {
  const id = useId();
  const described = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  const control = typeof children === "function" ? children({ id, "aria-describedby": described, "aria-invalid": error ? "true" : undefined }) : children;
  return (
    <div class={`field ${extra} ${error ? "invalid" : ""}`}>
      <label for={id}>{label}</label>
      {control}
      {error ? (
        <div class="field-error" id={`${id}-error`}>
          {error}
        </div>
      ) : (
        hint && (
          <div class="hint" id={`${id}-hint`}>
            {hint}
          </div>
        )
      )}
    </div>
  );
}

// A status's name in the reader's language, one literal key each; an unknown one shows as sent.
const STATUS_NAMES = {
  succeeded: () => t("ui.status_succeeded"),
  processed: () => t("ui.status_processed"),
  active: () => t("ui.status_active"),
  running: () => t("ui.status_running"),
  queued: () => t("ui.status_queued"),
  validating_files: () => t("ui.status_validating_files"),
  paused: () => t("ui.status_paused"),
  cancelled: () => t("ui.status_cancelled"),
  failed: () => t("ui.status_failed"),
  error: () => t("ui.status_error"),
  revoked: () => t("ui.status_revoked"),
  uploaded: () => t("ui.status_uploaded"),
  pending: () => t("ui.status_pending"),
  importing: () => t("ui.status_importing"),
  loading: () => t("ui.status_loading"),
  ready: () => t("ui.status_ready"),
  expired: () => t("ui.status_expired"),
  completed: () => t("ui.status_completed"),
  in_progress: () => t("ui.status_in_progress"),
};

/** "validating_files" -> "validating files" / "校验文件中". */
export const statusName = (status) =>
  STATUS_NAMES[status] ? STATUS_NAMES[status]() : String(status).replace(/_/g, " ");

const STATUS_TONE = {
  succeeded: "ok",
  processed: "ok",
  active: "ok",
  running: "info",
  queued: "info",
  validating_files: "info",
  paused: "warn",
  cancelled: "muted",
  failed: "bad",
  error: "bad",
  revoked: "muted",
};

export function Badge({ tone = "muted", children }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function StatusBadge({ status }) {
  return <Badge tone={STATUS_TONE[status] || "muted"}>{statusName(status)}</Badge>;
}

export function Stat({ label, value, hint }) {
  return (
    <div class="stat">
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {hint && <div class="hint">{hint}</div>}
    </div>
  );
}

export function Progress({ value, max, label, format = (v) => v }) {
  const fraction = max ? Math.min(1, value / max) : 0;
  return (
    <div class="progress-wrap">
      <div
        class="progress"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={max || 0}
        aria-valuenow={value}
      >
        <div class="progress-bar" style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
      </div>
      <span class="muted">
        {format(value)} / {max === null || max === undefined ? t("ui.unknown") : format(max)}
      </span>
    </div>
  );
}

export function Copyable({ value, label }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    if (!navigator.clipboard) return;
    navigator.clipboard.writeText(value).then(
      () => (setCopied(true), setTimeout(() => setCopied(false), 2000)),
      () => setCopied(false),
    );
  };
  return (
    <span class="copyable">
      <code>{value}</code>
      <button type="button" class="link small" aria-label={label || t("ui.copy_value", { value })} onClick={copy}>
        {copied ? t("ui.copied") : t("ui.copy")}
      </button>
    </span>
  );
}
