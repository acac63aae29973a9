// @ts-check
// The counter: find a person (by name or address, or exactly by document), register one —
// a document already on record opens that person instead of making a second — and work the
// open record: register a residence or move the person (change of address), check the
// permit's eligibility and issue it.
import {
  populationCreatePerson, populationCreateRegistration, populationGetPerson, populationIssuePermit,
  populationLookupPerson, populationMovePerson, populationPermitEligibility, populationSearchPersons,
} from "../api_client.js";
import { html, render } from "../html.js";
import { fmtDate, has, label, t } from "../i18n.js";
import { choice, clearProblems, field, showProblems, submit, values } from "./forms.js";

/** @typedef {import("../api_client.js").PersonListItem} PersonListItem */
/** @typedef {import("../api_client.js").PersonRecord} PersonRecord */
/** @typedef {import("../api_client.js").PersonIn} PersonIn */
/** @typedef {import("../api_client.js").RegistrationIn} RegistrationIn */
/** @typedef {import("../api_client.js").MoveIn} MoveIn */
/** @typedef {import("../api_client.js").Registration} Registration */
/**
 * What the parts of the workspace share.
 * @typedef {Object} Workspace
 * @property {HTMLElement} view
 * @property {(id: number) => Promise<void>} open open a person at the counter
 * @property {() => number | null} current the person open at the counter
 * @property {(tab: string) => void} show switch to a tab
 * @property {(personId: number) => void} askAccess fill the access request for a person
 */

const ID_TYPES = ["prc_id", "passport", "hk_macao_permit", "taiwan_permit"];
const REG_KINDS = ["rented", "own", "employer", "other"];

/** @param {string[]} keys */
export const head = (keys) => html`<thead><tr>${keys.map((k) => html`<th>${t(`population.col.${k}`)}</th>`)}</tr></thead>`;

/** Where a person comes from: a province (from the ID number) or a country code. @param {string | null | undefined} o */
export const origin = (o) => {
  const key = `population.origin.${String(o || "").replace(/ /g, "_").toLowerCase()}`;
  return has(key) ? t(key) : o || "";
};

/** @param {PersonListItem} p */
const personRow = (p) => html`<tr data-person="${p.id}"><td data-l10n="data">${p.name}</td><td data-l10n="data">${p.name_latin}</td>
  <td data-l10n="data">${p.id_masked}</td><td>${fmtDate(p.dob)}</td><td>${origin(p.origin)}</td>
  <td>${label("population.hukou.", p.hukou || "none")}</td><td data-l10n="data">${p.zone || ""}</td>
  <td><button type="button" data-open="${p.id}">${t("population.open")}</button></td></tr>`;

/** @param {Registration} r */
const regRow = (r) => html`<tr data-registration="${r.id}"><td>${r.id}</td><td>${label("population.reg_kind.", r.kind)}</td>
  <td data-l10n="data">${r.address}</td><td data-l10n="data">${r.zone}</td><td>${fmtDate(r.valid_from)}</td>
  <td data-testid="counts-from">${fmtDate(r.counts_from)}${r.backdate_state
    ? html` <span class="pill">${label("population.backdate.", r.backdate_state)}</span>` : ""}</td>
  <td>${label("population.reg_status.", r.status)}</td></tr>`;

/** The person open at the counter. @param {PersonRecord} p */
function card(p) {
  const regs = p.registrations;
  const permits = p.permits.map((m) => html`<li data-l10n="data">${String(m.number)} · ${fmtDate(String(m.expires_on))}</li>`);
  return html`<section class="card" data-testid="person-card" data-person="${p.id}">
    <h3><span data-l10n="data">${p.name}</span> <span class="muted" data-l10n="data">${p.name_latin || ""} ${p.id_masked || ""}</span></h3>
    <p>${t("population.col.born")}: ${fmtDate(p.dob)} · ${t("population.col.origin")}: ${origin(p.origin)} ·
      ${t("population.col.hukou")}: <span data-testid="hukou">${label("population.hukou.", p.hukou || "none")}</span>
      <span data-l10n="data">${p.hukou_place || ""}</span> · ${t("population.col.zone")}: <span data-l10n="data">${p.zone}</span></p>
    <table>${head(["id", "kind", "address", "zone", "valid_from", "counts_from", "status"])}<tbody>
      ${regs.length ? regs.map(regRow) : html`<tr><td colspan="7" class="muted">${t("common.none")}</td></tr>`}</tbody></table>
    <h4>${t("population.permits")}</h4>
    <ul data-testid="permits">${permits.length ? permits : html`<li class="muted">${t("common.none")}</li>`}</ul>
    <p><button type="button" data-act="eligibility">${t("population.check_eligibility")}</button>
      <button type="button" class="primary" data-act="issue">${t("population.issue_permit")}</button>
      <span data-testid="eligibility"></span></p>
    ${regs.some((r) => r.status === "registered") ? moveForm() : residenceForm()}</section>`;
}

