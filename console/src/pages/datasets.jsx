// Datasets: drag-and-drop upload and the tenant's files, searchable, each deletable.
import { useState } from "preact/hooks";
import { useConfirm } from "../components/confirm.jsx";
import { useToast } from "../components/toast.jsx";
import { Async, Badge, Empty, Field, Page, Panel, StatusBadge } from "../components/ui.jsx";
import { api, del, getAll } from "../lib/api.js";
import { bytes, num, when } from "../lib/format.js";
import { useAction, useAsync } from "../lib/hooks.js";
import { t } from "../lib/i18n.js";
import { navigate } from "../lib/router.js";

const ACCEPT = ".jsonl,.json,.csv,application/jsonl,text/csv";

export const listFiles = (signal) => getAll("/v1/files", { limit: 10000, signal });

// A split part's name in the reader's language, one literal key each.
const PART_NAMES = {
  train: () => t("datasets.part_train"),
  validation: () => t("datasets.part_validation"),
  test: () => t("datasets.part_test"),
};
export const partName = (part) => (PART_NAMES[part] ? PART_NAMES[part]() : part);

/** Asks in the page's own dialog, then deletes `file`; true when it is gone. */
export function useDeleteFile() {
  const confirm = useConfirm();
  const toast = useToast();
  const [busy, run] = useAction(toast.error);
  const remove = async (file) => {
    const yes = await confirm({
      title: t("datasets.delete_title", { name: file.filename }),
      body: t("datasets.delete_body"),
      confirm: t("datasets.delete"),
      danger: true,
    });
    if (!yes) return false;
    const done = await run(async () => {
      await del(`/v1/files/${file.id}`);
      return true;
    });
    if (done) toast.ok(t("datasets.deleted", { name: file.filename }));
    return Boolean(done);
  };
  return [busy, remove];
}

function Dropzone({ onUploaded }) {
  const [purpose, setPurpose] = useState("fine-tune");
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);

  async function upload(file) {
    if (!file) return;
    setBusy(file.name);
    setError(null);
    const form = new FormData();
    form.append("purpose", purpose);
    form.append("file", file, file.name);
    try {
      onUploaded(await api("/v1/files", { method: "POST", form }));
    } catch (failure) {
      setError(failure.message);
    } finally {
      setBusy(null);
    }
  }

  return (
    <Panel title={t("datasets.upload_title")}>
      <div class="upload-row">
        <Field label={t("datasets.purpose")}>
          {(props) => (
            <select {...props} value={purpose} onChange={(e) => setPurpose(e.currentTarget.value)}>
              <option value="fine-tune">{t("datasets.purpose_fine_tune")}</option>
              <option value="evals">{t("datasets.purpose_evals")}</option>
            </select>
          )}
        </Field>
        <div
          class={`dropzone ${over ? "over" : ""}`}
          data-testid="dropzone"
          onDragOver={(e) => (e.preventDefault(), setOver(true))}
          onDragLeave={() => setOver(false)}
          onDrop={(e) => {
            e.preventDefault();
            setOver(false);
            upload(e.dataTransfer.files[0]);
          }}
        >
          {busy ? (
            <span role="status">{t("datasets.uploading", { name: busy })}</span>
          ) : (
            <>
              <span>{t("datasets.drop_here")}</span>
              <label class="button secondary">
                {t("datasets.choose_file")}
                <input
                  type="file"
                  class="sr-only"
                  accept={ACCEPT}
                  aria-label={t("datasets.choose_file_label")}
                  onChange={(e) => upload(e.currentTarget.files[0])}
                />
              </label>
            </>
          )}
        </div>
      </div>
      <p class="hint">
        {t("datasets.formats_before")} <code>{'{"messages": [...]}'}</code>
        {t("datasets.formats_middle")} <code>prompt,completion</code>
        {t("datasets.formats_after")}
      </p>
      {error && (
        <div class="state error" role="alert">
          <strong>{t("datasets.upload_refused")}</strong>
          <div>{error}</div>
        </div>
      )}
    </Panel>
  );
}

