// The rotate dialog's grace period: how long the old key keeps working after a rotation, so
// services can switch over (the API allows up to 7 days). Used by the keys page and the
// admin tenants page.
import { useState } from "preact/hooks";
import { t } from "../lib/i18n.js";
import { Field } from "./ui.jsx";

const DAY_S = 86400;
const GRACES = [
  [0, () => t("keys.grace_none")],
  [3600, () => t("keys.grace_hour")],
  [DAY_S, () => t("keys.grace_day")],
  [7 * DAY_S, () => t("keys.grace_week")],
];

/** A field for useConfirm's `children`; writes the choice (seconds) into `choice.current`. */
export function GraceField({ choice }) {
  const [value, setValue] = useState(choice.current);
  const pick = (e) => {
    choice.current = Number(e.currentTarget.value);
    setValue(choice.current);
  };
  return (
    <Field label={t("keys.grace")} hint={value ? t("keys.grace_hint_later") : t("keys.grace_hint_now")}>
      {(props) => (
        <select {...props} name="grace_s" data-testid="grace-period" value={String(value)} onChange={pick}>
          {GRACES.map(([seconds, text]) => (
            <option key={seconds} value={String(seconds)}>
              {text()}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
