// Who the key is (`GET /v1/me`), and what the console may show it: pages follow role and scopes.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { get } from "./api.js";
import { t } from "./i18n.js";

// Role and scope names as a reader sees them. One literal key each, never a key built from
// the name, so the messages test finds them all; a name the console does not know shows as sent.
const ROLE_NAMES = {
  admin: () => t("common.role_admin"),
  tenant_admin: () => t("common.role_tenant_admin"),
  member: () => t("common.role_member"),
  provider: () => t("common.role_provider"),
};
const SCOPE_NAMES = {
  models: () => t("common.scope_models"),
  chat: () => t("common.scope_chat"),
  completions: () => t("common.scope_completions"),
  embeddings: () => t("common.scope_embeddings"),
  files: () => t("common.scope_files"),
  fine_tuning: () => t("common.scope_fine_tuning"),
  evaluations: () => t("common.scope_evaluations"),
  usage: () => t("common.scope_usage"),
  keys: () => t("common.scope_keys"),
  audit: () => t("common.scope_audit"),
  admin: () => t("common.scope_admin"),
};

/** A role's name in the reader's language: "tenant_admin" -> "tenant admin" / "租户管理员". */
export const roleName = (role) => (ROLE_NAMES[role] ? ROLE_NAMES[role]() : String(role || "").replace(/_/g, " "));

/** A scope's name in the reader's language: "fine_tuning" -> "fine-tuning" / "模型微调". */
export const scopeName = (scope) => (SCOPE_NAMES[scope] ? SCOPE_NAMES[scope]() : String(scope || ""));

export const SessionContext = createContext(null);
export const useSession = () => useContext(SessionContext);

export function identity(me) {
  const scopes = new Set(me.scopes || []);
  return {
    role: me.role,
    tenant: me.tenant,
    tenantId: me.tenant_id,
    keyId: me.key_id,
    scopes: me.scopes || [],
    allowedModels: me.allowed_models,
    readOnly: me.read_only,
    expiresAt: me.expires_at,
    // role -> the scopes it can hold, for each role this key may give a new key (weakest first);
    // the server's own table (`tenancy/roles.py`), so the console keeps no copy of it.
    grantable: me.grantable_roles || {},
    isAdmin: me.role === "admin" && scopes.has("admin"),
    isProvider: me.role === "provider",
    can: (scope) => scopes.has(scope),
  };
}

export async function loadIdentity(signal) {
  return identity(await get("/v1/me", { signal }));
}
