// @ts-check
// The in-page dialogs of the incident queue (never prompt()): merge into an incident picked
// from a list of nearby open ones (kind, address, age, distance), split off some cameras
// (checkboxes), the purpose of viewing frames or exporting evidence (validated), and the
// disposition and narrative a resolution records. Each dialog checks its answer before it
// closes and says in the dialog what is missing; cancelling resolves to null.
import { getIncident, incidentsListDispositions, listIncidents } from "./api_client.js";
import { Html, html, render } from "./html.js";
import { fmtAgo, fmtDistance, label, locale, t } from "./i18n.js";

/** @typedef {import("./api_client.js").Incident} Incident */
/** @typedef {import("./api_client.js").DispositionCode} DispositionCode */

/** Open statuses a merge target may have (a merged incident absorbs nothing). */
const OPEN = /** @type {Array<"new" | "confirmed" | "dispatched" | "en_route" | "on_scene">} */ (
  ["new", "confirmed", "dispatched", "en_route", "on_scene"]);
/** How many merge candidates the list shows (nearest first). */
const MAX_CANDIDATES = 15;
/** Purposes and narratives are at least this long (as the API requires of a purpose). */
const MIN_TEXT = 3;

/**
 * Show a dialog; `read` turns the form into the answer or an error message (the dialog
 * stays open and shows it). Resolves with the answer, or null when cancelled.
 * @template T
 * @param {string} testid @param {string} title @param {Html} body
 * @param {(form: HTMLFormElement) => { value?: T, error?: string }} read
 * @returns {Promise<T | null>}
 */
export function formDialog(testid, title, body, read) {
  const dlg = document.createElement("dialog");
  dlg.className = "form-dialog";
  dlg.dataset.testid = testid;
  render(dlg, html`<form method="dialog"><h2>${title}</h2>${body}
    <p class="dialog-error" data-testid="dialog-error" role="alert"></p>
    <menu><button value="cancel" data-testid="dialog-cancel" formnovalidate>${t("alarms.dialog.cancel")}</button>
    <button value="ok" class="primary" data-testid="dialog-ok">${t("alarms.dialog.ok")}</button></menu></form>`);
  document.body.append(dlg);
  const form = /** @type {HTMLFormElement} */ (dlg.querySelector("form"));
  const error = /** @type {HTMLElement} */ (dlg.querySelector(".dialog-error"));
  /** @type {T | null} */
  let answer = null;
  form.addEventListener("submit", (e) => {
    const submitter = /** @type {HTMLButtonElement | null} */ (/** @type {SubmitEvent} */ (e).submitter);
    if (submitter?.value !== "ok") return;
    const out = read(form);
    if (out.error !== undefined) {
      e.preventDefault();
      error.textContent = out.error;
      return;
    }
    answer = /** @type {T} */ (out.value);
  });
  dlg.showModal();
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => {
      const ok = dlg.returnValue === "ok";
      dlg.remove();
      resolve(ok ? answer : null);
    }, { once: true });
  });
}

/** @param {HTMLFormElement} form @param {string} name */
const text = (form, name) => String(new FormData(form).get(name) || "").trim();

/** Metres between two points (equirectangular; fine at a city's scale). */
function metres(/** @type {number} */ lat1, /** @type {number} */ lon1, /** @type {number} */ lat2, /** @type {number} */ lon2) {
  const k = Math.PI / 180;
  const x = (lon2 - lon1) * k * Math.cos(((lat1 + lat2) / 2) * k);
  return Math.hypot(x, (lat2 - lat1) * k) * 6_371_000;
}

/** @param {Incident} source @param {Incident} c */
const distance = (source, c) => (source.lat == null || source.lon == null || c.lat == null || c.lon == null
  ? Infinity : metres(source.lat, source.lon, c.lat, c.lon));

// Nothing is preselected: merging is a deliberate choice (the dialog asks for one).
/** @param {Incident} source @param {Incident} c */
function candidate(source, c) {
  const d = distance(source, c);
  return html`<label class="pick" data-testid="merge-candidate" data-id="${c.id}">
    <input type="radio" name="target" value="${c.id}">
    <span class="pill pri-${c.priority}">${t("incidents.priority", { p: c.priority })}</span>
    <b>${label("incidents.kind.", c.kind)}</b>
    <span data-l10n="data">${c.address || c.zone || ""}</span>
    <span class="muted">${t("dialogs.merge.age", { age: fmtAgo(c.created_at) })}${isFinite(d) ? ` · ${fmtDistance(d)}` : ""}
      · ${label("incidents.status.", c.status)} · ${t("dialogs.merge.cameras", { n: c.devices.length })}</span></label>`;
}

