// Datasets: drag-and-drop upload and the tenant's files.
import { useState } from "preact/hooks";
import { useToast } from "../components/toast.jsx";
import { Async, Badge, Field, Page, Panel, StatusBadge } from "../components/ui.jsx";
import { api, getAll } from "../lib/api.js";
import { bytes, num, when } from "../lib/format.js";
import { useAsync } from "../lib/hooks.js";
import { navigate } from "../lib/router.js";

const ACCEPT = ".jsonl,.json,.csv,application/jsonl,text/csv";

export const listFiles = (signal) => getAll("/v1/files", { limit: 10000, signal });

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
    <Panel title="Upload a dataset">
      <div class="upload-row">
        <Field label="Purpose">
          {(props) => (
            <select {...props} value={purpose} onChange={(e) => setPurpose(e.currentTarget.value)}>
              <option value="fine-tune">fine-tune</option>
              <option value="evals">evals</option>
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
            <span role="status">Uploading and validating {busy}…</span>
          ) : (
            <>
              <span>Drop a JSONL or CSV file here, or</span>
              <label class="button secondary">
                choose a file
                <input
                  type="file"
                  class="sr-only"
                  accept={ACCEPT}
                  aria-label="Choose a dataset file"
                  onChange={(e) => upload(e.currentTarget.files[0])}
                />
              </label>
            </>
          )}
        </div>
      </div>
      <p class="hint">
        Chat JSONL (<code>{'{"messages": [...]}'}</code>), prompt/completion JSONL, or CSV with <code>prompt,completion</code>.
        Bad lines are reported with their line numbers; the rest is kept.
      </p>
      {error && (
        <div class="state error" role="alert">
          <strong>Upload refused</strong>
          <div>{error}</div>
        </div>
      )}
    </Panel>
  );
}

export function FilesTable({ files }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col">Purpose</th>
            <th scope="col">Format</th>
            <th scope="col" class="num">Examples</th>
            <th scope="col" class="num">Bad lines</th>
            <th scope="col" class="num">Size</th>
            <th scope="col">Uploaded</th>
          </tr>
        </thead>
        <tbody>
          {files.map((f) => (
            <tr key={f.id}>
              <td>
                <a href={`#/datasets/${f.id}`}>{f.filename}</a>
                <div class="muted small">{f.id}</div>
              </td>
              <td>{f.purpose}</td>
              <td>{f.format || "—"}</td>
              <td class="num">{num(f.examples)}</td>
              <td class="num">{f.problems && f.problems.length ? <Badge tone="warn">{f.problems.length}</Badge> : "0"}</td>
              <td class="num">{bytes(f.bytes)}</td>
              <td>
                {when(f.created_at)} {f.status !== "processed" && <StatusBadge status={f.status} />}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Datasets() {
  const toast = useToast();
  const files = useAsync(listFiles, []);
  return (
    <Page title="Datasets" subtitle="Labelled data for fine-tuning and evaluation, checked line by line.">
      <Dropzone
        onUploaded={(file) => {
          toast.ok(`Uploaded ${file.filename}: ${file.examples} examples`);
          navigate(`/datasets/${file.id}`);
        }}
      />
      <Panel title="Your files">
        <Async state={files} emptyTitle="No datasets yet" empty="Upload a file above to start.">
          {(data) => <FilesTable files={data} />}
        </Async>
      </Panel>
    </Page>
  );
}
