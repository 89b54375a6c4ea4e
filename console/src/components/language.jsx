// The language switch, on the sign-in page and in the header.
import { LOCALES, locale, setLocale, t } from "../lib/i18n.js";

export function LanguageSwitch() {
  return (
    <label class="language">
      <span class="sr-only">{t("common.language")}</span>
      <select
        data-testid="language"
        aria-label={t("common.language")}
        value={locale()}
        onChange={(e) => setLocale(e.currentTarget.value)}
      >
        {LOCALES.map((l) => (
          <option key={l.id} value={l.id} lang={l.id}>
            {l.label}
          </option>
        ))}
      </select>
    </label>
  );
}
