// @ts-check
// Every visible string goes through t(key), every date and number through the formatters
// below: one place decides the language (docs/operators-dashboard.md, "Language").
// Chinese (zh-CN) is the default for a browser that prefers Chinese, English otherwise;
// the operator's choice from the switch in the header is kept in localStorage.
import en from "../i18n/en.json" with { type: "json" };
import zh from "../i18n/zh-CN.json" with { type: "json" };

/** @typedef {"zh-CN" | "en"} Locale */

/** Each language's catalogue, and its name as its readers write it (never translated). */
export const LANGUAGES = /** @type {const} */ ({
  "zh-CN": { name: "中文", strings: /** @type {Object<string, string>} */ (zh) },
  en: { name: "English", strings: /** @type {Object<string, string>} */ (en) },
});
const STORE = "citywatch.locale";

/**
 * The language for a browser's preferred languages (navigator.languages): the first one
 * the dashboard speaks; English when none.
 * @param {readonly string[]} preferred
 * @returns {Locale}
 */
export function pickLocale(preferred) {
  for (const tag of preferred) {
    const lang = String(tag).toLowerCase().split(/[-_]/)[0];
    if (lang === "zh") return "zh-CN";
    if (lang === "en") return "en";
  }
  return "en";
}

/** @returns {Locale} the stored choice, else what the browser prefers */
function initialLocale() {
  let stored = null;
  try { stored = localStorage.getItem(STORE); } catch { /* storage disabled: browser's choice */ }
  if (stored && stored in LANGUAGES) return /** @type {Locale} */ (stored);
  return pickLocale(navigator.languages?.length ? navigator.languages : [navigator.language || "en"]);
}

/** @type {Locale} */
let current = initialLocale();
/** @type {Set<(l: Locale) => void>} */
const listeners = new Set();
/** @type {Map<string, any>} Intl formatters by locale and options (they are costly to make) */
const formatters = new Map();

/** The language in use. @returns {Locale} */
export function locale() { return current; }

/** Mark the page with the language in use (screen readers, fonts, hyphenation). */
export function markDocument() { document.documentElement.lang = current; }

/**
 * Switch language, remember the choice, tell the listeners (the shell redraws).
 * @param {string} next
 */
export function setLocale(next) {
  if (!(next in LANGUAGES)) throw new Error(`no catalogue for ${next}`);
  current = /** @type {Locale} */ (next);
  try { localStorage.setItem(STORE, current); } catch { /* not kept: still switched */ }
  markDocument();
  for (const fn of listeners) fn(current);
}

/** Be told when the language changes; returns the way to stop. @param {(l: Locale) => void} fn */
export function onLocaleChange(fn) { listeners.add(fn); return () => { listeners.delete(fn); }; }

/**
 * The string for key, with {name} placeholders filled from params (numbers localised).
 * A key missing from the language's catalogue falls back to English.
 * @param {string} key
 * @param {Object<string, string | number>} [params]
 * @returns {string}
 */
export function t(key, params) {
  const s = LANGUAGES[current].strings[key] ?? LANGUAGES.en.strings[key];
  if (s === undefined) { console.warn(`no string for ${key}`); return key; }
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => {
    if (!(k in params)) return m;
    const v = params[k];
    return typeof v === "number" ? fmtNumber(v) : String(v);
  });
}

/** Whether the catalogue has a string for key. @param {string} key */
export function has(key) { return key in LANGUAGES.en.strings; }

/**
 * The label of an enumerated value the API sends (a status, a kind, a level): the string
 * under prefix + value, or the value itself when the catalogue does not know it yet (a
 * newer server), so nothing is hidden.
 * @param {string} prefix e.g. "incidents.status."
 * @param {string | null | undefined} value
 */
export function label(prefix, value) {
  if (value == null || value === "") return "";
  return has(prefix + value) ? t(prefix + value) : String(value);
}

