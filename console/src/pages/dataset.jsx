// One dataset: stats, the validation report with line numbers, a preview, re-validation and splits.
import { useState } from "preact/hooks";
import { useToast } from "../components/toast.jsx";
import { Async, Badge, Empty, Field, Page, Panel, Stat } from "../components/ui.jsx";
import { del, get, post } from "../lib/api.js";
import { bytes, num, when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { chatModels, listModels } from "../lib/models.js";
import { previewRows, readHead } from "../lib/preview.js";
import { href, navigate } from "../lib/router.js";
import { FilesTable } from "./datasets.jsx";

function Stats({ file }) {
  const s = file.stats || {};
  return (
    <div class="stats-grid">
      <Stat label="Examples kept" value={num(file.examples)} />
      <Stat label="Lines read" value={num(s.lines)} />
      <Stat label="Bad lines" value={num(s.dropped ?? file.problems.length)} />
      <Stat label="With an answer" value={num(s.with_answer)} />
      <Stat label="Tokens per example" value={`${num(s.min_tokens)} / ${num(s.mean_tokens)} / ${num(s.max_tokens)}`} hint="min / mean / max" />
      <Stat label="Training tokens" value={num(s.estimated_training_tokens)} hint={s.token_counts_estimated ? "estimated" : "counted"} />
    </div>
  );
}

export function ProblemsTable({ problems, caption }) {
  if (!problems.length) return <p class="ok-note">Every line is usable.</p>;
  return (
    <div class="table-wrap">
      <table data-testid="problems">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col" class="num">Line</th>
            <th scope="col">Problem</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {problems.map((p) => (
            <tr key={`${p.line}-${p.code}`}>
              <td class="num">{p.line}</td>
              <td>
                <Badge tone="warn">{p.code.replace(/_/g, " ")}</Badge>
              </td>
              <td>{p.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Preview({ file }) {
  const rows = useAsync(
    async (signal) => previewRows(await readHead(`/v1/files/${file.id}/content`, { signal }), file.format),
    [file.id],
  );
  const bad = new Map(file.problems.map((p) => [p.line, p]));
  return (
    <Async state={rows} emptyTitle="The file is empty">
      {(data) => (
        <div class="table-wrap preview">
          <table>
            <thead>
              <tr>
                <th scope="col" class="num">Line</th>
                <th scope="col">System</th>
                <th scope="col">Prompt (last user turn)</th>
                <th scope="col">Answer</th>
              </tr>
            </thead>
            <tbody>
              {data.map((r) =>
                bad.has(r.line) || r.raw !== undefined ? (
                  <tr key={r.line} class="row-bad">
                    <td class="num">{r.line}</td>
                    <td colSpan={3}>
                      <Badge tone="warn">{bad.has(r.line) ? bad.get(r.line).code.replace(/_/g, " ") : "unreadable"}</Badge>{" "}
                      <code class="clip">{r.raw ?? r.prompt}</code>
                    </td>
                  </tr>
                ) : (
                  <tr key={r.line}>
                    <td class="num">{r.line}</td>
                    <td class="clip">{r.system}</td>
                    <td class="clip">{r.prompt}</td>
                    <td class="clip">{r.answer}</td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
          <p class="hint">The first {data.length} records.</p>
        </div>
      )}
    </Async>
  );
}

function Revalidate({ file }) {
  const toast = useToast();
  const models = useAsync((signal) => listModels(signal), []);
  const [model, setModel] = useState("");
  const [report, setReport] = useState(null);
  const [busy, run] = useAction(toast.error);
  return (
    <Async state={models} emptyTitle="No models to check against">
      {(all) => (
        <>
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              const chosen = model || chatModels(all)[0].id;
              run(async () => setReport(await post(`/v1/files/${file.id}/validate`, { model: chosen })));
            }}
          >
            <Field label="Check lengths against a model">
              {(props) => (
                <select {...props} value={model} onChange={(e) => setModel(e.currentTarget.value)}>
                  {chatModels(all).map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.id}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <button type="submit" disabled={busy}>
              {busy ? "Checking…" : "Validate"}
            </button>
          </form>
          {report && (
            <div class="report">
              <p>
                <strong>{report.model}</strong>: {num(report.examples)} usable, {num(report.rejected)} rejected; context{" "}
                {num(report.context_length)} tokens ({report.token_counter === "tokenizer" ? "counted with its tokenizer" : "estimated"}).
                {report.note && <span class="muted"> {report.note}</span>}
              </p>
              <ProblemsTable problems={report.problems} caption="Problems against the model" />
            </div>
          )}
        </>
      )}
    </Async>
  );
}

function Split({ file }) {
  const toast = useToast();
  const [parts, setParts] = useState({ train: 0.8, validation: 0.1, test: 0.1, seed: 0 });
  const [made, setMade] = useState(null);
  const [busy, run] = useAction(toast.error);
  const total = parts.train + parts.validation + parts.test;
  const error = Math.abs(total - 1) > 1e-6 ? `The three parts add up to ${total.toFixed(2)}; they must add up to 1.` : null;
  const input = (name, step, max) => (
    <Field label={name[0].toUpperCase() + name.slice(1)}>
      {(props) => (
        <input
          {...props}
          type="number"
          min={0}
          max={max}
          step={step}
          value={parts[name]}
          onInput={(e) => setParts({ ...parts, [name]: Number(e.currentTarget.value) })}
        />
      )}
    </Field>
  );
  return (
    <>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!error) run(async () => setMade((await post(`/v1/files/${file.id}/split`, parts)).data));
        }}
      >
        {input("train", 0.05, 1)}
        {input("validation", 0.05, 1)}
        {input("test", 0.05, 1)}
        {input("seed", 1, 2 ** 31)}
        <button type="submit" disabled={busy || !!error}>
          Split
        </button>
      </form>
      {error && (
        <div class="field-error" role="alert">
          {error}
        </div>
      )}
      {made && <FilesTable files={made} />}
    </>
  );
}

function Detail({ file }) {
  const toast = useToast();
  const [busy, run] = useAction(toast.error);
  const remove = () =>
    confirm(`Delete ${file.filename}?`) &&
    run(async () => {
      await del(`/v1/files/${file.id}`);
      toast.ok(`Deleted ${file.filename}`);
      navigate("/datasets");
    });
  return (
    <Page
      title={file.filename}
      subtitle={`${file.id} · ${file.purpose} · ${file.format} · ${bytes(file.bytes)} · uploaded ${when(file.created_at)}`}
      actions={
        <>
          <a class="button" href={href("/fine-tuning/new", { file: file.id })}>
            Fine-tune on it
          </a>
          <a class="button secondary" href={href("/evaluations/new", { file: file.id })}>
            Evaluate on it
          </a>
          <button type="button" class="danger" onClick={remove} disabled={busy}>
            Delete
          </button>
        </>
      }
    >
      <Stats file={file} />
      <Panel title={`Validation report: ${file.problems.length} bad line${file.problems.length === 1 ? "" : "s"}`}>
        <ProblemsTable problems={file.problems} caption="Lines the server could not use" />
      </Panel>
      <Panel title="Preview">
        <Preview file={file} />
      </Panel>
      <div class="two-col">
        <Panel title="Re-validate">
          <Revalidate file={file} />
        </Panel>
        <Panel title="Split into train / validation / test">
          <Split file={file} />
        </Panel>
      </div>
    </Page>
  );
}

export function Dataset({ id }) {
  const file = useAsync((signal) => get(`/v1/files/${encodeURIComponent(id)}`, { signal }), [id]);
  if (file.error && file.error.status === 404) {
    return (
      <Page title="Dataset not found">
        <Empty title="There is no such file in your tenant.">
          <a href="#/datasets">Back to datasets</a>
        </Empty>
      </Page>
    );
  }
  return (
    <Async state={file}>{(data) => <Detail file={data} />}</Async>
  );
}
