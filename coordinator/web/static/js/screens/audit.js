// @ts-check
// The data-protection officer's screen (permission audit:read, not the administrator's):
// the chain's verification, unusual lookup volumes, who accessed a person, recent entries.
import { auditPersonAccesses, auditUnusualVolumes, auditVerify, authAuditLog } from "../api_client.js";
import { expectArray, fmtTime } from "../http.js";
import { html, render } from "../html.js";
import { t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").AuditEntry} AuditEntry */
/** @typedef {import("../api_client.js").UnusualVolume} UnusualVolume */

/** @param {string[]} keys */
const head = (keys) => html`<thead><tr>${keys.map((k) => html`<th>${t(k)}</th>`)}</tr></thead>`;
/** @param {number} cols @param {string} key */
const empty = (cols, key) => html`<tr><td colspan="${cols}" class="muted">${t(key)}</td></tr>`;

/** @param {AuditEntry} e one audit entry */
const entryRow = (e) => html`<tr><td>${e.id}</td><td>${fmtTime(e.ts)}</td><td data-l10n="data">${e.actor}</td>
  <td data-l10n="data">${e.action}</td><td data-l10n="data">${e.subject_type}${e.subject_id ? ` ${e.subject_id}` : ""}</td>
  <td data-l10n="data">${e.purpose || ""}</td></tr>`;
const ENTRY_COLS = ["audit.id", "audit.when", "audit.actor", "audit.action", "audit.subject", "audit.purpose"];

/** @param {UnusualVolume} u an actor's day that stands out */
const unusualRow = (u) => html`<tr><td data-l10n="data">${u.actor}</td><td>${u.day}</td><td>${u.count}</td>
  <td>${u.baseline_per_day}</td><td>${u.ratio === null ? "—" : `×${u.ratio}`}</td></tr>`;

/** @param {HTMLElement} box */
async function verify(box) {
  render(box, html`<p class="muted">${t("audit.verifying")}</p>`);
  try {
    const r = await auditVerify();
    const state = r.ok
      ? html`<span class="pill" data-testid="audit-ok">${t("audit.intact")}</span>`
      : html`<span class="pill pri-1" data-testid="audit-tampered">${t("audit.tampered")}</span>`;
    render(box, html`<div class="card" data-testid="audit-verify">${state}
      ${t("audit.verified", { entries: r.entries, checkpoints: r.checkpoints })}
      ${r.problems.length ? html`<ul>${r.problems.map((p) => html`<li class="error">${p}</li>`)}</ul>` : ""}</div>`);
  } catch (e) { render(box, html`<p class="error">${e.message}</p>`); }
}

/** @param {HTMLElement} box */
async function unusual(box) {
  try {
    const rows = expectArray(await auditUnusualVolumes(), "unusual volumes");
    render(box, html`<table data-testid="audit-unusual">${head(["audit.actor", "audit.day", "audit.count",
      "audit.baseline", "audit.ratio"])}<tbody>${rows.length ? rows.map(unusualRow) : empty(5, "audit.none_unusual")}</tbody></table>`);
  } catch (e) { render(box, html`<p class="error">${e.message}</p>`); }
}

/** @param {HTMLElement} view */
async function accesses(view) {
  const input = /** @type {HTMLInputElement} */ (view.querySelector("#audit-person input"));
  const out = /** @type {HTMLElement} */ (view.querySelector("#audit-accesses"));
  const id = Number(input.value);
  if (!Number.isInteger(id) || id < 1) { render(out, html`<p class="error">${t("audit.need_person")}</p>`); return; }
  try {
    const rows = expectArray(await auditPersonAccesses(id), "accesses");
    render(out, html`<table data-testid="audit-accesses">${head(ENTRY_COLS)}<tbody>
      ${rows.length ? rows.map(entryRow) : empty(6, "audit.no_access")}</tbody></table>`);
  } catch (e) { render(out, html`<p class="error">${e.message}</p>`); }
}

/** @param {HTMLElement} box */
async function recent(box) {
  try {
    const rows = expectArray(await authAuditLog({ limit: 50 }), "audit entries");
    render(box, html`<table data-testid="audit-recent">${head(ENTRY_COLS)}<tbody>
      ${rows.length ? rows.map(entryRow) : empty(6, "common.none")}</tbody></table>`);
  } catch (e) { render(box, html`<p class="error">${e.message}</p>`); }
}

/** @param {HTMLElement} view */
async function mount(view) {
  render(view, html`<h1>${t("audit.title")}</h1>
    <h2>${t("audit.chain")}</h2><div id="audit-chain"></div>
    <h2>${t("audit.unusual")}</h2><p class="muted">${t("audit.unusual_help")}</p><div id="audit-unusual"></div>
    <h2>${t("audit.who_accessed")}</h2>
    <form id="audit-person"><label>${t("audit.person_id")}<input name="person" inputmode="numeric" size="10"></label>
      <button class="primary">${t("audit.show")}</button></form>
    <div id="audit-accesses"></div>
    <h2>${t("audit.recent")}</h2><div id="audit-recent-box"></div>`);
  view.querySelector("#audit-person")?.addEventListener("submit", (e) => { e.preventDefault(); accesses(view); });
  const box = (/** @type {string} */ id) => /** @type {HTMLElement} */ (view.querySelector(id));
  await Promise.all([verify(box("#audit-chain")), unusual(box("#audit-unusual")), recent(box("#audit-recent-box"))]);
}

registerScreen({ id: "audit", navKey: "nav.audit", perm: "audit:read", mount });
