// @ts-check
// Service requests: take one (hotline, counter, web) from the catalogue's categories, then
// work it — assign, start, resolve with what was done, close with the caller's satisfaction.
import { populationCreateRequest, populationListRequests, populationRequestCategories, populationRequestStep } from "../api_client.js";
import { session } from "../http.js";
import { html, render } from "../html.js";
import { fmtTime, label, t } from "../i18n.js";
import { head } from "./counter.js";
import { choice, clearProblems, field, showProblems, submit, values } from "./forms.js";

/** @typedef {import("./counter.js").Workspace} Workspace */
/** @typedef {import("../api_client.js").ServiceRequestItem} ServiceRequestItem */
/** @typedef {import("../api_client.js").RequestIn} RequestIn */
/** @typedef {import("../api_client.js").RequestStep} RequestStep */

/** What may follow each status (as the service allows). */
const NEXT = /** @type {Object<string, string[]>} */ ({
  open: ["assigned"], assigned: ["in_progress", "resolved", "assigned"],
  in_progress: ["resolved", "assigned"], resolved: ["closed", "in_progress"], closed: [],
});

/** @param {ServiceRequestItem} r */
const requestRow = (r) => html`<tr data-request="${r.id}"><td>${r.id}</td><td>${label("population.category.", r.category)}</td>
  <td>${label("population.channel.", r.channel || "walk_in")}</td>
  <td data-testid="req-status">${label("population.request_status.", r.status)}
    ${r.overdue ? html` <span class="pill pri-1">${t("population.overdue")}</span>` : ""}</td>
  <td data-l10n="data">${r.assignee || ""}</td><td>${fmtTime(r.due_at)}</td>
  <td>${NEXT[r.status].length ? html`<form class="inline" data-step="${r.id}">
    <select name="status">${NEXT[r.status].map((s) => html`<option value="${s}">${t(`population.request_status.${s}`)}</option>`)}</select>
    <input name="text" size="24" placeholder="${t("population.step_hint")}">
    <select name="satisfaction"><option value=""></option>${[1, 2, 3, 4, 5].map((n) => html`<option>${n}</option>`)}</select>
    <button type="submit">${t("population.apply")}</button><small class="form-msg error"></small></form>` : ""}</td></tr>`;

/** @param {HTMLElement} box */
async function list(box) {
  const rows = await populationListRequests(t("population.purpose_requests"), { limit: 30 });
  render(/** @type {HTMLElement} */ (box.querySelector("#pop-requests")), html`<table data-testid="pop-requests">
    ${head(["id", "category", "channel", "status", "assignee", "due", "work"])}
    <tbody>${rows.length ? rows.map(requestRow) : html`<tr><td colspan="7" class="muted">${t("common.none")}</td></tr>`}</tbody></table>`);
}

/** @param {HTMLElement} box @param {HTMLFormElement} form */
async function step(box, form) {
  const v = values(form, ["satisfaction"]);
  const to = /** @type {RequestStep["status"]} */ (String(v.status));
  const text = v.text ? String(v.text) : null;
  /** @type {RequestStep} */
  const body = { status: to, satisfaction: v.satisfaction ? Number(v.satisfaction) : null };
  if (to === "assigned") body.assignee = text || session.get()?.username || null;
  else if (to === "resolved") body.resolution = text;
  else body.note = text;
  try {
    await populationRequestStep(Number(form.dataset.step), t("population.purpose_requests"), body);
    await list(box);
  } catch (e) { render(/** @type {HTMLElement} */ (form.querySelector(".form-msg")), html`${e.message}`); }
}

/** @param {HTMLElement} box @param {HTMLFormElement} form */
async function take(box, form) {
  const body = /** @type {RequestIn} */ (/** @type {unknown} */ (values(form, ["person_id"])));
  try {
    await populationCreateRequest(t("population.purpose_requests"), body);
    form.reset();
    await list(box);
  } catch (e) { showProblems(form, e); }
}

/** @param {Workspace} ws @param {HTMLElement} box */
export async function mountRequests(ws, box) {
  const cats = (await populationRequestCategories()).map((c) => c.category);
  render(box, html`<h3>${t("population.new_request")}</h3>
    <form id="pop-req" novalidate>${choice("channel", ["walk_in", "hotline", "web"], "population.channel.", "walk_in")}
      ${choice("category", cats, "population.category.", cats[0])}${field("description", { required: true, size: 40 })}
      ${field("contact_name")}${field("contact_phone")}${field("person_id", { type: "number", value: ws.current(), size: 6 })}
      ${field("zone", { required: true, size: 6 })}${submit("population.take_request")}</form>
    <h3>${t("population.requests")}</h3><div id="pop-requests" class="muted">${t("common.loading")}</div>`);
  const form = /** @type {HTMLFormElement} */ (box.querySelector("#pop-req"));
  form.addEventListener("submit", (e) => { e.preventDefault(); clearProblems(form); take(box, form); });
  box.addEventListener("submit", (e) => {
    const f = /** @type {HTMLFormElement} */ (e.target);
    if (!f.dataset.step) return;
    e.preventDefault();
    step(box, f);
  });
  await list(box);
}
