// One fetch wrapper for every screen: bearer token, purpose header, clear errors.
const KEY = "citywatch.session";

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export const session = {
  get() { try { return JSON.parse(sessionStorage.getItem(KEY)); } catch { return null; } },
  set(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); },
  clear() { sessionStorage.removeItem(KEY); },
  can(perm) { const s = this.get(); return !!s && s.permissions.includes(perm); },
};

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

function detail(body, status) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) return body.detail.map((d) => d.msg || String(d)).join("; ");
  return `HTTP ${status}`;
}

// purpose: personal-data reads must say why (recorded in the audit log).
export async function api(path, { method = "GET", body, purpose, raw = false } = {}) {
  const s = session.get();
  const headers = {};
  if (s) headers.Authorization = `Bearer ${s.access_token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (purpose) headers["X-Purpose"] = purpose;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, `cannot reach the coordinator (${e.message})`);
  }
  if (res.status === 401 && s) {
    onUnauthorized("Your session has ended (expired or revoked). Please sign in again.");
    throw new ApiError(401, "session ended");
  }
  if (raw) return res;
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch {
      throw new ApiError(res.status, `the coordinator sent malformed data for ${path}`);
    }
  }
  if (!res.ok) throw new ApiError(res.status, detail(data, res.status));
  return data;
}

export function esc(v) {
  return String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

export function fmtTime(t) {
  if (t == null) return "";
  const ms = t > 1e12 ? t : t * 1000;
  return new Date(ms).toLocaleString();
}

export function expectArray(v, what) {
  if (!Array.isArray(v)) throw new ApiError(0, `unexpected data for ${what}`);
  return v;
}
