// @ts-check
// Data-access approvers: break-the-glass requests to approve or reject, and emergency
// grants to review after the fact (justified, or unjustified with a reason).
import { approvalsApprove, approvalsListRequests, approvalsReject, approvalsReview } from "../api_client.js";
import { fmtTime } from "../http.js";
import { html, render } from "../html.js";
import { t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").ApprovalOut} ApprovalOut */

/** @param {string[]} keys */
const head = (keys) => html`<thead><tr>${keys.map((k) => html`<th>${t(`access.col.${k}`)}</th>`)}</tr></thead>`;

/** @param {ApprovalOut} a */
const subject = (a) => `${a.subject_type} ${a.subject_id}`;

/** @param {ApprovalOut} a */
const pendingRow = (a) => html`<tr data-request="${a.id}"><td>${a.id}</td><td>${a.requested_by}</td>
  <td>${subject(a)}</td><td>${Math.round((a.duration_s || 0) / 60)}</td><td>${a.reason}</td>
  <td>${fmtTime(a.requested_at)}</td><td>${a.can_decide
    ? html`<button type="button" class="primary" data-decide="approve" data-id="${a.id}">${t("access.approve")}</button>
      <button type="button" data-decide="reject" data-id="${a.id}">${t("access.reject")}</button>`
    : html`<span class="muted">${t("access.not_yours")}</span>`}</td></tr>`;

/** @param {ApprovalOut} a */
const reviewRow = (a) => html`<tr data-review="${a.id}"><td>${a.id}</td><td>${a.requested_by}</td>
  <td>${subject(a)}</td><td>${a.reason}</td><td>${fmtTime(a.requested_at)}</td>
  <td><input data-note="${a.id}" size="30" placeholder="${t("access.note")}">
    <button type="button" data-verdict="justified" data-id="${a.id}">${t("access.justified")}</button>
    <button type="button" data-verdict="unjustified" data-id="${a.id}">${t("access.unjustified")}</button></td></tr>`;

/** @param {HTMLElement} view */
async function refresh(view) {
  const [pending, review] = await Promise.all([
    approvalsListRequests({ state: "pending", kind: "break-glass" }),
    approvalsListRequests({ review: true }),
  ]);
  render(/** @type {HTMLElement} */ (view.querySelector("#acc-pending")), pending.length
    ? html`<table data-testid="access-pending">${head(["id", "by", "subject", "minutes", "reason", "when", "decision"])}
      <tbody>${pending.map(pendingRow)}</tbody></table>`
    : html`<p class="muted">${t("access.none")}</p>`);
  render(/** @type {HTMLElement} */ (view.querySelector("#acc-review")), review.length
    ? html`<table data-testid="access-review">${head(["id", "by", "subject", "reason", "when", "verdict"])}
      <tbody>${review.map(reviewRow)}</tbody></table>`
    : html`<p class="muted">${t("access.none")}</p>`);
}

/** @param {HTMLElement} view @param {() => Promise<unknown>} call */
async function run(view, call) {
  const msg = /** @type {HTMLElement} */ (view.querySelector("#acc-msg"));
  try {
    await call();
    render(msg, html`<p class="ok">${t("access.done")}</p>`);
    await refresh(view);
  } catch (e) { render(msg, html`<p class="error">${e.message}</p>`); }
}

/** @param {HTMLElement} view */
async function mount(view) {
  render(view, html`<h1>${t("access.title")}</h1><div id="acc-msg"></div>
    <h2>${t("access.pending")}</h2><div id="acc-pending"></div>
    <h2>${t("access.review")}</h2><div id="acc-review"></div>`);
  view.addEventListener("click", (e) => {
    const btn = /** @type {HTMLElement} */ (e.target);
    const id = Number(btn.dataset.id);
    if (btn.dataset.decide) {
      const call = btn.dataset.decide === "approve" ? approvalsApprove : approvalsReject;
      run(view, () => call(id, { note: null }));
    }
    if (btn.dataset.verdict) {
      const note = /** @type {HTMLInputElement} */ (view.querySelector(`[data-note="${id}"]`)).value;
      const verdict = /** @type {import("../api_client.js").Review} */ (btn.dataset.verdict);
      run(view, () => approvalsReview(id, { verdict, note }));
    }
  });
  await refresh(view);
}

registerScreen({ id: "access", navKey: "nav.access", perm: "access:approve", mount });