/** A first residence (an earlier date counts once a second officer approves its reason). */
const residenceForm = () => html`<h4>${t("population.residence_title")}</h4>
  <form id="pop-reg" data-mode="register" novalidate>${choice("kind", REG_KINDS, "population.reg_kind.", "rented")}
    ${field("house_id", { type: "number", size: 6 })}${field("address", { size: 30 })}${field("zone", { size: 6 })}
    ${field("valid_from", { type: "date" })}${field("backdate_reason", { size: 40, hint: "population.backdate_hint" })}
    ${submit("population.register_residence")}</form>`;

/** A change of address: the current registration ends and the new one opens in one step. */
const moveForm = () => html`<h4>${t("population.move_title")}</h4>
  <p class="muted">${t("population.move_hint")}</p>
  <form id="pop-reg" data-mode="move" novalidate>${choice("kind", REG_KINDS, "population.reg_kind.", "rented")}
    ${field("house_id", { type: "number", size: 6 })}${field("address", { size: 30 })}${field("zone", { size: 6 })}
    ${field("valid_from", { type: "date", hint: "population.move_date_hint" })}${field("note", { size: 40 })}
    ${submit("population.move")}</form>`;

/** @param {Workspace} ws @param {PersonRecord} p */
async function issue(ws, p) {
  const out = () => /** @type {HTMLElement} */ (ws.view.querySelector("[data-testid=eligibility]"));
  try {
    const m = await populationIssuePermit(p.id, t("population.purpose_counter"));
    await ws.open(p.id);  // the card again, with the new permit; then the message in it
    render(out(), html`<span class="ok">${t("population.permit_issued", { number: m.number })}</span>`);
  } catch (e) { render(out(), html`<span class="error">${e.message}</span>`); }
}

/** @param {Workspace} ws @param {PersonRecord} p */
async function eligibility(ws, p) {
  const out = /** @type {HTMLElement} */ (ws.view.querySelector("[data-testid=eligibility]"));
  const e = await populationPermitEligibility(p.id, t("population.purpose_counter"));
  render(out, e.eligible ? html`<span class="ok">${t("population.eligible", { since: fmtDate(e.since) })}</span>`
    : html`<span class="muted">${t("population.not_eligible", { from: e.eligible_from ? fmtDate(e.eligible_from) : "–" })}</span>`);
}

/**
 * A first residence, or a move: the server ends the current registration and opens the new
 * one in one transaction (or, refused, changes nothing).
 * @param {Workspace} ws @param {PersonRecord} p @param {HTMLFormElement} form
 */
async function residence(ws, p, form) {
  const purpose = t("population.purpose_counter");
  try {
    if (form.dataset.mode === "move") {
      const body = /** @type {MoveIn} */ (/** @type {unknown} */ (values(form, ["house_id"])));
      await populationMovePerson(p.id, purpose, body);
    } else {
      const typed = { ...values(form, ["house_id"]), person_id: p.id, status: "registered" };
      await populationCreateRegistration(purpose, /** @type {RegistrationIn} */ (/** @type {unknown} */ (typed)));
    }
    await ws.open(p.id);
  } catch (e) { showProblems(form, e); }
}

/** @param {Workspace} ws @param {number} id */
export async function openPerson(ws, id) {
  const box = /** @type {HTMLElement} */ (ws.view.querySelector("#pop-person"));
  try {
    const p = await populationGetPerson(id, t("population.purpose_counter"));
    render(box, card(p));
    box.querySelector("[data-act=issue]")?.addEventListener("click", () => issue(ws, p));
    box.querySelector("[data-act=eligibility]")?.addEventListener("click", () => eligibility(ws, p).catch(() => {}));
    const form = /** @type {HTMLFormElement} */ (box.querySelector("#pop-reg"));
    form.addEventListener("submit", (e) => { e.preventDefault(); clearProblems(form); residence(ws, p, form); });
  } catch (e) {
    render(box, html`<p class="error">${e.message}</p>
      ${e.status === 403 ? html`<button type="button" data-ask="${id}">${t("population.ask_access")}</button>` : ""}`);
  }
}

/** @param {Workspace} ws @param {HTMLFormElement} form */
async function search(ws, form) {
  const q = values(form);
  const out = /** @type {HTMLElement} */ (ws.view.querySelector("#pop-results"));
  if (String(q.purpose || "").length < 3) { render(out, html`<p class="error">${t("population.need_purpose")}</p>`); return; }
  try {
    const rows = await populationSearchPersons(String(q.purpose), { name: q.name ? String(q.name) : undefined,
      address: q.address ? String(q.address) : undefined });
    const cols = ["name", "latin", "id_masked", "born", "origin", "hukou", "zone", "open"];
    render(out, html`<table data-testid="pop-results">${head(cols)}<tbody>
      ${rows.length ? rows.map(personRow) : html`<tr><td colspan="8" class="muted">${t("population.no_match")}</td></tr>`}
      </tbody></table>`);
  } catch (e) { render(out, html`<p class="error">${e.message}</p>`); }
}

