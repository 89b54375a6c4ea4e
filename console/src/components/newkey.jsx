// A freshly issued key, shown once with a copy button; gone from the page once dismissed.
import { when } from "../lib/format.js";
import { Copyable } from "./ui.jsx";

export function NewKey({ issued, onDone }) {
  if (!issued) return null;
  const scopes = issued.scopes && issued.scopes.length ? issued.scopes.join(", ") : "no scopes";
  return (
    <div class="new-key" role="alert" data-testid="new-key">
      <div>
        <strong>Copy this key now: it is shown only once.</strong>
        <div class="muted small">
          {issued.name || "unnamed"} · {issued.tenant} · {issued.role.replace("_", " ")} · {scopes}
          {issued.read_only ? " · read-only" : ""} · {issued.expires_at ? `expires ${when(issued.expires_at)}` : "never expires"}
        </div>
      </div>
      <Copyable value={issued.key} label="Copy the new key" />
      <button type="button" class="secondary small" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}
