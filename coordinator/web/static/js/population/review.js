// @ts-check
// The duplicate review: each pair with both names and why they may be one person; the pair
// side by side (fields that agree and differ, what hangs on each record); one click to merge,
// to mark "not a duplicate", or to undo a merge. And the requests a second officer decides:
// a registration dated before the day it was recorded, an import batch's historical dates.
import {
  approvalsApprove, approvalsListRequests, approvalsReject, populationCompareDuplicates, populationMerge,
  populationNotDuplicate, populationReviewQueue, populationUndoMerge,
} from "../api_client.js";
import { html, render } from "../html.js";
import { fmtDate, fmtNumber, fmtTime, has, label, t } from "../i18n.js";
import { head, origin } from "./counter.js";

/** @typedef {import("./counter.js").Workspace} Workspace */
/** @typedef {import("../api_client.js").DuplicateCandidate} DuplicateCandidate */
/** @typedef {import("../api_client.js").DuplicateCompare} DuplicateCompare */
/** @typedef {import("../api_client.js").CompareSide} CompareSide */
/** @typedef {import("../api_client.js").PersonListItem} PersonListItem */
/** @typedef {import("../api_client.js").ApprovalOut} ApprovalOut */

const KINDS = ["population-backdate", "population-import-dates"];
const FIELDS = /** @type {const} */ (["name", "name_latin", "id_type", "id_masked", "dob", "sex", "nationality", "origin", "zone",
  "hukou_place"]);

/** Why two records may be one person, in the reader's language. @param {string} r */
function reason(r) {
  const name = /^name ([\d.]+)$/.exec(r);
  const two = { minimumFractionDigits: 2, maximumFractionDigits: 2 };
  if (name) return t("population.reason.name", { score: fmtNumber(Number(name[1]), two) });
  const key = `population.reason.${r.replace(/[ -]/g, "_").toLowerCase()}`;
  return has(key) ? t(key) : r;
}

/** @param {PersonListItem | null} p */
const who = (p) => (p ? html`<span data-l10n="data">${p.name}</span> <span class="muted" data-l10n="data">${p.id_masked}</span>`
  : html`<span class="muted">${t("population.gone")}</span>`);

/** @param {DuplicateCandidate} d */
const dupRow = (d) => html`<tr data-candidate="${d.id}"><td>${d.id}</td><td>${who(d.person)}</td><td>${who(d.other)}</td>
  <td data-testid="dup-reasons">${d.reasons.map(reason).join(t("common.list_sep"))}</td>
  <td>${fmtNumber(d.score, { maximumFractionDigits: 2 })}</td><td>${label("population.dup_status.", d.status)}</td>
  <td>${d.status === "open" ? html`<button type="button" data-compare="${d.id}">${t("population.compare")}</button>
    <button type="button" class="primary" data-merge="${d.id}">${t("population.merge")}</button>
    <button type="button" data-notdup="${d.id}">${t("population.not_duplicate")}</button>`
    : d.merge_id ? html`<button type="button" data-undo="${d.merge_id}">${t("population.undo")}</button>` : ""}</td></tr>`;

/** @param {string} f @param {CompareSide} s */
const cell = (f, s) => {
  const v = s.person[/** @type {keyof PersonListItem} */ (f)];
  return f === "dob" ? fmtDate(String(v || "")) : f === "origin" ? origin(String(v || "")) : String(v ?? "");
};

/** @param {DuplicateCompare} c */
const sideBySide = (c) => html`<section class="card" data-testid="dup-compare" data-candidate="${c.id}">
  <h3>${t("population.compare_title", { id: c.id })}</h3>
  <p>${c.reasons.map(reason).join(t("common.list_sep"))}</p>
  <table>${head(["field", "person", "other"])}<tbody>${FIELDS.map((f) => html`<tr class="${c.differ.includes(f) ? "differ" : "same"}">
    <th>${t(`population.field.${f}`)}</th><td data-l10n="data">${cell(f, c.left)}</td><td data-l10n="data">${cell(f, c.right)}</td></tr>`)}
    <tr><th>${t("population.field.address")}</th><td data-l10n="data">${c.left.address || ""}</td>
      <td data-l10n="data">${c.right.address || ""}</td></tr>
    <tr><th>${t("population.col.recorded")}</th><td>${fmtTime(c.left.created_at)}</td><td>${fmtTime(c.right.created_at)}</td></tr>
    <tr><th>${t("population.col.holds")}</th>${[c.left, c.right].map((s) => html`<td>${t("population.holds",
      { regs: s.registrations, permits: s.permits, houses: s.houses })}</td>`)}</tr></tbody></table></section>`;

