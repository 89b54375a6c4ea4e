// Toasts: short messages in an aria-live region; errors stay until dismissed.
import { createContext } from "preact";
import { useCallback, useContext, useMemo, useState } from "preact/hooks";
import { t } from "../lib/i18n.js";

const ToastContext = createContext(null);
let nextId = 1;

export function ToastProvider({ children }) {
  const [toasts, setToasts] = useState([]);
  const dismiss = useCallback((id) => setToasts((all) => all.filter((toast) => toast.id !== id)), []);
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
      error: (error) => push("error", typeof error === "string" ? error : error.message || t("ui.went_wrong")),
    }),
    [push],
  );
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div class="toasts" role="status" aria-live="polite">
        {toasts.map((toast) => (
          <div key={toast.id} class={`toast toast-${toast.kind}`}>
            <span>{toast.message}</span>
            <button type="button" class="link" aria-label={t("ui.dismiss")} onClick={() => dismiss(toast.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export const useToast = () => useContext(ToastContext);
