// @ts-check
// The one fetch wrapper under the generated client: bearer token, headers, clear errors.
// Screens never call it with a path of their own: they call api_client.js.
import { fmtTime, has, label, t } from "./i18n.js";

// The one date-time formatter lives with the catalogue (i18n.js); re-exported for the screens.
export { fmtTime };

const KEY = "citywatch.session";

export class ApiError extends Error {
  /**
   * @param {number} status @param {string} message
   * @param {any} [body] the answer's JSON (a form maps its problems; `code` names the refusal's kind)
   */
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    this.body = body;
    /** @type {string | undefined} */
    this.code = body && typeof body.code === "string" ? body.code : undefined;
  }
}

/**
 * @typedef {Object} Session
 * @property {string} access_token
 * @property {number} expires_at
 * @property {string} username
 * @property {string[]} roles
 * @property {string[]} permissions
 */

export const session = {
  /** @returns {Session | null} */
  get() { try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { return null; } },
  /** @param {Session} s */
  set(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); },
  clear() { sessionStorage.removeItem(KEY); },
  /** @param {string} perm */
  can(perm) { const s = this.get(); return !!s && s.permissions.includes(perm); },
};

/** @type {(message: string) => void} */
let onUnauthorized = () => {};
/** @param {(message: string) => void} fn */
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

/** @param {any} body @param {number} status */
function detail(body, status) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && body.detail && typeof body.detail.message === "string") return body.detail.message;
  if (body && Array.isArray(body.detail)) return body.detail.map((/** @type {any} */ d) => d.msg || String(d)).join("; ");
  return `HTTP ${status}`;
}

// The coordinator explains a refusal in one English sentence; the operator reads first what
// kind of refusal it is in their language, then the server's own words (kept for support).
/** @param {number} status @param {string} why */
function refusal(status, why) {
  const key = `http.status.${status}`;
  return t(has(key) ? key : status >= 500 ? "http.status.server" : "http.status.other", { detail: why, status });
}

/**
 * A path with its query string (undefined and null values left out; a list repeats its
 * key, ?status=new&status=confirmed, as the API's list parameters expect).
 * @param {string} path
 * @param {Object<string, any>} [query]
 */
export function url(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (Array.isArray(v)) for (const item of v) q.append(k, String(item));
    else if (v !== undefined && v !== null) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/**
 * @typedef {Object} RequestOptions
 * @property {Object<string, any>} [query]
 * @property {any} [body]
 * @property {boolean} [rawBody] the body is sent as is (text), not as JSON
 * @property {Object<string, string>} [headers]
 * @property {boolean} [raw] return the Response itself (images, files)
 */

/**
 * @param {string} method
 * @param {string} path
 * @param {RequestOptions} [options]
 * @returns {Promise<any>}
 */
export async function request(method, path, { query, body, rawBody = false, headers = {}, raw = false } = {}) {
  const s = session.get();
  // A header carries Latin-1 only: the caller's (a typed purpose, often Chinese) go as
  // percent-encoded UTF-8, which the coordinator decodes (coordinator/http/deps.py).
  /** @type {Object<string, string>} */
  const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, encodeURIComponent(v)]));
  if (s) h.Authorization = `Bearer ${s.access_token}`;
  if (body !== undefined && !rawBody) h["Content-Type"] = "application/json";
  const target = url(path, query);
  let res;
  try {
    res = await fetch(target, { method, headers: h, body: body === undefined ? undefined : rawBody ? body : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, t("http.unreachable", { error: e.message }));
  }
  if (res.status === 401 && s) {
    onUnauthorized(t("session.ended"));
    throw new ApiError(401, t("session.ended"));
  }
  if (raw) {
    if (!res.ok) throw new ApiError(res.status, refusal(res.status, `HTTP ${res.status}`));
    return res;
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch {
      throw new ApiError(res.status, t("http.malformed", { path }));
    }
  }
  if (!res.ok) throw new ApiError(res.status, refusal(res.status, detail(data, res.status)), data);
  return data;
}

/**
 * @template T
 * @param {T[]} v
 * @param {string} what what the list holds, in English (named in the catalogue under http.data.)
 * @returns {T[]}
 */
export function expectArray(v, what) {
  if (!Array.isArray(v)) throw new ApiError(0, t("http.unexpected", { what: label("http.data.", what.replace(/ /g, "_")) }));
  return v;
}
