// Chat panes: a conversation with one model, streamed; the playground puts 1-3 side by side.
import { useEffect, useRef, useState } from "preact/hooks";
import { costOf, money, ms, num } from "../lib/format.js";
import { streamChat } from "../lib/stream.js";

function Stats({ stats }) {
  if (!stats) return null;
  const { usage } = stats;
  return (
    <div class="msg-stats" data-testid="chat-stats">
      {usage ? `${num(usage.prompt_tokens)} in · ${num(usage.completion_tokens)} out tokens` : "no usage"}
      {" · "}first token {ms(stats.ttftMs)} · total {ms(stats.totalMs)} · {money(stats.cost)}
    </div>
  );
}

function Message({ message }) {
  return (
    <div class={`msg msg-${message.role} ${message.error ? "msg-error" : ""}`}>
      <div class="msg-role">{message.role === "user" ? "You" : message.error ? "Error" : "Model"}</div>
      <div class="msg-text">{message.error || message.content}</div>
      <Stats stats={message.stats} />
    </div>
  );
}

/** One model's conversation. A new `turn` ({id, text}) sends; `stopTick`/`clearTick` stop or clear. */
export function ChatPane({ model, card, settings, turn, stopTick, clearTick, header, onBusy }) {
  const [messages, setMessages] = useState([]);
  const [live, setLive] = useState(null);
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
  useEffect(() => setMessages([]), [clearTick, model]);

  useEffect(() => {
    if (!turn || !model || turn.id === seenTurn.current) return;
    seenTurn.current = turn.id;
    const history = [...messages.filter((m) => !m.error), { role: "user", content: turn.text }];
    setMessages((all) => [...all, { role: "user", content: turn.text }]);
    send(history);
  }, [turn && turn.id]);

  async function send(history) {
    const current = new AbortController();
    controller.current = current;
    liveText.current = "";
    setLive("");
    onBusy && onBusy(true);
    const system = settings.system.trim() ? [{ role: "system", content: settings.system.trim() }] : [];
    try {
      const result = await streamChat(
        {
          model,
          messages: [...system, ...history.map(({ role, content }) => ({ role, content }))],
          temperature: settings.temperature,
          top_p: settings.top_p,
          max_tokens: settings.max_tokens,
        },
        {
          onDelta: (_piece, text) => {
            liveText.current = text;
            setLive(text);
          },
          signal: current.signal,
        },
      );
      const stats = { ...result, cost: costOf(result.usage, card) };
      setMessages((all) => [...all, { role: "assistant", content: result.text, stats }]);
    } catch (error) {
      const stopped = error.name === "AbortError";
      setMessages((all) => [
        ...all,
        stopped ? { role: "assistant", content: `${liveText.current} [stopped]` } : { role: "assistant", error: error.message },
      ]);
    } finally {
      setLive(null);
      onBusy && onBusy(false);
    }
  }

  return (
    <section class="chat-pane" aria-label={`Chat with ${model || "no model"}`}>
      {header}
      <div class="chat-log" ref={log}>
        {messages.length === 0 && live === null && <p class="muted empty-chat">Send a message to start.</p>}
        {messages.map((m, i) => (
          <Message key={i} message={m} />
        ))}
        {live !== null && (
          <div class="msg msg-assistant streaming">
            <div class="msg-role">Model</div>
            <div class="msg-text" aria-live="polite" aria-busy="true" data-testid="streaming">
              {live || <span class="typing" aria-label="waiting for the first token">…</span>}
            </div>
          </div>
        )}
      </div>
    </section>
  );
}

/** The prompt box under one or more panes: Enter sends, Shift+Enter is a new line. */
export function Composer({ busy, disabled, onSend, onStop, onClear }) {
  const [text, setText] = useState("");
  function submit(event) {
    event.preventDefault();
    if (!text.trim() || busy || disabled) return;
    onSend(text.trim());
    setText("");
  }
  return (
    <form class="composer" onSubmit={submit}>
      <label class="sr-only" for="prompt">
        Message
      </label>
      <textarea
        id="prompt"
        rows={2}
        placeholder="Message (Enter sends, Shift+Enter for a new line)"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => e.key === "Enter" && !e.shiftKey && submit(e)}
      />
      <div class="composer-actions">
        {busy ? (
          <button type="button" onClick={onStop}>
            Stop
          </button>
        ) : (
          <button type="submit" class="primary" disabled={disabled || !text.trim()}>
            Send
          </button>
        )}
        <button type="button" class="secondary" onClick={onClear} disabled={busy}>
          Clear
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
        onSend={(text) => setTurn((t) => ({ id: (t ? t.id : 0) + 1, text }))}
        onStop={() => setStopTick((t) => t + 1)}
        onClear={() => setClearTick((t) => t + 1)}
      />
    </div>
  );
}
