// @ts-check
// Investigators: risk alerts, alias links awaiting review (with evidence), warnings workflow.
import {
  fraudAlerts, fraudApproveWarning, fraudDecideLink, fraudPublishWarning, fraudReviewQueue, fraudStats, fraudWarnings,
} from "../api_client.js";
import { banner } from "../banner.js";
import { html, render } from "../html.js";
import { fmtNumber, has, label, t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").FraudAlert} FraudAlert */
/** @typedef {import("../api_client.js").FraudWarning} FraudWarning */
/** @typedef {import("../api_client.js").LinkEvidence} LinkEvidence */
/** @typedef {import("../api_client.js").LinkForReview} LinkForReview */
/** @typedef {import("../api_client.js").PlatformStats} PlatformStats */

/**
 * A list, or the error that kept it from loading.
 * @template T
 * @param {Promise<T[]>} p
 * @returns {Promise<{ items: T[], error: string | null }>}
 */
const settle = (p) => p.then((items) => ({ items, error: null }), (e) => ({ items: [], error: e.message }));

/** @param {string[]} keys column titles (an empty key: an untitled column) */
const head = (keys) => html`<thead><tr>${keys.map((k) => html`<th>${k ? t(k) : ""}</th>`)}</tr></thead>`;

/** @param {string | null} error */
const failure = (error) => (error ? html`<p class="error">${error}</p>` : "");

// A risk factor in the reader's language: the server's sentence carries one number (a count,
// an amount, days), read back into the catalogue's string; an unknown factor is shown as sent.
/** @param {{ factor: string, detail: string }} r */
function factor(r) {
  const key = `fraud.factor.${r.factor}`;
  const n = /[\d,]+(\.\d+)?/.exec(r.detail.replace(/^[^\d]*/, ""));
  if (!has(key) || !n) return r.detail;
  return t(key, { n: Number(n[0].replace(/,/g, "")) });
}

/** @param {FraudAlert} a one risk alert: the cluster's companies and the scored reasons */
function alertRow(a) {
  const names = a.companies.map((c) => c.display_name).join(t("common.list_sep"));
  const reasons = a.reasons.map((r) => html`<li>${factor(r)} <span class="muted">(+${fmtNumber(r.points)})</span></li>`);
  return html`<tr data-alert="${a.id}">
    <td data-testid="alert-companies" data-l10n="data">${names}</td>
    <td><span class="pill">${label("fraud.level.", a.level)}</span></td><td>${fmtNumber(a.score)}</td>
    <td><ul class="reasons" data-testid="alert-reasons">${reasons}</ul></td></tr>`;
}

/** Why two companies may be one: the identifiers they share, how alike the names are. @param {LinkEvidence} e */
function evidence(e) {
  const shared = (e.shared || []).map((x) => html`<li>${t(`fraud.kind.${x.kind}`)} ${x.value}</li>`);
  const alike = e.name_similarity != null ? t("fraud.name_similarity", { pct: Math.round(100 * e.name_similarity) }) : "";
  const names = alike ? html`<li>${alike}</li>` : "";
  return html`<ul class="reasons" data-testid="link-evidence">${shared}${names}</ul>`;
}

/** @param {LinkForReview} l one link awaiting review */
function linkRow(l) {
  return html`<tr data-link="${l.id}">
    <td>${l.a_name}</td><td>↔</td><td>${l.b_name}</td><td>${fmtNumber(l.score, { maximumFractionDigits: 2 })}</td>
    <td class="muted">${evidence(l.evidence)}</td>
    <td class="actions"><button data-dec="confirm">${t("fraud.confirm")}</button>
      <button data-dec="reject">${t("fraud.reject")}</button></td></tr>`;
}

/** @param {FraudWarning} w the pending change of a published warning, if any */
function pendingChange(w) {
  if (!w.pending) return "";
  const changes = Object.entries(JSON.parse(w.pending)).map(([k, v]) => `${label("fraud.field.", k)} → ${v}`).join(t("common.list_sep"));
  return html`<div class="muted" data-testid="pending-change">${t("fraud.pending_change", { who: w.pending_by, changes })}</div>`;
}

/** @param {FraudWarning} w one warning */
function warningActions(w) {
  const approve = w.state === "draft" || w.pending;
  const label = t(w.pending ? "fraud.approve_change" : "fraud.approve");
  return html`${approve ? html`<button data-w="approve">${label}</button>` : ""}
    ${w.state === "approved" ? html`<button data-w="publish">${t("fraud.publish")}</button>` : ""}`;
}

/** @param {FraudWarning} w one warning */
function warningRow(w) {
  return html`<tr data-warning="${w.id}"><td>${w.id}</td><td>${w.headline}</td>
    <td data-testid="warning-state">${label("fraud.warning_state.", w.state)}${pendingChange(w)}</td>
    <td class="actions">${warningActions(w)}</td></tr>`;
}

/**
 * @template T
 * @param {{ items: T[], error: string | null }} list
 * @param {(x: T) => import("../html.js").Html} row
 * @param {string} emptyKey
 * @param {number} cols
 */
function rows(list, row, emptyKey, cols) {
  return list.items.length ? list.items.slice(0, 30).map(row) : html`<tr><td colspan="${cols}" class="muted">${t(emptyKey)}</td></tr>`;
}

/** The platform's figures, computed from the records. @param {PlatformStats | null} s */
function figures(s) {
  if (!s) return "";
  const fig = (/** @type {string} */ key, /** @type {string} */ value) =>
    html`<div class="card" data-testid="stat-${key}"><b>${value}</b>${t(`fraud.stat.${key}`)}</div>`;
  return html`<h2>${t("fraud.stats")}</h2><div class="cards" data-testid="fraud-stats">
    ${fig("filings", fmtNumber(s.filings))}${fig("companies_checked", fmtNumber(s.companies_checked))}
    ${fig("companies_profiled", fmtNumber(s.companies_profiled))}${fig("frauds_found_early", fmtNumber(s.frauds_found_early))}
    ${fig("losses_avoided", `¥${fmtNumber(s.losses_avoided_cents / 100, { maximumFractionDigits: 0 })}`)}
    ${fig("open_cases", fmtNumber(s.open_cases))}${fig("new_tips", fmtNumber(s.new_tips))}</div>`;
}

/** @param {HTMLElement} view */
async function load(view) {
  const [alerts, review, warnings, stats] = await Promise.all([
    settle(fraudAlerts()),
    settle(fraudReviewQueue(t("fraud.purpose_review"))),
    settle(fraudWarnings()),
    fraudStats().then((s) => s, () => null),
  ]);
  render(/** @type {HTMLElement} */ (view.querySelector("#fraud-body")), html`${figures(stats)}
    <h2>${t("fraud.alerts")}</h2>${failure(alerts.error)}
    <table data-testid="fraud-alerts">${head(["fraud.companies", "fraud.level", "fraud.score", "fraud.reasons"])}
    <tbody>${rows(alerts, alertRow, "common.none", 4)}</tbody></table>
    <h2>${t("fraud.links_review")}</h2>${failure(review.error)}
    <table data-testid="fraud-links"><tbody>${rows(review, linkRow, "common.queue_empty", 6)}</tbody></table>
    <h2>${t("fraud.warnings")}</h2>${failure(warnings.error)}
    <table>${head(["fraud.id", "fraud.headline", "fraud.state", ""])}
    <tbody>${list(warnings)}</tbody></table>`);
}

/** @param {{ items: FraudWarning[], error: string | null }} warnings */
function list(warnings) {
  return warnings.items.length ? warnings.items.map(warningRow) : html`<tr><td colspan="4" class="muted">${t("common.none")}</td></tr>`;
}

/** @param {HTMLElement} target @returns {Promise<boolean>} whether a button was acted on */
async function act(target) {
  const link = /** @type {HTMLElement | null} */ (target.closest("tr[data-link]"));
  const warn = /** @type {HTMLElement | null} */ (target.closest("tr[data-warning]"));
  const dec = target.dataset.dec;
  const step = target.dataset.w;
  if (link && (dec === "confirm" || dec === "reject")) {
    await fraudDecideLink(Number(link.dataset.link), { action: dec });
  } else if (warn && step === "approve") {
    await fraudApproveWarning(Number(warn.dataset.warning));
  } else if (warn && step === "publish") {
    await fraudPublishWarning(Number(warn.dataset.warning));
  } else {
    return false;
  }
  return true;
}

/** @param {HTMLElement} view */
async function mount(view) {
  render(view, html`<h1>${t("fraud.title")}</h1><div id="fraud-body"></div>`);
  view.addEventListener("click", async (e) => {
    try {
      if (await act(/** @type {HTMLElement} */ (e.target))) await load(view);
    } catch (err) { banner(err.message); }
  });
  await load(view);
}

registerScreen({ id: "fraud", navKey: "nav.fraud", perm: "fraud:read", mount });
