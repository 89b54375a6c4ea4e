// Sign in with an API key; the app checks it against the server (a refused key comes back here).
import { useState } from "preact/hooks";
import { Field } from "../components/ui.jsx";

const KEY_SHAPE = /^\S{8,}$/;

export function SignIn({ notice, onSignedIn }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState(null);

  async function submit(event) {
    event.preventDefault();
    const value = key.trim();
    if (!KEY_SHAPE.test(value)) {
      setError("Paste the whole API key (it starts with 'my-').");
      return;
    }
    onSignedIn(value);
  }

  return (
    <div class="signin">
      <form class="panel signin-card" onSubmit={submit} noValidate>
        <div class="brand big">
          <span class="logo" aria-hidden="true">◆</span> modelyard
        </div>
        <h1>Sign in to the console</h1>
        <p class="muted">
          Use an API key. What you see follows its tenant and role. The platform admin key is in{" "}
          <code>~/.modelyard/admin.key</code> on the server.
        </p>
        {notice && (
          <div class="state error" role="alert">
            {notice}
          </div>
        )}
        <Field label="API key" error={error}>
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
          Sign in
        </button>
        <p class="hint">The key stays in this tab's session storage and is sent only to this server.</p>
      </form>
    </div>
  );
}
