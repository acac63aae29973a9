// @ts-check
// Every visible string goes through t(key): today the English catalogue, later others
// (a test checks that every key the screens use is in the catalogue).
import en from "../i18n/en.json" with { type: "json" };

/** @type {Object<string, string>} */
let catalogue = en;

/** Use another catalogue (same keys). @param {Object<string, string>} strings */
export function useCatalogue(strings) { catalogue = strings; }

/**
 * The string for key, with {name} placeholders filled from params.
 * @param {string} key
 * @param {Object<string, string | number>} [params]
 * @returns {string}
 */
export function t(key, params) {
  const s = catalogue[key];
  if (s === undefined) { console.warn(`no string for ${key}`); return key; }
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}
