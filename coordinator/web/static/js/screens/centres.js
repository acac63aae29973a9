// @ts-check
// Monitoring centres: which centres the operator works (their scope), who is on duty in
// each, and the shift log of the operator's centres (sign on, sign off, notes for the
// next shift).
import { centresAddShiftEntry, centresMyScope, centresShiftLog, listCentres } from "../api_client.js";
import { banner } from "../banner.js";
import { fmtTime } from "../http.js";
import { html, render } from "../html.js";
import { t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").CentreOnDuty} CentreOnDuty */
/** @typedef {import("../api_client.js").ShiftEntry} ShiftEntry */

/** @type {{ view: HTMLElement, centre: string } | null} */
let st = null;

/** @param {CentreOnDuty} c */
const centreRow = (c) => html`<tr data-centre="${c.id}" class="${c.in_scope ? "mine" : ""}">
  <td>${c.id}</td><td>${c.name}</td><td>${c.stations}</td><td>${c.patrol_zones}</td>
  <td data-testid="on-duty">${c.on_duty.join(", ") || "–"}</td>
  <td>${c.in_scope ? html`<span class="pill">${t("centres.yours")}</span>` : ""}</td></tr>`;

/** @param {ShiftEntry} e */
const entryRow = (e) => html`<tr data-testid="shift-entry" data-kind="${e.kind}">
  <td>${fmtTime(e.ts)}</td><td>${e.username}</td><td>${t(`centres.kind.${e.kind}`)}</td><td>${e.text || ""}</td></tr>`;

/** @param {HTMLElement} view */
async function load(view) {
  const [me, centres] = await Promise.all([centresMyScope(), listCentres()]);
  const mine = centres.filter((c) => c.in_scope);
  const scopeText = me.sees_all ? t("centres.scope_all") : mine.length
    ? t("centres.scope_some", { centres: mine.map((c) => c.id).join(", ") }) : t("centres.scope_none");
  const cols = ["id", "name", "stations", "zones", "on_duty", "yours"];
  render(/** @type {HTMLElement} */ (view.querySelector("#centres-body")), html`
    <p data-testid="my-scope">${scopeText}</p>
    <table><thead><tr>${cols.map((c) => html`<th>${t(`centres.col.${c}`)}</th>`)}</tr></thead>
    <tbody>${centres.map(centreRow)}</tbody></table>`);
  const s = /** @type {NonNullable<typeof st>} */ (st);
  if (!mine.some((c) => c.id === s.centre)) s.centre = mine[0]?.id || "";
  const pick = /** @type {HTMLElement} */ (view.querySelector("#shift-centre"));
  render(pick, html`${mine.map((c) => html`<option value="${c.id}" ${c.id === s.centre ? "selected" : ""}>${c.id} · ${c.name}</option>`)}`);
  await loadLog(view);
}

/** @param {HTMLElement} view */
async function loadLog(view) {
  const s = /** @type {NonNullable<typeof st>} */ (st);
  const box = /** @type {HTMLElement} */ (view.querySelector("#shift-log"));
  view.querySelector("#shift-form")?.toggleAttribute("hidden", !s.centre);
  if (!s.centre) { render(box, html`<p class="muted">${t("centres.no_centre")}</p>`); return; }
  const log = await centresShiftLog(s.centre, { limit: 100 });
  const cols = ["time", "who", "what", "note"];
  render(box, html`<p data-testid="shift-on-duty">${t("centres.on_duty_now", { names: log.on_duty.join(", ") || "–" })}</p>
    <table><thead><tr>${cols.map((c) => html`<th>${t(`centres.col.${c}`)}</th>`)}</tr></thead>
    <tbody>${log.entries.map(entryRow)}</tbody></table>`);
}

/** @param {HTMLElement} view @param {"sign_on" | "sign_off" | "note"} kind */
async function post(view, kind) {
  const s = /** @type {NonNullable<typeof st>} */ (st);
  const input = /** @type {HTMLInputElement} */ (view.querySelector("#shift-text"));
  try {
    await centresAddShiftEntry(s.centre, { kind, text: input.value || null });
    input.value = "";
    await load(view);
  } catch (e) {
    banner(t("centres.failed", { error: /** @type {Error} */ (e).message }));
  }
}

/** @param {HTMLElement} view */
async function mount(view) {
  st = { view, centre: "" };
  render(view, html`<h1>${t("centres.title")}</h1><div id="centres-body"></div>
    <h2>${t("centres.shift_log")}</h2>
    <div id="shift-form"><label>${t("centres.centre")}<select id="shift-centre" data-testid="shift-centre"></select></label>
    <button data-shift="sign_on">${t("centres.sign_on")}</button>
    <button data-shift="sign_off">${t("centres.sign_off")}</button>
    <label>${t("centres.note")}<input id="shift-text" maxlength="2000" data-testid="shift-text"></label>
    <button data-shift="note">${t("centres.add_note")}</button></div>
    <div id="shift-log"></div>`);
  view.querySelector("#shift-centre")?.addEventListener("change", (e) => {
    if (st) st.centre = /** @type {HTMLSelectElement} */ (e.target).value;
    loadLog(view).catch((err) => banner(err.message));
  });
  view.querySelector("#shift-form")?.addEventListener("click", (e) => {
    const kind = /** @type {HTMLElement} */ (e.target).dataset.shift;
    if (kind === "sign_on" || kind === "sign_off" || kind === "note") post(view, kind);
  });
  await load(view);
}

function unmount() { st = null; }

registerScreen({ id: "centres", navKey: "nav.centres", perm: "incidents:read", mount, unmount });
