// Who the key is (`GET /v1/me`), and what the console may show it: pages follow role and scopes.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { get } from "./api.js";

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
