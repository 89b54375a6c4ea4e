// Chat panes: a conversation with one model, streamed; the playground puts 1-3 side by side.
// In completion mode (for base models) a turn is a text to continue: no history, no roles.
import { useEffect, useRef, useState } from "preact/hooks";
import { costOf, money, ms, num } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { getModel, isReady, readinessText } from "../lib/models.js";
import { streamChat, streamCompletion } from "../lib/stream.js";

// How often a pane asks again while its model imports or loads (the server waits a while too).
const NOT_READY_RETRY_MS = 3000;

function Stats({ stats }) {
  if (!stats) return null;
  const { usage } = stats;
  return (
    <div class="msg-stats" data-testid="chat-stats">
      {usage ? t("chat.stats_tokens", { in: num(usage.prompt_tokens), out: num(usage.completion_tokens) }) : t("chat.no_usage")}
      {" · "}
      {t("chat.stats_timing", { first: ms(stats.ttftMs), total: ms(stats.totalMs), cost: money(stats.cost) })}
    </div>
  );
}

function roleName(message, mode) {
  if (message.error) return t("chat.role_error");
  if (message.role === "user") return mode === "complete" ? t("chat.role_prompt") : t("chat.role_you");
  return mode === "complete" ? t("chat.role_continuation") : t("chat.role_model");
}

function Message({ message, mode }) {
  return (
    <div class={`msg msg-${message.role} ${message.error ? "msg-error" : ""}`}>
      <div class="msg-role">{roleName(message, mode)}</div>
      <div class="msg-text">{message.error || message.content}</div>
      <Stats stats={message.stats} />
    </div>
  );
}

const sleep = (delay, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, delay);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * One model's conversation. A new `turn` ({id, text}) sends; `stopTick`/`clearTick` stop or
 * clear. `mode`: "chat" (messages) or "complete" (the text is a prompt to continue).
 */
export function ChatPane({ model, card, settings, turn, stopTick, clearTick, header, onBusy, mode = "chat" }) {
  const [messages, setMessages] = useState([]);
  const [live, setLive] = useState(null);
  // The model's card while the pane waits for it to be ready: what it is waiting for.
  const [waiting, setWaiting] = useState(null);
  const controller = useRef(null);
  const liveText = useRef("");
  const seenTurn = useRef(turn ? turn.id : 0); // a pane added later must not replay the last turn
  const log = useRef(null);

  useEffect(() => {
    if (log.current) log.current.scrollTop = log.current.scrollHeight;
  }, [messages, live]);
  const abort = () => {
    if (controller.current) controller.current.abort();
  };
  useEffect(() => abort, []);
  useEffect(abort, [stopTick]);
  useEffect(() => setMessages([]), [clearTick, model, mode]);

  useEffect(() => {
    if (!turn || !model || turn.id === seenTurn.current) return;
    seenTurn.current = turn.id;
    const history = [...messages.filter((m) => !m.error), { role: "user", content: turn.text }];
    setMessages((all) => [...all, { role: "user", content: turn.text }]);
    send(history, turn.text);
  }, [turn && turn.id]);

  function call(history, prompt, signal) {
    const common = { model, temperature: settings.temperature, top_p: settings.top_p, max_tokens: settings.max_tokens };
    const onDelta = (_piece, text) => {
      liveText.current = text;
      setLive(text);
    };
    if (mode === "complete") return streamCompletion({ ...common, prompt }, { onDelta, signal });
    const system = settings.system.trim() ? [{ role: "system", content: settings.system.trim() }] : [];
    const messages = [...system, ...history.map(({ role, content }) => ({ role, content }))];
    return streamChat({ ...common, messages }, { onDelta, signal });
  }

  /** Calls until the model answers: a model still importing or loading gets asked again. */
  async function answer(history, prompt, signal) {
    for (;;) {
      try {
        return await call(history, prompt, signal);
      } catch (error) {
        if (error.code !== "model_not_ready" || signal.aborted) throw error;
        const fresh = await getModel(model, { signal, poll: true }).catch(() => null);
        // A model that failed to load is not waited for: the error says why.
        if (fresh && fresh.card.status === "failed") throw error;
        setWaiting((fresh && fresh.card) || { status: "loading" });
        await sleep(NOT_READY_RETRY_MS, signal);
        if (signal.aborted) throw new DOMException("stopped", "AbortError");
      }
    }
  }

  async function send(history, prompt) {
    const current = new AbortController();
    controller.current = current;
    liveText.current = "";
    setLive("");
    setWaiting(isReady(card) ? null : card);
    onBusy && onBusy(true);
    try {
      const result = await answer(history, prompt, current.signal);
      const stats = { ...result, cost: costOf(result.usage, card) };
      setMessages((all) => [...all, { role: "assistant", content: result.text, stats }]);
    } catch (error) {
      const stopped = error.name === "AbortError";
      setMessages((all) => [
        ...all,
        stopped
          ? { role: "assistant", content: `${liveText.current} ${t("chat.stopped")}` }
          : { role: "assistant", error: error.message },
      ]);
    } finally {
      setLive(null);
      setWaiting(null);
      onBusy && onBusy(false);
    }
  }

  return (
    <section class="chat-pane" aria-label={t("chat.pane_label", { model: model || t("chat.no_model") })}>
      {header}
      <div class="chat-log" ref={log}>
        {messages.length === 0 && live === null && (
          <p class="muted empty-chat">{mode === "complete" ? t("chat.start_completion") : t("chat.start")}</p>
        )}
        {messages.map((m, i) => (
          <Message key={i} message={m} mode={mode} />
        ))}
        {live !== null && (
          <div class="msg msg-assistant streaming">
            <div class="msg-role">{mode === "complete" ? t("chat.role_continuation") : t("chat.role_model")}</div>
            <div class="msg-text" aria-live="polite" aria-busy="true" data-testid="streaming">
              {live ||
                (waiting && !live ? (
                  <span class="waiting-for-model" data-testid="waiting-for-model">
                    {t("chat.waiting_for_model", { model, what: readinessText(waiting) })}
                  </span>
                ) : (
                  <span class="typing" aria-label={t("chat.waiting_first_token")}>…</span>
                ))}
            </div>
          </div>
        )}
      </div>
    </section>
  );
}

