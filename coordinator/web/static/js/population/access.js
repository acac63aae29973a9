// @ts-check
// Break-the-glass from the population screen: the officer asks for access to one person or
// one zone outside their jurisdiction, with a reason and a duration; a data-access approver
// decides in the Data access screen (never the officer); the granted access and its expiry
// show here once approved.
import { approvalsListRequests, approvalsWithdraw, populationBreakGlass, populationMyGrants } from "../api_client.js";
import { html, render } from "../html.js";
import { fmtTime, label, t } from "../i18n.js";
import { head } from "./counter.js";
import { clearProblems, field, showProblems, submit, values } from "./forms.js";

/** @typedef {import("./counter.js").Workspace} Workspace */
/** @typedef {import("../api_client.js").GlassIn} GlassIn */
/** @typedef {import("../api_client.js").ApprovalOut} ApprovalOut */
/** @typedef {import("../api_client.js").Grant} Grant */

/** @param {ApprovalOut} a */
const requestRow = (a) => html`<tr data-glass="${a.id}"><td>${a.id}</td><td data-l10n="data">${a.subject_type} ${a.subject_id}</td>
  <td data-l10n="data">${a.reason}</td><td>${Math.round((a.duration_s || 0) / 60)}</td><td>${fmtTime(a.requested_at)}</td>
  <td data-testid="glass-state">${label("population.glass_state.", a.state)}</td>
  <td>${a.state === "pending" ? html`<button type="button" data-withdraw="${a.id}">${t("population.withdraw")}</button>` : ""}</td></tr>`;

/** @param {Grant} g */
const grantRow = (g) => html`<tr data-grant="${g.id}">
  <td data-l10n="data">${g.person_id ? t("population.person_n", { id: g.person_id }) : g.zone}</td>
  <td data-l10n="data">${g.reason}</td><td>${fmtTime(g.granted_at)}</td><td data-testid="grant-expires">${fmtTime(g.expires_at)}</td></tr>`;

/** @param {HTMLElement} box */
async function refresh(box) {
  const [mine, grants] = await Promise.all([approvalsListRequests({ mine: true, kind: "break-glass", limit: 20 }), populationMyGrants()]);
  render(/** @type {HTMLElement} */ (box.querySelector("#pop-glass-list")), mine.length
    ? html`<table data-testid="pop-glass">${head(["id", "scope", "reason", "minutes", "when", "status", "work"])}
      <tbody>${mine.map(requestRow)}</tbody></table>` : html`<p class="muted">${t("common.none")}</p>`);
  render(/** @type {HTMLElement} */ (box.querySelector("#pop-grants")), grants.length
    ? html`<table data-testid="pop-grants">${head(["scope", "reason", "granted", "expires"])}<tbody>${grants.map(grantRow)}</tbody></table>`
    : html`<p class="muted">${t("population.no_grants")}</p>`);
}

/** @param {HTMLElement} box @param {HTMLFormElement} form */
async function ask(box, form) {
  const body = /** @type {GlassIn} */ (/** @type {unknown} */ (values(form, ["person_id", "minutes"])));
  try {
    await populationBreakGlass(t("population.purpose_glass"), body);
    form.reset();
    render(/** @type {HTMLElement} */ (form.querySelector(".form-msg")), html`<span class="ok">${t("population.glass_sent")}</span>`);
    await refresh(box);
  } catch (e) { showProblems(form, e); }
}

/** Pre-fill the request for one person. @param {HTMLElement} box @param {number} personId */
export function askFor(box, personId) {
  const input = /** @type {HTMLInputElement | null} */ (box.querySelector("#pop-glass input[name=person_id]"));
  if (!input) return;
  input.value = String(personId);
  /** @type {HTMLInputElement} */ (box.querySelector("#pop-glass input[name=reason]")).focus();
}

/** @param {Workspace} ws @param {HTMLElement} box */
export async function mountAccess(ws, box) {
  render(box, html`<p class="muted">${t("population.glass_intro")}</p>
    <form id="pop-glass" novalidate>${field("reason", { required: true, size: 50, hint: "population.glass_hint" })}
      ${field("person_id", { type: "number", size: 6 })}${field("zone", { size: 6 })}
      ${field("minutes", { type: "number", value: 60, size: 4 })}
      ${submit("population.glass_ask")}</form>
    <h3>${t("population.glass_mine")}</h3><div id="pop-glass-list"></div>
    <h3>${t("population.grants")}</h3><div id="pop-grants"></div>`);
  const form = /** @type {HTMLFormElement} */ (box.querySelector("#pop-glass"));
  form.addEventListener("submit", (e) => { e.preventDefault(); clearProblems(form); ask(box, form); });
  box.addEventListener("click", (e) => {
    const id = /** @type {HTMLElement} */ (e.target).dataset.withdraw;
    if (id) approvalsWithdraw(Number(id)).then(() => refresh(box)).catch(() => {});
  });
  await refresh(box);
}
