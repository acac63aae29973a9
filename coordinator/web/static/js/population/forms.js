// @ts-check
// The officer's forms: fields with a place for their own problem, values read back typed,
// and the server's refusals put next to the field they name ("id_number: …" from a domain
// check, "body.valid_from: …" from the request's validation), the rest above the buttons.
import { html, render } from "../html.js";
import { t } from "../i18n.js";

/**
 * One labelled input with its problem slot.
 * @param {string} name the API field
 * @param {{ type?: string, value?: string | number | null, required?: boolean, hint?: string, size?: number }} [o]
 */
export function field(name, o = {}) {
  return html`<label class="field">${t(`population.field.${name}`)}
    <input name="${name}" type="${o.type || "text"}" value="${o.value ?? ""}" ${o.required ? "required" : ""}
      size="${o.size || 18}" placeholder="${o.hint ? t(o.hint) : ""}">
    <small class="error" data-error-for="${name}"></small></label>`;
}

/**
 * A select of fixed options (labels from the catalogue under ``prefix``).
 * @param {string} name @param {string[]} options @param {string} prefix @param {string} [value]
 */
export function choice(name, options, prefix, value) {
  return html`<label class="field">${t(`population.field.${name}`)}
    <select name="${name}">${options.map((o) => html`<option value="${o}" ${o === value ? "selected" : ""}>
      ${o ? t(prefix + o.toLowerCase()) : t("population.choose")}</option>`)}
    </select><small class="error" data-error-for="${name}"></small></label>`;
}

/**
 * The form's non-empty values (trimmed); numbers where ``numeric`` says so.
 * @param {HTMLFormElement} form @param {string[]} [numeric]
 * @returns {Object<string, string | number>}
 */
export function values(form, numeric = []) {
  /** @type {Object<string, string | number>} */
  const out = {};
  for (const [k, v] of new FormData(form).entries()) {
    const s = String(v).trim();
    if (s) out[k] = numeric.includes(k) ? Number(s) : s;
  }
  return out;
}

/** Clear a form's problems. @param {HTMLFormElement} form */
export function clearProblems(form) {
  form.querySelectorAll("[data-error-for]").forEach((el) => { el.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  const msg = form.querySelector(".form-msg");
  if (msg) msg.textContent = "";
}

/**
 * The (field, problem) pairs of a refusal's body.
 * @param {any} body
 * @returns {Array<[string, string]>}
 */
export function problemsOf(body) {
  const d = body && body.detail;
  if (d && typeof d === "object" && !Array.isArray(d) && d.field) return [[String(d.field), String(d.message)]];
  /** @type {string[]} */
  const lines = Array.isArray(body && body.errors) ? body.errors : typeof d === "string" ? d.split("; ") : [];
  return lines.map((line) => {
    const m = /^(?:body\.)?([a-z_]+)(?:\.[^:]*)?: (.*)$/.exec(line);
    return m ? /** @type {[string, string]} */ ([m[1], m[2]]) : /** @type {[string, string]} */ (["", line]);
  });
}

/**
 * Show a refusal in the form: each problem beside its field, the others in the form's message.
 * @param {HTMLFormElement} form @param {any} err an ApiError (or any error)
 */
export function showProblems(form, err) {
  clearProblems(form);
  const rest = [];
  for (const [name, problem] of err && err.body ? problemsOf(err.body) : []) {
    const slot = name ? form.querySelector(`[data-error-for="${name}"]`) : null;
    if (slot) {
      slot.textContent = problem;
      form.querySelector(`[name="${name}"]`)?.setAttribute("aria-invalid", "true");
    } else rest.push(problem);
  }
  const msg = form.querySelector(".form-msg");
  if (msg && (rest.length || !err.body)) render(/** @type {HTMLElement} */ (msg), html`${err.message}`);
}

/** The message line and the submit button of a form. @param {string} key the button's label */
export const submit = (key) => html`<p class="form-msg error" role="alert"></p>
  <button class="primary" type="submit">${t(key)}</button>`;
