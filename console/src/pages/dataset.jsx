// One dataset: stats, the validation report with line numbers, a preview, re-validation and splits.
import { useState } from "preact/hooks";
import { useToast } from "../components/toast.jsx";
import { Async, Badge, Empty, Field, Page, Panel, Stat } from "../components/ui.jsx";
import { get, post } from "../lib/api.js";
import { bytes, num, when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";
import { chatModels, listModels } from "../lib/models.js";
import { previewRows, readHead } from "../lib/preview.js";
import { href, navigate } from "../lib/router.js";
import { FilesTable, SplitFrom, useDeleteFile } from "./datasets.jsx";

function Stats({ file }) {
  const s = file.stats || {};
  return (
    <div class="stats-grid">
      <Stat label={t("datasets.stat_examples")} value={num(file.examples)} />
      <Stat label={t("datasets.stat_lines")} value={num(s.lines)} />
      <Stat label={t("datasets.stat_bad_lines")} value={num(s.dropped ?? file.problems.length)} />
      <Stat label={t("datasets.stat_with_answer")} value={num(s.with_answer)} />
      <Stat
        label={t("datasets.stat_tokens_per_example")}
        value={`${num(s.min_tokens)} / ${num(s.mean_tokens)} / ${num(s.max_tokens)}`}
        hint={t("datasets.stat_min_mean_max")}
      />
      <Stat
        label={t("datasets.stat_training_tokens")}
        value={num(s.estimated_training_tokens)}
        hint={s.token_counts_estimated ? t("datasets.estimated") : t("datasets.counted")}
      />
    </div>
  );
}

export function ProblemsTable({ problems, caption }) {
  if (!problems.length) return <p class="ok-note">{t("datasets.every_line_usable")}</p>;
  return (
    <div class="table-wrap">
      <table data-testid="problems">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col" class="num">
              {t("datasets.col_line")}
            </th>
            <th scope="col">{t("datasets.col_problem")}</th>
            <th scope="col">{t("datasets.col_details")}</th>
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
    <Async state={rows} emptyTitle={t("datasets.file_empty")}>
      {(data) => (
        <div class="table-wrap preview">
          <table>
            <thead>
              <tr>
                <th scope="col" class="num">
                  {t("datasets.col_line")}
                </th>
                <th scope="col">{t("datasets.col_system")}</th>
                <th scope="col">{t("datasets.col_prompt")}</th>
                <th scope="col">{t("datasets.col_answer")}</th>
              </tr>
            </thead>
            <tbody>
              {data.map((r) =>
                bad.has(r.line) || r.raw !== undefined ? (
                  <tr key={r.line} class="row-bad">
                    <td class="num">{r.line}</td>
                    <td colSpan={3}>
                      <Badge tone="warn">{bad.has(r.line) ? bad.get(r.line).code.replace(/_/g, " ") : t("datasets.unreadable")}</Badge>{" "}
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
          <p class="hint">{t("datasets.first_records", { count: data.length })}</p>
        </div>
      )}
    </Async>
  );
}

function Revalidate({ file }) {
  const toast = useToast();
  const models = useAsync((signal) => listModels(signal).then(chatModels), []);
  const [model, setModel] = useState("");
  const [report, setReport] = useState(null);
  const [busy, run] = useAction(toast.error);
  return (
    <Async state={models} emptyTitle={t("datasets.no_chat_models")}>
      {(chat) => {
        // Preselected: the first chat model, so the select is never blank.
        const chosen = chat.some((m) => m.id === model) ? model : chat[0].id;
        return (
          <>
            <form
              class="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                run(async () => setReport(await post(`/v1/files/${file.id}/validate`, { model: chosen })));
              }}
            >
              <Field label={t("datasets.check_against")}>
                {(props) => (
                  <select {...props} name="validate-model" value={chosen} onChange={(e) => setModel(e.currentTarget.value)}>
                    {chat.map((m) => (
                      <option key={m.id} value={m.id}>
                        {m.id}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <button type="submit" disabled={busy}>
                {busy ? t("datasets.checking") : t("datasets.validate")}
              </button>
            </form>
            {report && (
              <div class="report">
                <p>
                  <strong>{report.model}</strong>:{" "}
                  {t("datasets.validate_result", {
                    usable: num(report.examples),
                    rejected: num(report.rejected),
                    context: num(report.context_length),
                  })}{" "}
                  ({report.token_counter === "tokenizer" ? t("datasets.counted_with_tokenizer") : t("datasets.estimated")}).
                  {report.note && <span class="muted"> {report.note}</span>}
                </p>
                <ProblemsTable problems={report.problems} caption={t("datasets.problems_against_model")} />
              </div>
            )}
          </>
        );
      }}
    </Async>
  );
}

// One literal key per split field, so the messages test finds them all.
const PART_LABELS = {
  train: () => t("datasets.part_train"),
  validation: () => t("datasets.part_validation"),
  test: () => t("datasets.part_test"),
  seed: () => t("datasets.seed"),
};

function Split({ file, onMade }) {
  const toast = useToast();
  const [parts, setParts] = useState({ train: 0.8, validation: 0.1, test: 0.1, seed: 0 });
  const [busy, run] = useAction(toast.error);
  const total = parts.train + parts.validation + parts.test;
  const error = Math.abs(total - 1) > 1e-6 ? t("datasets.split_sum", { total: num(total, 2) }) : null;
  const input = (name, step, max) => (
    <Field label={PART_LABELS[name]()}>
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
          if (!error) run(async () => onMade((await post(`/v1/files/${file.id}/split`, parts)).data));
        }}
      >
        {input("train", 0.05, 1)}
        {input("validation", 0.05, 1)}
        {input("test", 0.05, 1)}
        {input("seed", 1, 2 ** 31)}
        <button type="submit" disabled={busy || !!error}>
          {t("datasets.split")}
        </button>
      </form>
      {error && (
        <div class="field-error" role="alert">
          {error}
        </div>
      )}
    </>
  );
}

function Parent({ file }) {
  // The parent may have been deleted since: then its id shows, without a name.
  const parent = useAsync((signal) => get(`/v1/files/${encodeURIComponent(file.split_from.file_id)}`, { signal }).catch(() => null), [file.id]);
  return <SplitFrom parent={file.split_from} name={parent.data && parent.data.filename} />;
}

function Detail({ file }) {
  const [made, setMade] = useState(null);
  const [busy, remove] = useDeleteFile();
  const onDelete = async () => {
    if (await remove(file)) navigate("/datasets");
  };
  const subtitle = t("datasets.detail_subtitle", {
    id: file.id,
    purpose: file.purpose,
    format: file.format,
    size: bytes(file.bytes),
    when: when(file.created_at),
  });
  const count = file.problems.length;
  return (
    <Page
      title={file.filename}
      subtitle={subtitle}
      actions={
        <>
          <a class="button" href={href("/fine-tuning/new", { file: file.id })}>
            {t("datasets.fine_tune_on_it")}
          </a>
          <a class="button secondary" href={href("/evaluations/new", { file: file.id })}>
            {t("datasets.evaluate_on_it")}
          </a>
          <button type="button" class="danger" onClick={onDelete} disabled={busy}>
            {t("datasets.delete")}
          </button>
        </>
      }
    >
      {file.split_from && <Parent file={file} />}
      <Stats file={file} />
      <Panel title={t("datasets.report_title", { count })}>
        <ProblemsTable problems={file.problems} caption={t("datasets.problems_caption")} />
      </Panel>
      <Panel title={t("datasets.preview")}>
        <Preview file={file} />
      </Panel>
      <div class="two-col">
        <Panel title={t("datasets.revalidate")}>
          <Revalidate file={file} />
        </Panel>
        <Panel title={t("datasets.split_title")}>
          <Split file={file} onMade={setMade} />
        </Panel>
      </div>
      {made && (
        <Panel title={t("datasets.split_made", { count: made.length })}>
          <div data-testid="split-parts">
            <FilesTable files={made} names={new Map([[file.id, file.filename]])} />
          </div>
        </Panel>
      )}
    </Page>
  );
}

export function Dataset({ id }) {
  const file = useAsync((signal) => get(`/v1/files/${encodeURIComponent(id)}`, { signal }), [id]);
  if (file.error && file.error.status === 404) {
    return (
      <Page title={t("datasets.not_found")}>
        <Empty title={t("datasets.not_found_body")}>
          <a href="#/datasets">{t("datasets.back")}</a>
        </Empty>
      </Page>
    );
  }
  return <Async state={file}>{(data) => <Detail file={data} />}</Async>;
}