/**
 * The prompt box under one or more panes: Enter sends, Shift+Enter is a new line. While an
 * answer streams, Enter says why nothing was sent. `preset` ({id, text}) fills the box.
 */
export function Composer({ busy, disabled, onSend, onStop, onClear, preset, mode = "chat" }) {
  const [text, setText] = useState("");
  const [hint, setHint] = useState(false);
  useEffect(() => {
    if (preset) setText(preset.text);
  }, [preset && preset.id]);
  useEffect(() => {
    if (!busy) setHint(false);
  }, [busy]);
  function submit(event) {
    event.preventDefault();
    if (busy) {
      setHint(true);
      return;
    }
    if (!text.trim() || disabled) return;
    // A completion prompt keeps its trailing space or newline: the continuation depends on it.
    onSend(mode === "complete" ? text : text.trim());
    setText("");
  }
  return (
    <form class="composer" onSubmit={submit}>
      <label class="sr-only" for="prompt">
        {t("chat.message")}
      </label>
      <textarea
        id="prompt"
        rows={mode === "complete" ? 5 : 2}
        placeholder={mode === "complete" ? t("chat.placeholder_completion") : t("chat.placeholder")}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => e.key === "Enter" && !e.shiftKey && submit(e)}
      />
      {hint && busy && (
        <p class="composer-hint" role="status" data-testid="composer-hint">
          {t("chat.busy_hint")}
        </p>
      )}
      <div class="composer-actions">
        {busy ? (
          <button type="button" onClick={onStop}>
            {t("chat.stop")}
          </button>
        ) : (
          <button type="submit" class="primary" disabled={disabled || !text.trim()}>
            {t("chat.send")}
          </button>
        )}
        <button type="button" class="secondary" onClick={onClear} disabled={busy}>
          {t("chat.clear")}
        </button>
      </div>
    </form>
  );
}

export const DEFAULT_SETTINGS = { system: "", temperature: 0.7, top_p: 1, max_tokens: 256 };

/** A single-model chat with its own composer (the fine-tuning "try it" box). */
export function Chat({ model, card, settings = DEFAULT_SETTINGS }) {
  const [turn, setTurn] = useState(null);
  const [stopTick, setStopTick] = useState(0);
  const [clearTick, setClearTick] = useState(0);
  const [busy, setBusy] = useState(false);
  return (
    <div class="chat-single">
      <ChatPane model={model} card={card} settings={settings} turn={turn} stopTick={stopTick} clearTick={clearTick} onBusy={setBusy} />
      <Composer
        busy={busy}
        onSend={(text) => setTurn((prev) => ({ id: (prev ? prev.id : 0) + 1, text }))}
        onStop={() => setStopTick((n) => n + 1)}
        onClear={() => setClearTick((n) => n + 1)}
      />
    </div>
  );
}
