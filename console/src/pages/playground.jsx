// The playground: chat with one model, or send the same prompt to two or three side by side.
// Instruction-tuned models come first; a base model gets completion mode (text in, its
// continuation out) and a few-shot example, since it continues text rather than answering.
import { useState } from "preact/hooks";
import { ChatPane, Composer, DEFAULT_SETTINGS } from "../components/chat.jsx";
import { Async, Field, Page, Panel } from "../components/ui.jsx";
import { price } from "../lib/format.js";
import { useAsync, usePoll } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";
import { cardOf, chatModelsPreferred, isBase, isReady, listModels, readinessText, tunable } from "../lib/models.js";
import { href } from "../lib/router.js";

const MAX_PANES = 3;
const READINESS_POLL_MS = 2000;

function ModelPicker({ models, value, onChange, label }) {
  return (
    <Field label={label}>
      {(props) => (
        <select {...props} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {isBase(m) ? t("playground.option_base", { model: m.id }) : m.id}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

function NumberSetting({ label, value, min, max, step, onChange, hint }) {
  return (
    <Field label={label} hint={hint}>
      {(props) => (
        <input
          {...props}
          type="number"
          min={min}
          max={max}
          step={step}
          value={value}
          onInput={(e) => {
            const v = Number(e.currentTarget.value);
            if (e.currentTarget.value !== "" && v >= min && v <= max) onChange(v);
          }}
        />
      )}
    </Field>
  );
}

function ModeSwitch({ mode, onChange, disabled }) {
  const option = (value, label, testid) => (
    <label class="mode-option">
      <input type="radio" name="mode" value={value} checked={mode === value} disabled={disabled} data-testid={testid} onChange={() => onChange(value)} />
      {label}
    </label>
  );
  return (
    <fieldset class="mode-switch">
      <legend>{t("playground.mode")}</legend>
      {option("chat", t("playground.mode_chat"), "mode-chat")}
      {option("complete", t("playground.mode_complete"), "mode-complete")}
      <p class="hint small">{mode === "complete" ? t("playground.mode_complete_hint") : t("playground.mode_chat_hint")}</p>
    </fieldset>
  );
}

function Settings({ settings, onChange, mode, onMode, busy, onFewShot }) {
  const set = (name) => (value) => onChange({ ...settings, [name]: value });
  return (
    <Panel title={t("playground.settings")} class="settings">
      <ModeSwitch mode={mode} onChange={onMode} disabled={busy} />
      <button type="button" class="secondary small" onClick={onFewShot} disabled={busy} data-testid="few-shot">
        {t("playground.few_shot")}
      </button>
      {mode === "chat" && (
        <Field label={t("playground.system_prompt")}>
          {(props) => (
            <textarea {...props} rows={3} value={settings.system} onInput={(e) => set("system")(e.currentTarget.value)} />
          )}
        </Field>
      )}
      <NumberSetting label={t("playground.temperature")} value={settings.temperature} min={0} max={2} step={0.1} onChange={set("temperature")} hint={t("playground.temperature_hint")} />
      <NumberSetting label={t("playground.top_p")} value={settings.top_p} min={0.01} max={1} step={0.05} onChange={set("top_p")} />
      <NumberSetting label={t("playground.max_tokens")} value={settings.max_tokens} min={1} max={4096} step={1} onChange={set("max_tokens")} />
    </Panel>
  );
}

/** Under a pane's picker: what a base model does in chat mode, and a model's readiness. */
function PaneNotes({ model, card, mode, canTune, onComplete }) {
  return (
    <>
      {!isReady(card) && (
        <p class="pane-note small" data-testid="pane-readiness" role="status">
          {readinessText(card)}
        </p>
      )}
      {model && isBase(model) && mode === "chat" && (
        <p class="pane-note small" data-testid="base-model-hint">
          {t("playground.base_hint")}{" "}
          <button type="button" class="link small" onClick={onComplete}>
            {t("playground.use_completion")}
          </button>
          {canTune && (
            <>
              {" · "}
              <a href={href("/fine-tuning/new", { model: model.id })}>{t("playground.fine_tune_yours")}</a>
            </>
          )}
        </p>
      )}
    </>
  );
}

function Arena({ models, initial, initialMode, fewShot }) {
  const chat = chatModelsPreferred(models);
  const first = chat.some((m) => m.id === initial) ? initial : chat[0] && chat[0].id;
  const firstModel = chat.find((m) => m.id === first);
  const [panes, setPanes] = useState([{ key: 1, model: first }]);
  const [settings, setSettings] = useState(DEFAULT_SETTINGS);
  const [mode, setMode] = useState(initialMode || (firstModel && isBase(firstModel) ? "complete" : "chat"));
  const [preset, setPreset] = useState(fewShot ? { id: 1, text: t("playground.few_shot_text") } : null);
  const [turn, setTurn] = useState(null);
  const [stopTick, setStopTick] = useState(0);
  const [clearTick, setClearTick] = useState(0);
  const [busy, setBusy] = useState({});
  const anyBusy = Object.values(busy).some(Boolean);
  const tuneIds = new Set(tunable(models).map((m) => m.id));

  if (!chat.length) return <p class="muted">{t("playground.no_chat_model")}</p>;
  const setModel = (key, model) => setPanes((all) => all.map((p) => (p.key === key ? { ...p, model } : p)));
  const used = new Set(panes.map((p) => p.model));
  const unused = chat.filter((m) => !used.has(m.id));
  const addPane = () => {
    if (!unused.length) return; // a second pane on the same model compares nothing
    setPanes((all) => [...all, { key: Math.max(...all.map((p) => p.key)) + 1, model: unused[0].id }]);
  };
  const fillFewShot = () => {
    setMode("complete");
    setPreset((p) => ({ id: (p ? p.id : 0) + 1, text: t("playground.few_shot_text") }));
  };
  return (
    <div class="playground">
      <Settings settings={settings} onChange={setSettings} mode={mode} onMode={setMode} busy={anyBusy} onFewShot={fillFewShot} />
      <div class="arena">
        <div class={`panes panes-${panes.length}`}>
          {panes.map((pane, i) => {
            const model = chat.find((m) => m.id === pane.model);
            const card = cardOf(models, pane.model);
            return (
              <ChatPane
                key={pane.key}
                model={pane.model}
                card={card}
                settings={settings}
                mode={mode}
                turn={turn}
                stopTick={stopTick}
                clearTick={clearTick}
                onBusy={(b) => setBusy((all) => ({ ...all, [pane.key]: b }))}
                header={
                  <header class="pane-head">
                    <ModelPicker label={t("playground.model_n", { n: i + 1 })} models={chat} value={pane.model} onChange={(m) => setModel(pane.key, m)} />
                    <span class="muted small">{price(card)}</span>
                    {panes.length > 1 && (
                      <button type="button" class="link small" disabled={anyBusy} onClick={() => setPanes((all) => all.filter((p) => p.key !== pane.key))}>
                        {t("playground.remove")}
                      </button>
                    )}
                    <PaneNotes model={model} card={card} mode={mode} canTune={model && tuneIds.has(model.id)} onComplete={() => setMode("complete")} />
                  </header>
                }
              />
            );
          })}
        </div>
        <div class="arena-foot">
          <Composer
            busy={anyBusy}
            mode={mode}
            preset={preset}
            onSend={(text) => setTurn((prev) => ({ id: (prev ? prev.id : 0) + 1, text }))}
            onStop={() => setStopTick((n) => n + 1)}
            onClear={() => setClearTick((n) => n + 1)}
          />
          {panes.length < MAX_PANES && (
            <button type="button" class="secondary" onClick={addPane} disabled={anyBusy || !unused.length} data-testid="add-pane">
              {t("playground.compare")}
            </button>
          )}
          {panes.length < MAX_PANES && !unused.length && <p class="hint small">{t("playground.all_models_shown")}</p>}
        </div>
      </div>
    </div>
  );
}

export function Playground({ query }) {
  const models = useAsync((signal) => listModels(signal), []);
  const pending = Boolean(models.data && models.data.some((m) => !isReady(m.card)));
  usePoll(() => listModels(undefined).then(models.setData, () => {}), READINESS_POLL_MS, pending);
  const mode = query.get("mode");
  return (
    <Page title={t("playground.title")} subtitle={t("playground.subtitle")}>
      <Async state={models} emptyTitle={t("playground.empty_title")}>
        {(data) => (
          <Arena
            models={data}
            initial={query.get("model")}
            initialMode={mode === "complete" || mode === "chat" ? mode : null}
            fewShot={query.get("fewshot") === "1"}
          />
        )}
      </Async>
    </Page>
  );
}
