// Chat and text completions over SSE: deltas as they arrive, then the usage chunk, then [DONE].
import { ApiError, request } from "./api.js";
import { t } from "./i18n.js";

function parseEvents(buffer, onData) {
  const events = buffer.split(/\r?\n\r?\n/);
  const rest = events.pop();
  for (const event of events) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).trimStart())
      .join("\n");
    if (data) onData(data);
  }
  return rest;
}

/**
 * Streams one chat completion. `onDelta(piece, text)` per content piece; resolves with
 * `{text, usage, ttftMs, totalMs}`.
 */
export function streamChat(body, { onDelta, signal }) {
  return streamFrom("/v1/chat/completions", body, (choice) => choice.delta && choice.delta.content, { onDelta, signal });
}

/** Streams one text completion (a base model continuing `body.prompt`); same callbacks and result. */
export function streamCompletion(body, { onDelta, signal }) {
  return streamFrom("/v1/completions", body, (choice) => choice.text, { onDelta, signal });
}

async function streamFrom(path, body, pieceOf, { onDelta, signal }) {
  const started = performance.now();
  const response = await request(path, {
    method: "POST",
    body: { ...body, stream: true, stream_options: { include_usage: true } },
    signal,
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let text = "";
  let usage = null;
  let ttftMs = null;
  let done = false;
  const onData = (data) => {
    if (data === "[DONE]") {
      done = true;
      return;
    }
    const chunk = JSON.parse(data);
    if (chunk.error) throw new ApiError(502, chunk.error.message || t("chat.stream_failed"), chunk.error);
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices || []) {
      const piece = pieceOf(choice);
      if (piece) {
        if (ttftMs === null) ttftMs = performance.now() - started;
        text += piece;
        onDelta(piece, text);
      }
    }
  };
  while (!done) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer = parseEvents(buffer + decoder.decode(value, { stream: true }), onData);
  }
  return { text, usage, ttftMs, totalMs: performance.now() - started };
}
