// Sign in with an API key; the app checks it against the server (a refused key comes back here).
import { useEffect, useState } from "preact/hooks";
import { LanguageSwitch } from "../components/language.jsx";
import { Field } from "../components/ui.jsx";
import { t } from "../lib/i18n.js";

const KEY_SHAPE = /^\S{8,}$/;

export function SignIn({ notice, onSignedIn }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState(null);
  useEffect(() => {
    document.title = `${t("signin.title")} · modelyard`;
  }, []);

  async function submit(event) {
    event.preventDefault();
    const value = key.trim();
    if (!KEY_SHAPE.test(value)) {
      setError(t("signin.bad_shape"));
      return;
    }
    onSignedIn(value);
  }

  return (
    <div class="signin">
      <form class="panel signin-card" onSubmit={submit} noValidate>
        <div class="signin-top">
          <div class="brand big">
            <span class="logo" aria-hidden="true">◆</span> modelyard
          </div>
          <LanguageSwitch />
        </div>
        <h1>{t("signin.title")}</h1>
        <p class="muted">{withCode(t("signin.intro", { path: "\u0000" }), "~/.modelyard/admin.key")}</p>
        {notice && (
          <div class="state error" role="alert">
            {notice}
          </div>
        )}
        <Field label={t("signin.key")} error={error}>
          {(props) => (
            <input
              {...props}
              type="password"
              name="api-key"
              autocomplete="off"
              spellcheck={false}
              value={key}
              onInput={(e) => setKey(e.currentTarget.value)}
              autoFocus
            />
          )}
        </Field>
        <button type="submit" class="primary">
          {t("signin.submit")}
        </button>
        <p class="hint">{t("signin.stays")}</p>
      </form>
    </div>
  );
}

/** A message with `<code>` where its placeholder was (filled with a NUL mark): the words move per language. */
function withCode(message, code) {
  const [before, after = ""] = message.split("\u0000");
  return (
    <>
      {before}
      <code>{code}</code>
      {after}
    </>
  );
}
