// The frame: sidebar navigation (only the pages the key may open), a header with tenant and role.
import { when } from "../lib/format.js";
import { useSession } from "../lib/session.js";

/**
 * Every page of the sidebar and what it needs: a scope of the key (`scope`), the provider
 * role (`provider`), or a platform admin key (`admin`). A page the key cannot use is hidden.
 */
export const NAV = [
  { path: "/plaza", label: "Model plaza", scope: "models" },
  { path: "/playground", label: "Playground", scope: "chat" },
  { path: "/datasets", label: "Datasets", scope: "files" },
  { path: "/fine-tuning", label: "Fine-tuning", scope: "fine_tuning" },
  { path: "/evaluations", label: "Evaluations", scope: "evaluations" },
  { path: "/usage", label: "Usage & cost", scope: "usage" },
  { path: "/provider-usage", label: "Provider usage", scope: "usage", provider: true },
  { path: "/keys", label: "API keys", scope: "keys" },
  { path: "/activity", label: "Activity", scope: "audit", notAdmin: true },
  { path: "/admin/overview", label: "Overview", admin: true },
  { path: "/admin/tenants", label: "Tenants", admin: true },
  { path: "/admin/providers", label: "Providers", admin: true },
  { path: "/admin/audit", label: "Audit log", admin: true },
];

/** Whether the session may open a page: `{scope?, admin?, provider?}`. */
export function allowed(session, item) {
  if (item.admin) return session.isAdmin;
  if (item.provider && !session.isProvider) return false;
  if (item.notAdmin && session.isAdmin) return false;
  return !item.scope || session.can(item.scope);
}

export function visibleNav(session) {
  return NAV.filter((item) => allowed(session, item));
}

function NavLink({ item, path }) {
  const active = path === item.path || path.startsWith(`${item.path}/`);
  return (
    <li>
      <a href={`#${item.path}`} class={active ? "active" : ""} aria-current={active ? "page" : undefined}>
        {item.label}
      </a>
    </li>
  );
}

export function Layout({ path, onSignOut, children }) {
  const session = useSession();
  const items = visibleNav(session);
  const admin = items.filter((i) => i.admin);
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main").focus())}>
        Skip to content
      </a>
      <aside class="sidebar">
        <div class="brand">
          <span class="logo" aria-hidden="true">◆</span> modelyard
        </div>
        <nav aria-label="Console">
          <ul>
            {items
              .filter((i) => !i.admin)
              .map((item) => (
                <NavLink key={item.path} item={item} path={path} />
              ))}
          </ul>
          {admin.length > 0 && (
            <>
              <div class="nav-section">Platform admin</div>
              <ul>
                {admin.map((item) => (
                  <NavLink key={item.path} item={item} path={path} />
                ))}
              </ul>
            </>
          )}
        </nav>
      </aside>
      <div class="main-col">
        <header class="topbar">
          <div class="who" data-testid="who">
            <span class="muted">Tenant</span> <strong data-testid="who-tenant">{session.tenant}</strong>
            <span class={`role role-${session.role}`} data-testid="who-role">
              {session.role.replace("_", " ")}
            </span>
            {session.readOnly && <span class="role">read-only</span>}
            {session.expiresAt && <span class="muted small">key expires {when(session.expiresAt)}</span>}
          </div>
          <button type="button" class="secondary" onClick={onSignOut}>
            Sign out
          </button>
        </header>
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
