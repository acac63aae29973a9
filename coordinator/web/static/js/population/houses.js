// @ts-check
// Houses and landlords, and the foreign visitors staying with them: a letting names its
// landlord (a person on record, by default the one open at the counter); a visitor's stay
// names the registered house and its host (the landlord or someone registered there),
// chosen from the records, never typed as free text.
import {
  populationGetHouse, populationListHouses, populationListVisits, populationRegisterLetting, populationReportVisit,
} from "../api_client.js";
import { html, render } from "../html.js";
import { fmtDate, fmtTime, label, t } from "../i18n.js";
import { head } from "./counter.js";
import { choice, clearProblems, field, showProblems, submit, values } from "./forms.js";

/** @typedef {import("./counter.js").Workspace} Workspace */
/** @typedef {import("../api_client.js").HouseItem} HouseItem */
/** @typedef {import("../api_client.js").HouseIn} HouseIn */
/** @typedef {import("../api_client.js").VisitIn} VisitIn */
/** @typedef {import("../api_client.js").Visit} Visit */

const VISAS = ["L", "M", "F", "Q2", "S2", "Z", "X1", "residence_permit", "visa_free"];

/** @param {HouseItem} h */
const houseRow = (h) => html`<tr data-house="${h.id}"><td>${h.id}</td><td data-l10n="data">${h.address}</td>
  <td data-l10n="data">${h.zone}</td><td data-l10n="data">${h.landlord || ""}</td><td>${h.tenants}</td>
  <td>${label("population.house_status.", h.status)}</td></tr>`;

