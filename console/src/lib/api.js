// Every data call of the console: same origin, `Authorization: Bearer <key>`, OpenAI's error shape.
const KEY = "modelyard.console.key";
const MAX_MESSAGE = 400;

import { t } from "./i18n.js";
export const keyStore = {
  get: () => sessionStorage.getItem(KEY),
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

let onUnauthorized = () => {};
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

export class ApiError extends Error {
  constructor(status, message, { code = null, param = null, retryAfter = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
    this.retryAfter = retryAfter;
  }
  get notAvailable() {
    return this.status === 404 && this.code === "route_not_found";
  }
}

// Never show more than a short, single-purpose message: no stack traces, whatever a server sends.
function clean(text) {
  const first = String(text || "").split(/\n\s*(Traceback|at |File ")/)[0].trim();
  return first.length > MAX_MESSAGE ? `${first.slice(0, MAX_MESSAGE)}…` : first;
}

// The app answers a path it has no route for with 404 "Not Found" (code "404"): a feature
// this server does not have yet, as opposed to a missing object (which names what is missing).
function isUnknownRoute(status, error) {
  return status === 404 && error && error.message === "Not Found" && error.code === "404";
}

async function toError(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: fall through to the generic message
  }
  const error = body && body.error;
  // 429 (a rate or budget limit) says when to try again, in whole seconds.
  const retryAfter = response.status === 429 ? Number(response.headers.get("Retry-After")) || null : null;
  if (retryAfter) {
    const message = clean(error && error.message ? error.message : t("common.too_many_requests"));
    return new ApiError(429, t("common.try_again_in", { message, seconds: retryAfter }), { ...error, retryAfter });
  }
  if (isUnknownRoute(response.status, error)) {
    return new ApiError(404, t("common.feature_not_available"), { code: "route_not_found" });
  }
  if (error && error.message) return new ApiError(response.status, clean(error.message), error);
  return new ApiError(response.status, t("common.server_answered", { status: `${response.status} ${response.statusText}`.trim() }));
}

// Reads the console repeats on a timer say so in a header: the audit log files them as the
// console's polling, and the activity views hide them unless asked. Only reads are marked.
const POLL_HEADER = "X-Modelyard-Poll";
let polling = 0;

/**
 * Runs `fn()` with every read it *starts synchronously* marked as polling (usePoll wraps its
 * callback in this). A read made after an `await` inside `fn` is not marked: start them first
 * (`Promise.all([get(a), get(b)])`), or pass `{poll: true}` to `get`.
 */
export function asPolling(fn) {
  polling += 1;
  try {
    return fn();
  } finally {
    polling -= 1;
  }
}

export async function request(path, { method = "GET", body, form, signal, auth = true, poll } = {}) {
  const headers = {};
  if ((poll ?? polling > 0) && method === "GET") headers[POLL_HEADER] = "1";
  const key = keyStore.get();
  if (auth && key) headers.Authorization = `Bearer ${key}`;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, signal, credentials: "omit" });
  } catch (exc) {
    if (exc.name === "AbortError") throw exc;
    throw new ApiError(0, t("common.cannot_reach"), { code: "network" });
  }
  if (!response.ok) {
    const error = await toError(response);
    if (response.status === 401 && auth) onUnauthorized(error);
    throw error;
  }
  return response;
}

export async function api(path, options) {
  const response = await request(path, options);
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, options) => api(path, options);
export const post = (path, body, options) => api(path, { ...options, method: "POST", body: body ?? {} });
export const put = (path, body, options) => api(path, { ...options, method: "PUT", body: body ?? {} });
export const del = (path, options) => api(path, { ...options, method: "DELETE" });

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Every page of a list endpoint that pages with `after` (`has_more`, `last_id`).
export async function getAll(path, { limit = 100, max = 2000, signal } = {}) {
  const rows = [];
  let after = null;
  do {
    const page = await get(`${path}${query({ limit, after })}`, { signal });
    rows.push(...page.data);
    after = page.has_more ? page.last_id : null;
  } while (after && rows.length < max);
  return rows;
}

/**
 * Saves what `path` answers as a file. Fetched with the Authorization header like every other
 * call and handed to the browser as a blob: the key never goes into a URL.
 */
export async function download(path, fallbackName) {
  const response = await request(path);
  const disposition = response.headers.get("content-disposition") || "";
  const named = /filename="?([^";]+)"?/.exec(disposition);
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: named ? named[1] : fallbackName });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
