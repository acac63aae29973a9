// @ts-check
// The one template helper. html`…${value}…` escapes every interpolated value; a value that
// is itself an html`` result (or a list of them) is inserted as is, and raw() marks a
// fragment the caller vouches for. render() accepts only html`` results, so no screen can
// put an unescaped string into the page by accident.
const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

export class Html {
  /** @param {string} text */
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

/** @param {unknown} v @returns {string} */
function piece(v) {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(piece).join("");
  if (v === null || v === undefined || v === false) return "";
  return String(v).replace(/[&<>"'`]/g, (c) => ESC[/** @type {keyof typeof ESC} */ (c)]);
}

/**
 * @param {TemplateStringsArray} strings
 * @param {...unknown} values
 * @returns {Html}
 */
export function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
  return new Html(out);
}

/** A trusted fragment (never data from the API or the user). @param {string} text */
export function raw(text) { return new Html(String(text)); }

/** @param {Html} tpl */
function checked(tpl) {
  if (!(tpl instanceof Html)) throw new TypeError("render() takes html`` templates only");
  return tpl.text;
}

/** Replace an element's content. @param {Element} el @param {Html} tpl */
export function render(el, tpl) { el.innerHTML = checked(tpl); }

/** Append to an element's content. @param {Element} el @param {Html} tpl */
export function append(el, tpl) { el.insertAdjacentHTML("beforeend", checked(tpl)); }

/** Replace an element itself. @param {Element} el @param {Html} tpl */
export function replace(el, tpl) { el.outerHTML = checked(tpl); }
