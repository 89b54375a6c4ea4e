// The frame: sidebar navigation (only the pages the key may open), a header with tenant and role.
// On a narrow screen the sidebar is a bar with a menu button that opens the navigation.
import { useEffect, useRef, useState } from "preact/hooks";
import { when } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { roleName, useSession } from "../lib/session.js";
import { LanguageSwitch } from "./language.jsx";

/**
 * Every page of the sidebar and what it needs: a scope of the key (`scope`), the provider
 * role (`provider`), or a platform admin key (`admin`). A page the key cannot use is hidden.
 * `label` is a function: the name is read in the language of the moment it is drawn.
 */
export const NAV = [
  { path: "/plaza", label: () => t("nav.plaza"), scope: "models" },
  { path: "/playground", label: () => t("nav.playground"), scope: "chat" },
  { path: "/datasets", label: () => t("nav.datasets"), scope: "files" },
  { path: "/fine-tuning", label: () => t("nav.fine_tuning"), scope: "fine_tuning" },
  { path: "/evaluations", label: () => t("nav.evaluations"), scope: "evaluations" },
  { path: "/usage", label: () => t("nav.usage"), scope: "usage" },
  { path: "/provider-usage", label: () => t("nav.provider_usage"), scope: "usage", provider: true },
  { path: "/keys", label: () => t("nav.keys"), scope: "keys" },
  { path: "/activity", label: () => t("nav.activity"), scope: "audit", notAdmin: true },
  { path: "/admin/overview", label: () => t("nav.overview"), admin: true },
  { path: "/admin/tenants", label: () => t("nav.tenants"), admin: true },
  { path: "/admin/providers", label: () => t("nav.providers"), admin: true },
  { path: "/admin/audit", label: () => t("nav.audit"), admin: true },
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

function NavLink({ item, path, onPick }) {
  const active = path === item.path || path.startsWith(`${item.path}/`);
  return (
    <li>
      <a href={`#${item.path}`} class={active ? "active" : ""} aria-current={active ? "page" : undefined} onClick={onPick}>
        {item.label()}
      </a>
    </li>
  );
}

/**
 * The menu of a narrow screen: open or closed, closed again by Esc (focus back on the
 * button), by choosing a page, or by a click outside it. On a wide screen the button is
 * hidden and the navigation always shows, whatever `open` says.
 */
function useMenu(path) {
  const [open, setOpen] = useState(false);
  const button = useRef(null);
  const nav = useRef(null);
  // Closed when the page changes, not on mount: effects run after paint (late on a busy
  // machine), and a mount-time close would undo a menu opened in the meantime.
  const shownPath = useRef(path);
  useEffect(() => {
    if (shownPath.current === path) return;
    shownPath.current = path;
    setOpen(false);
  }, [path]);
  useEffect(() => {
    if (!open) return undefined;
    // Into the menu: the page now shown, else the first one.
    const links = nav.current?.querySelectorAll("a");
    (nav.current?.querySelector('a[aria-current="page"]') || links?.[0])?.focus();
    const onKey = (e) => {
      if (e.key !== "Escape") return;
      setOpen(false);
      button.current?.focus();
    };
    const onClick = (e) => {
      if (!nav.current?.contains(e.target) && !button.current?.contains(e.target)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("click", onClick);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("click", onClick);
    };
  }, [open]);
  // A page chosen from the open menu: the menu goes, and the focus to the page's content
  // rather than staying on a link no longer shown.
  const picked = () => {
    if (!open) return;
    document.getElementById("main")?.focus();
    setOpen(false);
  };
  return { open, setOpen, picked, button, nav };
}

export function Layout({ path, onSignOut, children }) {
  const session = useSession();
  const items = visibleNav(session);
  const admin = items.filter((i) => i.admin);
  const menu = useMenu(path);
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main").focus())}>
        {t("shell.skip")}
      </a>
      <aside class="sidebar">
        <div class="sidebar-bar">
          <div class="brand">
            <span class="logo" aria-hidden="true">◆</span> modelyard
          </div>
          <button
            type="button"
            class="menu-toggle secondary"
            ref={menu.button}
            data-testid="menu-button"
            aria-expanded={menu.open ? "true" : "false"}
            aria-controls="console-nav"
            aria-label={menu.open ? t("nav.close_menu") : t("nav.open_menu")}
            onClick={() => menu.setOpen(!menu.open)}
          >
            <span aria-hidden="true">{menu.open ? "✕" : "☰"}</span> {t("nav.menu")}
          </button>
        </div>
        <nav id="console-nav" class={menu.open ? "open" : ""} aria-label={t("nav.label")} data-testid="nav" ref={menu.nav}>
          <ul>
            {items
              .filter((i) => !i.admin)
              .map((item) => (
                <NavLink key={item.path} item={item} path={path} onPick={menu.picked} />
              ))}
          </ul>
          {admin.length > 0 && (
            <>
              <div class="nav-section">{t("nav.admin_section")}</div>
              <ul>
                {admin.map((item) => (
                  <NavLink key={item.path} item={item} path={path} onPick={menu.picked} />
                ))}
              </ul>
            </>
          )}
        </nav>
      </aside>
      <div class="main-col">
        <header class="topbar">
          <div class="who" data-testid="who">
            <span class="muted who-label">{t("shell.tenant")}</span> <strong data-testid="who-tenant">{session.tenant}</strong>
            <span class={`role role-${session.role}`} data-testid="who-role">
              {roleName(session.role)}
            </span>
            {session.readOnly && <span class="role">{t("shell.read_only")}</span>}
            {session.expiresAt && <span class="muted small">{t("shell.key_expires", { when: when(session.expiresAt) })}</span>}
          </div>
          <div class="topbar-actions">
            <LanguageSwitch />
            <button type="button" class="secondary" data-testid="sign-out" onClick={onSignOut}>
              {t("shell.sign_out")}
            </button>
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