/** @param {ApprovalOut} a */
const approvalRow = (a) => html`<tr data-approval="${a.id}"><td>${a.id}</td>
  <td>${t(`population.approval_kind.${a.kind.replace(/-/g, "_")}`)}</td>
  <td data-l10n="data">${a.requested_by}</td><td data-l10n="data">${a.reason}</td>
  <td data-l10n="data">${a.scope.valid_from ? fmtDate(String(a.scope.valid_from)) : String(a.scope.file_sha256 || "").slice(0, 12)}</td>
  <td>${fmtTime(a.requested_at)}</td><td>${a.can_decide
    ? html`<button type="button" class="primary" data-approve="${a.id}">${t("population.approve")}</button>
      <button type="button" data-reject="${a.id}">${t("population.reject")}</button>`
    : html`<span class="muted">${t("population.waiting_other")}</span>`}</td></tr>`;

/** @param {HTMLElement} box */
async function refresh(box) {
  const purpose = t("population.purpose_duplicates");
  const [open, merged, pending] = await Promise.all([
    populationReviewQueue(purpose, { limit: 20 }), populationReviewQueue(purpose, { status: "merged", limit: 10 }),
    approvalsListRequests({ state: "pending" }),
  ]);
  const cols = ["id", "person", "other", "reasons", "score", "status", "decision"];
  render(/** @type {HTMLElement} */ (box.querySelector("#pop-dups")), html`<table data-testid="pop-dups">${head(cols)}
    <tbody>${open.length ? open.map(dupRow) : html`<tr><td colspan="7" class="muted">${t("common.queue_empty")}</td></tr>`}
    </tbody></table>`);
  render(/** @type {HTMLElement} */ (box.querySelector("#pop-merged")), merged.length
    ? html`<table data-testid="pop-merged">${head(cols)}<tbody>${merged.map(dupRow)}</tbody></table>` : html``);
  const mine = pending.filter((a) => KINDS.includes(a.kind));
  render(/** @type {HTMLElement} */ (box.querySelector("#pop-approvals")), mine.length
    ? html`<table data-testid="pop-approvals">${head(["id", "kind", "by", "reason", "what", "when", "decision"])}
      <tbody>${mine.map(approvalRow)}</tbody></table>` : html`<p class="muted">${t("common.none")}</p>`);
}

/** @param {HTMLElement} box @param {() => Promise<unknown>} call */
async function act(box, call) {
  const msg = /** @type {HTMLElement} */ (box.querySelector("#pop-review-msg"));
  try {
    await call();
    render(msg, html`<p class="ok">${t("population.done")}</p>`);
    await refresh(box);
  } catch (e) { render(msg, html`<p class="error">${e.message}</p>`); }
}

/** @param {Workspace} ws @param {HTMLElement} box */
export async function mountReview(ws, box) {
  render(box, html`<div id="pop-review-msg"></div><h3>${t("population.duplicates")}</h3>
    <div id="pop-dups" class="muted">${t("common.loading")}</div><div id="pop-compare"></div>
    <h3>${t("population.merged_recently")}</h3><div id="pop-merged"></div>
    <h3>${t("population.second_officer")}</h3><div id="pop-approvals"></div>`);
  const purpose = t("population.purpose_duplicates");
  box.addEventListener("click", (e) => {
    const d = /** @type {HTMLElement} */ (e.target).dataset;
    if (d.compare) {
      populationCompareDuplicates(Number(d.compare), purpose)
        .then((c) => render(/** @type {HTMLElement} */ (box.querySelector("#pop-compare")), sideBySide(c)))
        .catch((err) => {
          const msg = /** @type {HTMLElement} */ (box.querySelector("#pop-review-msg"));
          render(msg, html`<p class="error">${err.message}</p>`);
        });
    }
    if (d.merge) act(box, () => populationMerge(Number(d.merge), purpose, {}));
    if (d.notdup) act(box, () => populationNotDuplicate(Number(d.notdup), purpose));
    if (d.undo) act(box, () => populationUndoMerge(Number(d.undo), purpose));
    if (d.approve) act(box, () => approvalsApprove(Number(d.approve), { note: null }));
    if (d.reject) act(box, () => approvalsReject(Number(d.reject), { note: null }));
  });
  await refresh(box);
}
