// Who the key is (`GET /v1/me`), and what the console may show it: pages follow role and scopes.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { get } from "./api.js";

export const SessionContext = createContext(null);
export const useSession = () => useContext(SessionContext);

/** The scopes a key may hold (`tenancy/roles.py` SCOPES, less `admin`, which only the admin role has). */
export const SCOPES = [
  "models",
  "chat",
  "completions",
  "embeddings",
  "files",
  "fine_tuning",
  "evaluations",
  "usage",
  "keys",
  "audit",
];

/** What each role may hold (`ROLE_SCOPES`): a key's scopes narrow its role's. */
const INFERENCE = ["models", "chat", "completions", "embeddings"];
const TENANT_WORK = [...INFERENCE, "files", "fine_tuning", "evaluations", "usage"];
export const ROLE_SCOPES = {
  admin: [...SCOPES, "admin"],
  tenant_admin: [...TENANT_WORK, "keys", "audit"],
  member: [...TENANT_WORK, "audit"],
  provider: [...INFERENCE, "usage"],
};

/** The roles a key of each role may hand out (`GRANTABLE_ROLES`). */
export const GRANTABLE = {
  admin: ["member", "tenant_admin", "provider", "admin"],
  tenant_admin: ["member", "tenant_admin"],
  member: [],
  provider: [],
};

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
    isAdmin: me.role === "admin" && scopes.has("admin"),
    isProvider: me.role === "provider",
    can: (scope) => scopes.has(scope),
  };
}

export async function loadIdentity(signal) {
  return identity(await get("/v1/me", { signal }));
}
