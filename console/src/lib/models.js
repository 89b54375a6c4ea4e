// The catalog as the console needs it: one fetch per page, kinds derived from the card.
import { get } from "./api.js";
import { t } from "./i18n.js";
import { pct } from "./format.js";

export async function listModels(signal, options = {}) {
  const page = await get("/v1/models", { signal, ...options });
  return page.data;
}

export const getModel = (id, options = {}) => get(`/v1/models/${encodeURIComponent(id)}`, options);

export function kindOf(model) {
  if (model.id.startsWith("ft:")) return "fine-tuned";
  if (model.card.backend === "openai-compatible") return "remote";
  return model.card.owner === "platform" ? "built-in" : "local";
}

// Literal keys per kind, so the catalogs can be checked (no keys built at run time).
const KIND_LABELS = {
  "fine-tuned": () => t("plaza.kind_fine_tuned"),
  remote: () => t("plaza.kind_remote"),
  "built-in": () => t("plaza.kind_built_in"),
  local: () => t("plaza.kind_local"),
};
export const kindLabel = (kind) => (KIND_LABELS[kind] ? KIND_LABELS[kind]() : kind);

export const isChat = (model) => model.card.task === "chat";
/** A base model continues text; an instruction-tuned one answers (the server decides: card.kind). */
export const isBase = (model) => isChat(model) && model.card.kind === "base";
export const chatModels = (models) => models.filter(isChat);
/** Chat models, instruction-tuned first (a new user's first chat should get an answer). */
export const chatModelsPreferred = (models) => {
  const chat = chatModels(models);
  return [...chat.filter((m) => !isBase(m)), ...chat.filter(isBase)];
};
/** Models a tenant can tune: local chat models that are not fine-tunes themselves. */
export const tunable = (models) =>
  models.filter((m) => isChat(m) && kindOf(m) !== "remote" && kindOf(m) !== "fine-tuned");

export function cardOf(models, id) {
  const found = models && models.find((m) => m.id === id);
  return found ? found.card : null;
}

export const isReady = (card) => !card || !card.status || card.status === "ready" || card.status === "available";

const PHASES = {
  queued: () => t("plaza.phase_queued"),
  waiting: () => t("plaza.phase_waiting"),
  assembling: () => t("plaza.phase_assembling"),
  converting: () => t("plaza.phase_converting"),
  saving: () => t("plaza.phase_saving"),
};

/** What a model that is not ready is doing, in the reader's words ("importing… 40%, converting"). */
export function readinessText(card) {
  if (!card || isReady(card)) return t("plaza.status_ready");
  if (card.status === "importing") {
    const progress = pct(card.progress ?? 0, 0);
    if (!card.phase) return t("plaza.status_importing", { progress });
    const phase = PHASES[card.phase] ? PHASES[card.phase]() : card.phase;
    return t("plaza.status_importing_phase", { progress, phase });
  }
  if (card.status === "loading") return t("plaza.status_loading");
  if (card.status === "failed") return t("plaza.status_failed", { reason: card.reason || "?" });
  return card.status;
}
