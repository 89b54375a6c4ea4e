// The console: sign in with a key, then pages chosen by the hash route and the key's role.
import { useCallback, useEffect, useState } from "preact/hooks";
import { ConfirmProvider } from "./components/confirm.jsx";
import { Layout, allowed, visibleNav } from "./components/layout.jsx";
import { ToastProvider } from "./components/toast.jsx";
import { Empty, ErrorNote, Loading, Page } from "./components/ui.jsx";
import { keyStore, whenUnauthorized } from "./lib/api.js";
import { locale, onLocaleChange, t } from "./lib/i18n.js";
import { match, navigate, useLocation } from "./lib/router.js";
import { SessionContext, loadIdentity, roleName, scopeName } from "./lib/session.js";
import { Activity } from "./pages/activity.jsx";
import { Audit } from "./pages/admin-audit.jsx";
import { Overview } from "./pages/admin-overview.jsx";
import { Providers } from "./pages/admin-providers.jsx";
import { Tenants } from "./pages/admin-tenants.jsx";
import { Dataset } from "./pages/dataset.jsx";
import { Datasets } from "./pages/datasets.jsx";
import { Evaluation } from "./pages/evaluation.jsx";
import { Evaluations, NewEvaluation } from "./pages/evaluations.jsx";
import { Job } from "./pages/job.jsx";
import { Jobs, NewJob } from "./pages/jobs.jsx";
import { Keys } from "./pages/keys.jsx";
import { Playground } from "./pages/playground.jsx";
import { Plaza } from "./pages/plaza.jsx";
import { ProviderUsage } from "./pages/provider-usage.jsx";
import { SignIn } from "./pages/signin.jsx";
import { Usage } from "./pages/usage.jsx";

// Each route with what it needs (as in the sidebar): a scope, the provider role, or an admin key.
const ROUTES = [
  ["/plaza", Plaza, { scope: "models" }],
  ["/playground", Playground, { scope: "chat" }],
  ["/datasets", Datasets, { scope: "files" }],
  ["/datasets/:id", Dataset, { scope: "files" }],
  ["/fine-tuning", Jobs, { scope: "fine_tuning" }],
  ["/fine-tuning/new", NewJob, { scope: "fine_tuning" }],
  ["/fine-tuning/:id", Job, { scope: "fine_tuning" }],
  ["/evaluations", Evaluations, { scope: "evaluations" }],
  ["/evaluations/new", NewEvaluation, { scope: "evaluations" }],
  ["/evaluations/:id", Evaluation, { scope: "evaluations" }],
  ["/usage", Usage, { scope: "usage" }],
  ["/provider-usage", ProviderUsage, { scope: "usage", provider: true }],
  ["/keys", Keys, { scope: "keys" }],
  ["/activity", Activity, { scope: "audit" }],
  ["/admin/overview", Overview, { admin: true }],
  ["/admin/tenants", Tenants, { admin: true }],
  ["/admin/providers", Providers, { admin: true }],
  ["/admin/audit", Audit, { admin: true }],
];

function resolve(path) {
  for (const [pattern, component, options = {}] of ROUTES) {
    const params = match(pattern, path);
    if (params) return { component, params, ...options };
  }
  return null;
}

function Routed({ where, session }) {
  const found = resolve(where.path);
  if (!found) {
    return (
      <Page title={t("shell.not_found_title")}>
        <Empty title={t("shell.not_found_body")}>
          <a href="#/plaza">{t("shell.go_plaza")}</a>
        </Empty>
      </Page>
    );
  }
  if (found.admin && !session.isAdmin) {
    return (
      <Page title={t("shell.admin_only_title")}>
        <Empty title={t("shell.admin_only_body")}>{t("shell.your_role", { role: roleName(session.role) })}</Empty>
      </Page>
    );
  }
  if (!allowed(session, found)) {
    return (
      <Page title={t("shell.not_open_title")}>
        <Empty title={found.provider ? t("shell.needs_provider") : t("shell.needs_scope", { scope: scopeName(found.scope) })}>
          {t("shell.role_and_scopes", {
            role: roleName(session.role),
            scopes: session.scopes.map(scopeName).join(", ") || t("shell.no_scopes"),
          })}
        </Empty>
      </Page>
    );
  }
  const Component = found.component;
  return <Component {...found.params} query={where.query} />;
}

export function App() {
  const where = useLocation();
  const [session, setSession] = useState(null);
  const [state, setState] = useState(keyStore.get() ? "checking" : "signed-out");
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  // Every page reads the language as it renders, so a switch re-renders the whole tree.
  const [language, setLanguage] = useState(locale());
  useEffect(() => onLocaleChange(setLanguage), []);

  // `reason`: why the reader is signed out ("refused"), shown in the language of the moment.
  const signOut = useCallback((reason = null) => {
    keyStore.clear();
    setSession(null);
    setNotice(reason);
    setState("signed-out");
  }, []);

  useEffect(() => {
    whenUnauthorized(() => signOut("refused"));
  }, [signOut]);

  useEffect(() => {
    if (state !== "checking") return undefined;
    const controller = new AbortController();
    setError(null);
    loadIdentity(controller.signal).then(
      (found) => {
        setSession(found);
        setState("signed-in");
        // Admins land on the Overview (the machine and its number formats); others on their first page.
        const first = found.isAdmin ? { path: "/admin/overview" } : visibleNav(found)[0];
        if (where.path === "/" || where.path === "/signin") navigate(first ? first.path : "/plaza");
      },
      (failure) => controller.signal.aborted || setError(failure),
    );
    return () => controller.abort();
  }, [state]);

  let body;
  if (state === "signed-out") {
    body = (
      <SignIn
        notice={notice === "refused" ? t("shell.key_refused") : null}
        onSignedIn={(key) => {
          keyStore.set(key);
          setNotice(null);
          setState("checking");
        }}
      />
    );
  } else if (state === "checking") {
    body = (
      <div class="center-screen">
        {error ? <ErrorNote error={error} onRetry={() => setState("signed-out")} /> : <Loading label={t("shell.signing_in")} />}
      </div>
    );
  } else {
    body = (
      <SessionContext.Provider value={session}>
        <Layout path={where.path} onSignOut={() => signOut()}>
          <Routed key={where.path} where={where} session={session} />
        </Layout>
      </SessionContext.Provider>
    );
  }
  return (
    <ToastProvider key={language}>
      <ConfirmProvider>{body}</ConfirmProvider>
    </ToastProvider>
  );
}