/** A document on record: open it (or ask for access when it is outside the officer's zones). @param {any} d */
const existing = (d) => html`<div class="notice" data-testid="doc-exists"><p>${t("population.doc_exists", { id: d.existing_person_id })}</p>
  ${d.in_jurisdiction
    ? html`<button type="button" class="primary" data-open="${d.existing_person_id}">${t("population.open_existing")}</button>`
    : html`<button type="button" data-ask="${d.existing_person_id}">${t("population.ask_access")}</button>`}</div>`;

/** @param {Workspace} ws @param {HTMLFormElement} form */
async function register(ws, form) {
  const body = /** @type {PersonIn} */ (/** @type {unknown} */ (values(form)));
  const note = /** @type {HTMLElement} */ (ws.view.querySelector("#pop-new-note"));
  render(note, html``);
  try {
    const made = await populationCreatePerson(t("population.purpose_counter"), body);
    form.reset();
    const n = made.duplicates.length;
    if (n) render(note, html`<p class="muted">${t("population.queued_for_review", { n })}</p>`);
    await ws.open(made.person.id);
  } catch (e) {
    showProblems(form, e);
    if (e.status === 409 && e.body && e.body.detail && e.body.detail.existing_person_id) render(note, existing(e.body.detail));
  }
}

/** @param {Workspace} ws @param {HTMLFormElement} form */
async function lookup(ws, form) {
  const q = values(form);
  const out = /** @type {HTMLElement} */ (ws.view.querySelector("#pop-results"));
  try {
    const doc = { id_type: String(q.id_type), id_number: String(q.id_number || "") };
    const r = await populationLookupPerson(t("population.purpose_counter"), doc);
    if (r.results.length === 1) { await ws.open(r.results[0].id); return; }
    render(out, html`<table data-testid="pop-results">${head(["name", "latin", "id_masked", "born", "origin", "hukou", "zone", "open"])}
      <tbody>${r.results.map(personRow)}</tbody></table>
      ${r.outside_jurisdiction.map((o) => html`<p>${t("population.outside", { id: o.id, zone: o.zone })}
        <button type="button" data-ask="${o.id}">${t("population.ask_access")}</button></p>`)}
      ${r.results.length || r.outside_jurisdiction.length ? "" : html`<p class="muted">${t("population.no_match")}</p>`}`);
  } catch (e) { showProblems(form, e); }
}

/** @param {Workspace} ws @param {HTMLElement} box */
export function mountCounter(ws, box) {
  render(box, html`<form id="pop-search"><label>${t("population.name")}<input name="name"></label>
      <label>${t("population.address")}<input name="address"></label>
      <label>${t("population.purpose")}<input name="purpose" placeholder="${t("population.purpose_example")}"></label>
      <button class="primary">${t("population.search")}</button></form>
    <form id="pop-lookup" novalidate>${choice("id_type", ID_TYPES, "population.id_type.", "prc_id")}${field("id_number")}
      <p class="form-msg error"></p><button type="submit">${t("population.lookup")}</button></form>
    <div id="pop-results"></div>
    <details id="pop-new-box"><summary>${t("population.new_person")}</summary>
    <form id="pop-new" novalidate>${field("name", { required: true })}${field("name_latin")}
      ${choice("id_type", ID_TYPES, "population.id_type.", "prc_id")}${field("id_number", { required: true })}
      ${field("dob", { type: "date" })}${choice("sex", ["", "F", "M", "X"], "population.sex.", "")}
      ${field("nationality", { size: 3, hint: "population.nationality_hint" })}${field("origin")}
      ${field("hukou_place", { size: 7, hint: "population.hukou_hint" })}${field("phone")}${field("zone", { required: true, size: 6 })}
      ${submit("population.register_person")}</form><div id="pop-new-note"></div></details>
    <div id="pop-person"></div>`);
  const on = (/** @type {string} */ sel, /** @type {(f: HTMLFormElement) => void} */ fn) => {
    const f = /** @type {HTMLFormElement} */ (box.querySelector(sel));
    f.addEventListener("submit", (e) => { e.preventDefault(); clearProblems(f); fn(f); });
  };
  on("#pop-search", (f) => search(ws, f));
  on("#pop-lookup", (f) => lookup(ws, f));
  on("#pop-new", (f) => register(ws, f));
  box.addEventListener("click", (e) => {
    const el = /** @type {HTMLElement} */ (e.target);
    if (el.dataset.open) ws.open(Number(el.dataset.open));
    if (el.dataset.ask) ws.askAccess(Number(el.dataset.ask));
  });
}