/**
 * Pick the incident that absorbs `source` from the nearest open incidents of your centres.
 * @param {Incident} source @returns {Promise<string | null>} the target's id
 */
export async function askMerge(source) {
  const open = await listIncidents({ status: OPEN, limit: 500 });
  const list = open.filter((c) => c.id !== source.id)
    .sort((a, b) => distance(source, a) - distance(source, b) || b.created_at - a.created_at)
    .slice(0, MAX_CANDIDATES);
  const body = list.length
    ? html`<p class="muted">${t("dialogs.merge.explain")}</p><div class="pick-list" data-testid="merge-list">
        ${list.map((c) => candidate(source, c))}</div>`
    : html`<p class="muted" data-testid="merge-none">${t("dialogs.merge.none")}</p>`;
  return formDialog("merge-dialog", t("dialogs.merge.title", { kind: label("incidents.kind.", source.kind) }), body, (form) => {
    const target = text(form, "target");
    return target ? { value: target } : { error: t("dialogs.merge.pick") };
  });
}

/**
 * Choose the cameras whose events move to a new incident (some, never all).
 * @param {string} id @returns {Promise<string[] | null>} device ids
 */
export async function askSplit(id) {
  const inc = await getIncident(id);
  /** @type {Map<string, number>} */
  const perDevice = new Map();
  for (const e of inc.events) perDevice.set(String(e.dev), (perDevice.get(String(e.dev)) || 0) + 1);
  const devices = inc.devices.length ? inc.devices : [...perDevice.keys()];
  const body = html`<p class="muted">${t("dialogs.split.explain")}</p><div class="pick-list" data-testid="split-list">
    ${devices.map((d) => html`<label class="pick" data-testid="split-device"><input type="checkbox" name="device" value="${d}">
      <b data-l10n="data">${d}</b> <span class="muted">${t("dialogs.split.events", { n: perDevice.get(d) || 0 })}</span></label>`)}
    </div>`;
  return formDialog("split-dialog", t("dialogs.split.title"), body, (form) => {
    const chosen = new FormData(form).getAll("device").map(String);
    if (!chosen.length) return { error: t("dialogs.split.pick") };
    if (chosen.length >= devices.length) return { error: t("dialogs.split.not_all") };
    return { value: chosen };
  });
}

/**
 * Ask why frames are viewed or evidence is exported (audited with the access).
 * @param {"frames" | "export"} what @returns {Promise<string | null>}
 */
export function askPurpose(what) {
  const body = html`<label>${t(`dialogs.purpose.${what}`)}<br>
    <input name="purpose" size="48" maxlength="500" data-testid="purpose-field" autocomplete="off"></label>
    <p class="muted">${t("dialogs.purpose.hint")}</p>`;
  return formDialog("purpose-dialog", t(`dialogs.purpose.title_${what}`), body, (form) => {
    const purpose = text(form, "purpose");
    return purpose.length >= MIN_TEXT ? { value: purpose } : { error: t("dialogs.purpose.too_short", { n: MIN_TEXT }) };
  });
}

/** @type {DispositionCode[] | null} */
let catalogue = null;

/** The catalogue's label in the reader's language (English when it has none). @param {DispositionCode} d */
export const dispositionLabel = (d) => d.label[locale()] || d.label.en || d.code;

/** The codes of the catalogue (read once per page). @returns {Promise<DispositionCode[]>} */
export async function dispositions() {
  if (!catalogue) catalogue = await incidentsListDispositions();
  return catalogue;
}

/**
 * How the incident ended: a disposition code an operator may choose and a narrative.
 * @param {string} title @returns {Promise<{ disposition: string, narrative: string } | null>}
 */
export async function askResolution(title) {
  const codes = (await dispositions()).filter((d) => d.operator);
  const body = html`<label>${t("dialogs.resolve.disposition")}<br>
    <select name="disposition" data-testid="disposition-field"><option value="">${t("dialogs.resolve.choose")}</option>
    ${codes.map((d) => html`<option value="${d.code}" data-l10n="server">${dispositionLabel(d)}</option>`)}</select></label>
    <label>${t("dialogs.resolve.narrative")}<br>
    <textarea name="narrative" rows="4" cols="48" maxlength="4000" data-testid="narrative-field"></textarea></label>`;
  return formDialog("resolve-dialog", title, body, (form) => {
    const disposition = text(form, "disposition");
    const narrative = text(form, "narrative");
    if (!disposition) return { error: t("dialogs.resolve.need_code") };
    if (narrative.length < MIN_TEXT) return { error: t("dialogs.resolve.need_narrative", { n: MIN_TEXT }) };
    return { value: { disposition, narrative } };
  });
}