const purposeName = (purpose) =>
  purpose === "fine-tune" ? t("datasets.purpose_fine_tune") : purpose === "evals" ? t("datasets.purpose_evals") : purpose;

/** The files table; with `onDelete`, each row has a Delete button; `names` maps ids to filenames. */
export function FilesTable({ files, onDelete, busy, names }) {
  return (
    <div class="table-wrap">
      <table data-testid="files">
        <thead>
          <tr>
            <th scope="col">{t("datasets.col_file")}</th>
            <th scope="col">{t("datasets.col_purpose")}</th>
            <th scope="col">{t("datasets.col_format")}</th>
            <th scope="col" class="num">
              {t("datasets.col_examples")}
            </th>
            <th scope="col" class="num">
              {t("datasets.col_bad_lines")}
            </th>
            <th scope="col" class="num">
              {t("datasets.col_size")}
            </th>
            <th scope="col">{t("datasets.col_uploaded")}</th>
            {onDelete && (
              <th scope="col">
                <span class="sr-only">{t("datasets.col_actions")}</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {files.map((f) => (
            <tr key={f.id} data-file={f.id}>
              <td>
                <a href={`#/datasets/${f.id}`}>{f.filename}</a>
                <div class="muted small">{f.id}</div>
                {f.split_from && <SplitFrom parent={f.split_from} name={names && names.get(f.split_from.file_id)} />}
              </td>
              <td>{purposeName(f.purpose)}</td>
              <td>{f.format || "—"}</td>
              <td class="num">{num(f.examples)}</td>
              <td class="num">{f.problems && f.problems.length ? <Badge tone="warn">{f.problems.length}</Badge> : "0"}</td>
              <td class="num nowrap">{bytes(f.bytes)}</td>
              <td>
                {when(f.created_at)} {f.status !== "processed" && <StatusBadge status={f.status} />}
              </td>
              {onDelete && (
                <td class="row-actions">
                  <button type="button" class="small danger" disabled={busy} data-testid="delete-file" onClick={() => onDelete(f)}>
                    {t("datasets.delete")}
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "train part of <parent>": a link to the file a split part came from. */
export function SplitFrom({ parent, name }) {
  return (
    <div class="small" data-testid="split-from">
      {t("datasets.split_from", { part: partName(parent.part) })} <a href={`#/datasets/${parent.file_id}`}>{name || parent.file_id}</a>
    </div>
  );
}

const matches = (file, text) => {
  const wanted = text.trim().toLowerCase();
  return !wanted || file.filename.toLowerCase().includes(wanted) || file.id.toLowerCase().includes(wanted);
};

function YourFiles() {
  const files = useAsync(listFiles, []);
  const [search, setSearch] = useState("");
  const [busy, remove] = useDeleteFile();
  const onDelete = async (file) => {
    if (await remove(file)) files.setData(files.data.filter((f) => f.id !== file.id));
  };
  return (
    <Panel
      title={t("datasets.your_files")}
      actions={
        <input
          type="search"
          class="files-search"
          data-testid="files-search"
          aria-label={t("datasets.search_label")}
          placeholder={t("datasets.search_placeholder")}
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
      }
    >
      <Async state={files} emptyTitle={t("datasets.empty_title")} empty={t("datasets.empty_hint")}>
        {(data) => {
          const shown = data.filter((f) => matches(f, search));
          const names = new Map(data.map((f) => [f.id, f.filename]));
          return shown.length ? (
            <FilesTable files={shown} onDelete={onDelete} busy={busy} names={names} />
          ) : (
            <Empty title={t("datasets.no_match", { text: search.trim() })} />
          );
        }}
      </Async>
    </Panel>
  );
}

export function Datasets() {
  const toast = useToast();
  return (
    <Page title={t("datasets.title")} subtitle={t("datasets.subtitle")}>
      <Dropzone
        onUploaded={(file) => {
          toast.ok(t("datasets.uploaded", { name: file.filename, count: file.examples }));
          navigate(`/datasets/${file.id}`);
        }}
      />
      <YourFiles />
    </Page>
  );
}
