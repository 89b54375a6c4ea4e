// The building blocks every page shares: page frame, loading/empty/error states, fields, badges.
import { useEffect, useId, useRef, useState } from "preact/hooks";

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

export function Loading({ label = "Loading…" }) {
  return (
    <div class="state loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label}
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
        <strong>Not available on this server yet</strong>
        <div class="muted">This page needs an API this modelyard version does not have.</div>
      </div>
    );
  }
  const forbidden = error.status === 403;
  return (
    <div class="state error" role="alert">
      <strong>{forbidden ? "Your key may not do this" : "Something went wrong"}</strong>
      <div>{error.message}</div>
      {onRetry && !forbidden && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Loading, error, empty or the content, from a `useAsync` state. */
export function Async({ state, empty, emptyTitle = "Nothing here yet", children }) {
  if (state.loading && state.data === undefined) return <Loading />;
  if (state.error) return <ErrorNote error={state.error} onRetry={state.reload} />;
  if (state.data === undefined) return <Loading />;
  const isEmpty = Array.isArray(state.data) ? state.data.length === 0 : false;
  if (isEmpty && (empty || emptyTitle)) return <Empty title={emptyTitle}>{empty}</Empty>;
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
  return <Badge tone={STATUS_TONE[status] || "muted"}>{String(status).replace(/_/g, " ")}</Badge>;
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
        {format(value)} / {max === null || max === undefined ? "?" : format(max)}
      </span>
    </div>
  );
}

export function Copyable({ value, label = `Copy ${value}` }) {
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
      <button type="button" class="link small" aria-label={label} onClick={copy}>
        {copied ? "copied" : "copy"}
      </button>
    </span>
  );
}
