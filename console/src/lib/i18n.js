// Messages in the reader's language: English and Simplified Chinese.
//
// Catalogs are JSON files, one per area and language: `locales/<lang>/<area>.json`, so a
// key "jobs.title" is "title" in `locales/en/jobs.json`. JSON (not JS) so the test suite
// can check without a browser that both languages hold the same keys and that each key
// the sources ask for exists (tests/unit/console/test_messages.py).
const files = import.meta.glob("../locales/*/*.json", { eager: true, import: "default" });

export const LOCALES = [
  { id: "en", label: "English" },
  { id: "zh-CN", label: "简体中文" },
];
const STORAGE = "modelyard.locale";

const catalogs = {};
for (const [path, messages] of Object.entries(files)) {
  const [, lang, area] = path.match(/locales\/([^/]+)\/([^/]+)\.json$/);
  catalogs[lang] ||= {};
  for (const [key, text] of Object.entries(messages)) catalogs[lang][`${area}.${key}`] = text;
}

/** The language asked for before (this browser), else the browser's own; English otherwise. */
export function detectLocale() {
  const saved = safeStorage()?.getItem(STORAGE);
  if (LOCALES.some((l) => l.id === saved)) return saved;
  for (const wanted of navigator.languages || [navigator.language || "en"]) {
    if (/^zh\b/i.test(wanted)) return "zh-CN";
    if (/^en\b/i.test(wanted)) return "en";
  }
  return "en";
}

let current = detectLocale();
document.documentElement.lang = current;
const listeners = new Set();

export const locale = () => current;

export function setLocale(id) {
  if (!LOCALES.some((l) => l.id === id) || id === current) return;
  current = id;
  document.documentElement.lang = id;
  safeStorage()?.setItem(STORAGE, id);
  for (const listener of listeners) listener(id);
}

/** Calls `listener(id)` when the language changes; returns the unsubscribe function. */
export function onLocaleChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// Keys a page asked for that no catalog holds: the browser tests read this and fail on any.
window.__missingMessages = window.__missingMessages || [];

/**
 * The message `key` in the current language with `{name}` filled from `vars`. A message
 * may be plural-aware: `{"one": "{count} step", "other": "{count} steps"}` picks by
 * `vars.count`. A key missing from Chinese falls back to English; missing from both, the
 * key itself shows (and is recorded, so a test catches it).
 */
export function t(key, vars = {}) {
  let message = catalogs[current]?.[key] ?? catalogs.en?.[key];
  if (message === undefined) {
    if (!window.__missingMessages.includes(key)) window.__missingMessages.push(key);
    return key;
  }
  if (typeof message === "object") {
    const form = new Intl.PluralRules(current).select(Number(vars.count ?? 0));
    message = message[form] ?? message.other;
  }
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

function safeStorage() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage switched off: the choice lasts for this page only
  }
}
