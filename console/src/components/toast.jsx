// Toasts: short messages in an aria-live region; errors stay until dismissed.
import { createContext } from "preact";
import { useCallback, useContext, useMemo, useState } from "preact/hooks";

const ToastContext = createContext(null);
let nextId = 1;

export function ToastProvider({ children }) {
  const [toasts, setToasts] = useState([]);
  const dismiss = useCallback((id) => setToasts((all) => all.filter((t) => t.id !== id)), []);
  const push = useCallback(
    (kind, message) => {
      const id = nextId++;
      setToasts((all) => [...all.slice(-3), { id, kind, message }]);
      if (kind !== "error") setTimeout(() => dismiss(id), 4000);
    },
    [dismiss],
  );
  const api = useMemo(
    () => ({
      ok: (message) => push("ok", message),
      error: (error) => push("error", typeof error === "string" ? error : error.message || "Something went wrong"),
    }),
    [push],
  );
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div class="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} class={`toast toast-${t.kind}`}>
            <span>{t.message}</span>
            <button type="button" class="link" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export const useToast = () => useContext(ToastContext);