/** @param {Visit} v */
const visitRow = (v) => html`<tr data-visit="${v.id}"><td data-l10n="data">${v.name}</td><td data-l10n="data">${v.nationality}</td>
  <td>${label("population.host_kind.", v.host_kind || "host")}</td><td data-l10n="data">${v.host_name}</td>
  <td data-l10n="data">${v.house_id ? `#${v.house_id} ` : ""}${v.address}</td><td>${fmtTime(v.arrived_at)}</td>
  <td>${fmtDate(v.visa_expiry)}</td><td>${v.flags.map((f) => label("population.flag.", f)).join(t("common.list_sep"))}</td></tr>`;

/** @param {HTMLElement} box */
async function lists(box) {
  const purpose = t("population.purpose_houses");
  const [houses, visits] = await Promise.all([populationListHouses(purpose, { limit: 50 }), populationListVisits(purpose, { limit: 50 })]);
  render(/** @type {HTMLElement} */ (box.querySelector("#pop-houses")), html`<table data-testid="pop-houses">
    ${head(["id", "address", "zone", "landlord", "tenants", "status"])}<tbody>${houses.map(houseRow)}</tbody></table>`);
  const pick = /** @type {HTMLSelectElement} */ (box.querySelector("#pop-visit select[name=house_id]"));
  render(pick, html`<option value=""></option>${houses.filter((h) => h.status === "registered")
    .map((h) => html`<option value="${h.id}">#${h.id} ${h.address}</option>`)}`);
  render(/** @type {HTMLElement} */ (box.querySelector("#pop-visits")), html`<table data-testid="pop-visits">
    ${head(["name", "nationality", "host_kind", "host", "address", "arrived", "visa_expiry", "flags"])}
    <tbody>${visits.length ? visits.map(visitRow) : html`<tr><td colspan="8" class="muted">${t("common.none")}</td></tr>`}
    </tbody></table>`);
}

/** The host choices of a house: its landlord and the persons registered there. @param {HTMLElement} box @param {string} houseId */
async function hosts(box, houseId) {
  const sel = /** @type {HTMLSelectElement} */ (box.querySelector("#pop-visit select[name=host_person_id]"));
  if (!houseId) { render(sel, html``); return; }
  const h = await populationGetHouse(Number(houseId), t("population.purpose_houses"));
  const people = [
    ...(h.landlord ? [{ id: h.landlord.id, name: h.landlord.name, key: "population.landlord" }] : []),
    ...h.tenancies.filter((x) => x.status === "registered").map((x) => ({ id: x.person_id, name: x.name || "", key: "population.tenant" })),
  ];
  render(sel, html`${people.map((p) => html`<option value="${p.id}">${p.name} (${t(p.key)})</option>`)}`);
}

/** @param {Workspace} ws @param {HTMLElement} box @param {HTMLFormElement} form */
async function letting(ws, box, form) {
  const body = /** @type {HouseIn} */ (/** @type {unknown} */ (values(form, ["landlord_id", "rooms"])));
  try {
    const h = await populationRegisterLetting(t("population.purpose_houses"), body);
    form.reset();
    const msg = /** @type {HTMLElement} */ (form.querySelector(".form-msg"));
    render(msg, html`<span class="ok">${t("population.house_made", { id: h.id })}</span>`);
    await lists(box);
  } catch (e) { showProblems(form, e); }
}

/** @param {Workspace} ws @param {HTMLElement} box @param {HTMLFormElement} form */
async function visit(ws, box, form) {
  const v = values(form, ["person_id", "house_id", "host_person_id"]);
  if (v.arrived_at) v.arrived_at = new Date(String(v.arrived_at)).toISOString();
  try {
    await populationReportVisit(t("population.purpose_houses"), /** @type {VisitIn} */ (/** @type {unknown} */ (v)));
    render(/** @type {HTMLElement} */ (form.querySelector(".form-msg")), html`<span class="ok">${t("population.visit_made")}</span>`);
    await lists(box);
  } catch (e) { showProblems(form, e); }
}

/** @param {Workspace} ws @param {HTMLElement} box */
export function mountHouses(ws, box) {
  const who = ws.current();
  render(box, html`<h3>${t("population.new_house")}</h3>
    <form id="pop-house" novalidate>${field("address", { required: true, size: 30 })}${field("zone", { required: true, size: 6 })}
      ${field("landlord_id", { type: "number", value: who, size: 6 })}${field("rooms", { type: "number", size: 4 })}
      ${submit("population.register_house")}</form>
    <div id="pop-houses" class="muted">${t("common.loading")}</div>
    <h3>${t("population.new_visit")}</h3>
    <form id="pop-visit" novalidate>${field("person_id", { type: "number", value: who, size: 6 })}
      ${choice("visa_type", VISAS, "population.visa.", "M")}${field("visa_expiry", { type: "date" })}
      ${choice("host_kind", ["host", "hotel"], "population.host_kind.", "host")}
      <label class="field">${t("population.field.house_id")}<select name="house_id"></select>
        <small class="error" data-error-for="house_id"></small></label>
      <label class="field">${t("population.field.host_person_id")}<select name="host_person_id"></select>
        <small class="error" data-error-for="host_person_id"></small></label>
      ${field("host_name")}${field("arrived_at", { type: "datetime-local" })}${field("planned_departure", { type: "date" })}
      ${submit("population.report_visit")}</form>
    <div id="pop-visits"></div>`);
  const house = /** @type {HTMLFormElement} */ (box.querySelector("#pop-house"));
  house.addEventListener("submit", (e) => { e.preventDefault(); clearProblems(house); letting(ws, box, house); });
  const form = /** @type {HTMLFormElement} */ (box.querySelector("#pop-visit"));
  form.addEventListener("submit", (e) => { e.preventDefault(); clearProblems(form); visit(ws, box, form); });
  box.querySelector("#pop-visit select[name=house_id]")?.addEventListener("change", (e) => {
    hosts(box, /** @type {HTMLSelectElement} */ (e.target).value).catch((err) => showProblems(form, err));
  });
  lists(box).catch((e) => render(/** @type {HTMLElement} */ (box.querySelector("#pop-houses")), html`<p class="error">${e.message}</p>`));
}
