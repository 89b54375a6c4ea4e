// The catalog as the console needs it: one fetch per page, kinds derived from the card.
import { get } from "./api.js";

export async function listModels(signal) {
  const page = await get("/v1/models", { signal });
  return page.data;
}

export function kindOf(model) {
  if (model.id.startsWith("ft:")) return "fine-tuned";
  if (model.card.backend === "openai-compatible") return "remote";
  return model.card.owner === "platform" ? "built-in" : "local";
}

export const isChat = (model) => model.card.task === "chat";
export const chatModels = (models) => models.filter(isChat);
/** Models a tenant can tune: local chat models that are not fine-tunes themselves. */
export const tunable = (models) =>
  models.filter((m) => isChat(m) && kindOf(m) !== "remote" && kindOf(m) !== "fine-tuned");

export function cardOf(models, id) {
  const found = models && models.find((m) => m.id === id);
  return found ? found.card : null;
}
