// A freshly issued key, shown once with a copy button; gone from the page once dismissed.
import { when } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { roleName, scopeName } from "../lib/session.js";
import { Copyable } from "./ui.jsx";

export function NewKey({ issued, onDone }) {
  if (!issued) return null;
  const scopes = issued.scopes && issued.scopes.length ? issued.scopes.map(scopeName).join(", ") : t("admin.newkey_no_scopes");
  return (
    <div class="new-key" role="alert" data-testid="new-key">
      <div>
        <strong>{t("admin.newkey_copy_now")}</strong>
        <div class="muted small">
          {issued.name || t("admin.unnamed")} · {issued.tenant} · {roleName(issued.role)} · {scopes}
          {issued.read_only ? ` · ${t("admin.read_only")}` : ""} ·{" "}
          {issued.expires_at ? t("admin.newkey_expires", { when: when(issued.expires_at) }) : t("admin.newkey_never_expires")}
        </div>
      </div>
      <Copyable value={issued.key} label={t("admin.newkey_copy_label")} />
      <button type="button" class="secondary small" onClick={onDone}>
        {t("admin.newkey_copied")}
      </button>
    </div>
  );
}

// The admin tenants page imports the role names from here with the banner.
export { roleName };
