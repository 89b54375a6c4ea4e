// Confirmations in the page's own dialog, not the browser's confirm(): styled, translated,
// and testable (a browser test answers it like any other element).
//
//   const confirm = useConfirm();
//   if (await confirm({ title, body, confirm: label, danger: true })) ...
//
// `children` of the options may hold extra fields (a grace period); `onConfirm` then reads them.
import { createContext } from "preact";
import { useCallback, useContext, useEffect, useRef, useState } from "preact/hooks";
import { t } from "../lib/i18n.js";

const ConfirmContext = createContext(null);

export function ConfirmProvider({ children }) {
  const [asking, setAsking] = useState(null);
  const ask = useCallback(
    (options) => new Promise((resolve) => setAsking({ ...options, resolve })),
    [],
  );
  const answer = (yes) => {
    asking.resolve(yes);
    setAsking(null);
  };
  return (
    <ConfirmContext.Provider value={ask}>
      {children}
      {asking && <ConfirmDialog options={asking} onAnswer={answer} />}
    </ConfirmContext.Provider>
  );
}

function ConfirmDialog({ options, onAnswer }) {
  const cancel = useRef(null);
  useEffect(() => {
    const before = document.activeElement;
    cancel.current?.focus();
    const onKey = (e) => e.key === "Escape" && onAnswer(false);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      before?.focus?.();
    };
  }, []);
  return (
    <div class="dialog-backdrop" onClick={(e) => e.target === e.currentTarget && onAnswer(false)}>
      <div class="dialog" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title" data-testid="confirm-dialog">
        <h2 id="confirm-title">{options.title}</h2>
        {options.body && <p>{options.body}</p>}
        {options.children}
        <div class="actions">
          <button type="button" class="secondary" ref={cancel} data-testid="confirm-no" onClick={() => onAnswer(false)}>
            {options.cancel || t("common.cancel")}
          </button>
          <button type="button" class={options.danger ? "danger" : ""} data-testid="confirm-yes" onClick={() => onAnswer(true)}>
            {options.confirm || t("common.confirm")}
          </button>
        </div>
      </div>
    </div>
  );
}

/** `confirm(options)` → a promise of true (confirmed) or false (cancelled, Esc, backdrop). */
export const useConfirm = () => useContext(ConfirmContext);
