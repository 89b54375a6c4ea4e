// The playground: chat with one model, or send the same prompt to two or three side by side.
import { useState } from "preact/hooks";
import { ChatPane, Composer, DEFAULT_SETTINGS } from "../components/chat.jsx";
import { Async, Field, Page, Panel } from "../components/ui.jsx";
import { price } from "../lib/format.js";
import { useAsync } from "../lib/hooks.js";
import { cardOf, chatModels, listModels } from "../lib/models.js";

const MAX_PANES = 3;

function ModelPicker({ models, value, onChange, label }) {
  return (
    <Field label={label}>
      {(props) => (
        <select {...props} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.id}
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

function Settings({ settings, onChange }) {
  const set = (name) => (value) => onChange({ ...settings, [name]: value });
  return (
    <Panel title="Generation settings" class="settings">
      <Field label="System prompt">
        {(props) => (
          <textarea {...props} rows={3} value={settings.system} onInput={(e) => set("system")(e.currentTarget.value)} />
        )}
      </Field>
      <NumberSetting label="Temperature" value={settings.temperature} min={0} max={2} step={0.1} onChange={set("temperature")} hint="0 = greedy" />
      <NumberSetting label="Top p" value={settings.top_p} min={0.01} max={1} step={0.05} onChange={set("top_p")} />
      <NumberSetting label="Max tokens" value={settings.max_tokens} min={1} max={4096} step={1} onChange={set("max_tokens")} />
    </Panel>
  );
}

function Arena({ models, initial }) {
  const chat = chatModels(models);
  const first = chat.some((m) => m.id === initial) ? initial : chat[0] && chat[0].id;
  const [panes, setPanes] = useState([{ key: 1, model: first }]);
  const [settings, setSettings] = useState(DEFAULT_SETTINGS);
  const [turn, setTurn] = useState(null);
  const [stopTick, setStopTick] = useState(0);
  const [clearTick, setClearTick] = useState(0);
  const [busy, setBusy] = useState({});
  const anyBusy = Object.values(busy).some(Boolean);

  if (!chat.length) return <p class="muted">No chat model is available to your key.</p>;
  const setModel = (key, model) => setPanes((all) => all.map((p) => (p.key === key ? { ...p, model } : p)));
  const addPane = () => {
    const used = new Set(panes.map((p) => p.model));
    const next = chat.find((m) => !used.has(m.id)) || chat[0];
    setPanes((all) => [...all, { key: Math.max(...all.map((p) => p.key)) + 1, model: next.id }]);
  };
  return (
    <div class="playground">
      <Settings settings={settings} onChange={setSettings} />
      <div class="arena">
        <div class={`panes panes-${panes.length}`}>
          {panes.map((pane, i) => (
            <ChatPane
              key={pane.key}
              model={pane.model}
              card={cardOf(models, pane.model)}
              settings={settings}
              turn={turn}
              stopTick={stopTick}
              clearTick={clearTick}
              onBusy={(b) => setBusy((all) => ({ ...all, [pane.key]: b }))}
              header={
                <header class="pane-head">
                  <ModelPicker label={`Model ${i + 1}`} models={chat} value={pane.model} onChange={(m) => setModel(pane.key, m)} />
                  <span class="muted small">{price(cardOf(models, pane.model))}</span>
                  {panes.length > 1 && (
                    <button type="button" class="link small" disabled={anyBusy} onClick={() => setPanes((all) => all.filter((p) => p.key !== pane.key))}>
                      Remove
                    </button>
                  )}
                </header>
              }
            />
          ))}
        </div>
        <div class="arena-foot">
          <Composer
            busy={anyBusy}
            onSend={(text) => setTurn((t) => ({ id: (t ? t.id : 0) + 1, text }))}
            onStop={() => setStopTick((t) => t + 1)}
            onClear={() => setClearTick((t) => t + 1)}
          />
          {panes.length < MAX_PANES && (
            <button type="button" class="secondary" onClick={addPane} disabled={anyBusy}>
              + Compare with another model
            </button>
          )}
        </div>
      </div>
    </div>
  );
}

export function Playground({ query }) {
  const models = useAsync((signal) => listModels(signal), []);
  return (
    <Page title="Playground" subtitle="Streamed answers with tokens, latency and cost; compare up to three models on one prompt.">
      <Async state={models} emptyTitle="No models yet">
        {(data) => <Arena models={data} initial={query.get("model")} />}
      </Async>
    </Page>
  );
}
