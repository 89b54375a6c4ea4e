// The first records of an uploaded file, for the preview table (the server has the real parser).
import { request } from "./api.js";

/** At most `maxBytes` of a file's content, as text (cut at the last full line). */
export async function readHead(path, { maxBytes = 256 * 1024, signal } = {}) {
  const response = await request(path, { signal });
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  while (size < maxBytes) {
    const { value, done } = await reader.read();
    if (done) return new TextDecoder().decode(concat(chunks, size));
    chunks.push(value);
    size += value.length;
  }
  reader.cancel();
  const text = new TextDecoder().decode(concat(chunks, size));
  return text.slice(0, text.lastIndexOf("\n") + 1);
}

function concat(chunks, size) {
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

const lastOf = (messages, role) => {
  const found = [...messages].reverse().find((m) => m && m.role === role);
  return found ? String(found.content ?? "") : "";
};

function fromObject(value) {
  if (value && Array.isArray(value.messages)) {
    return {
      system: lastOf(value.messages, "system"),
      prompt: lastOf(value.messages, "user"),
      answer: lastOf(value.messages, "assistant"),
      turns: value.messages.length,
    };
  }
  if (value && typeof value === "object" && "prompt" in value) {
    return { system: "", prompt: String(value.prompt ?? ""), answer: String(value.completion ?? ""), turns: 2 };
  }
  return null;
}

function jsonlRows(text, limit) {
  const rows = [];
  text.split("\n").forEach((line, i) => {
    if (rows.length >= limit || !line.trim()) return;
    let parsed = null;
    try {
      parsed = fromObject(JSON.parse(line));
    } catch {
      parsed = null;
    }
    rows.push({ line: i + 1, ...(parsed || { raw: line }) });
  });
  return rows;
}

/** CSV records with the line each starts on; quoted fields may hold commas, quotes and newlines. */
function csvRecords(text) {
  const records = [];
  let field = "";
  let record = [];
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), (i += 1);
      else if (c === '"') quoted = false;
      else field += c;
      if (c === "\n") line += 1;
    } else if (c === '"') quoted = true;
    else if (c === ",") record.push(field), (field = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      record.push(field);
      if (record.some((f) => f !== "")) records.push({ line: start, fields: record });
      record = [];
      field = "";
      line += 1;
      start = line;
    } else field += c;
  }
  if (field || record.length) records.push({ line: start, fields: [...record, field] });
  return records;
}

function csvRows(text, limit) {
  const [header, ...records] = csvRecords(text);
  if (!header) return [];
  const names = header.fields.map((n) => n.trim().toLowerCase());
  const at = (r, name) => r.fields[names.indexOf(name)] ?? "";
  return records.slice(0, limit).map((r) => ({
    line: r.line,
    system: names.includes("system") ? at(r, "system") : "",
    prompt: at(r, "prompt"),
    answer: at(r, "completion"),
    turns: 2,
  }));
}

export function previewRows(text, format, limit = 50) {
  return format === "csv" ? csvRows(text, limit) : jsonlRows(text, limit);
}