/**
 * @template T
 * @param {string} kind @param {any} options @param {(l: string, o: any) => T} make
 * @returns {T}
 */
function formatter(kind, options, make) {
  const id = `${current}|${kind}|${JSON.stringify(options)}`;
  let f = formatters.get(id);
  if (!f) { f = make(current, options); formatters.set(id, f); }
  return f;
}

/** @param {number | null | undefined} v seconds or milliseconds since the epoch */
const toDate = (v) => new Date(/** @type {number} */ (v) > 1e12 ? /** @type {number} */ (v) : /** @type {number} */ (v) * 1000);

/** Date and time, e.g. 2026/11/30 20:36:04. @param {number | null | undefined} v seconds or ms */
export function fmtTime(v) {
  if (v == null || !isFinite(v)) return "";
  const o = { dateStyle: "short", timeStyle: "medium", hourCycle: "h23" };
  return formatter("dt", o, (l, x) => new Intl.DateTimeFormat(l, x)).format(toDate(v));
}

/**
 * A calendar date (an ISO date or date-time string, or epoch seconds/ms), e.g. 1990年5月3日.
 * @param {string | number | null | undefined} v
 */
export function fmtDate(v) {
  if (v == null || v === "") return "";
  // A bare ISO date is a calendar day, not midnight UTC: read it in local time.
  const d = typeof v === "number" ? toDate(v) : new Date(/^\d{4}-\d\d-\d\d$/.test(v) ? `${v}T00:00` : v);
  if (isNaN(d.getTime())) return String(v);
  return formatter("d", { dateStyle: "medium" }, (l, x) => new Intl.DateTimeFormat(l, x)).format(d);
}

/** A number with the language's grouping, e.g. 24,000. @param {number} n @param {Intl.NumberFormatOptions} [options] */
export function fmtNumber(n, options = {}) {
  return formatter("n", options, (l, x) => new Intl.NumberFormat(l, x)).format(n);
}

/** A ratio as a percentage, e.g. 0.93 → 93%. @param {number} ratio */
export function fmtPercent(ratio) { return fmtNumber(ratio, { style: "percent", maximumFractionDigits: 0 }); }

/** A duration in seconds, e.g. 42 sec / 42秒; null → –. @param {number | null | undefined} s */
export function fmtSeconds(s) {
  if (s == null || !isFinite(s)) return "–";
  if (Math.abs(s) < 120) return fmtNumber(Math.round(s), { style: "unit", unit: "second", unitDisplay: "short" });
  return fmtNumber(Math.round(s / 60), { style: "unit", unit: "minute", unitDisplay: "short" });
}

/** Each unit of "… ago" and the age (seconds) up to which it is used. */
/** A distance, e.g. 850 m / 1.3 km (850米 / 1.3公里). @param {number} metres */
export function fmtDistance(metres) {
  if (metres < 1000) return fmtNumber(Math.round(metres), { style: "unit", unit: "meter", unitDisplay: "short" });
  return fmtNumber(metres / 1000, { style: "unit", unit: "kilometer", unitDisplay: "short", maximumFractionDigits: 1 });
}

const STEPS = /** @type {const} */ ([
  [60, "second"], [3600, "minute"], [86400, "hour"], [86400 * 30, "day"], [86400 * 365, "month"], [Infinity, "year"],
]);

/** How long ago, e.g. 5 minutes ago / 5分钟前. @param {number | null | undefined} v seconds or ms */
export function fmtAgo(v) {
  if (v == null || !isFinite(v)) return "";
  const diff = (toDate(v).getTime() - Date.now()) / 1000;
  let unit = 1;
  for (let i = 0; i < STEPS.length; i++) {
    const [limit, name] = STEPS[i];
    if (Math.abs(diff) < limit) {
      const rtf = formatter("rt", { numeric: "auto" }, (l, x) => new Intl.RelativeTimeFormat(l, x));
      return rtf.format(Math.round(diff / unit), name);
    }
    unit = limit;
  }
  return "";
}
