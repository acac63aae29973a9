// @ts-check
// Unit status board and dispatch KPIs (detection→dispatch, dispatch→ack, dispatch→on scene).
import {
  dispatchCoverage, dispatchCreateOrder, dispatchDivert, dispatchGetKpis, dispatchListUnits,
  dispatchPendingQueue, dispatchPreemption, incidentsFalseAlarmRates,
} from "../api_client.js";
import { session } from "../http.js";
import { html, render } from "../html.js";
import { fmtPercent, fmtSeconds, label, t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").FalseAlarmRate} FalseAlarmRate */
/** @typedef {import("../api_client.js").Unit} Unit */
/** @typedef {import("../api_client.js").PendingItem} PendingItem */
/** @typedef {import("../api_client.js").PendingReasonArgs} PendingReasonArgs */
/** @typedef {import("../api_client.js").Preemption} Preemption */
/** @typedef {import("../api_client.js").MoveUp} MoveUp */

/** @type {ReturnType<typeof setInterval> | null} */
let timer = null;

/** @param {number | null | undefined} s */
const seconds = (s) => fmtSeconds(s);

// A bar as SVG geometry, not an inline style (the Content-Security-Policy refuses those).
/** @param {number} share 0..1 */
const bar = (share) => html`<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
  <rect width="${Math.max(0, Math.min(100, 100 * share))}" height="10"></rect></svg>`;

/** @typedef {{ label: string, d2d?: number, d2a?: number, d2s?: number }} KpiRow */

/** @param {KpiRow[]} rows @param {"d2d" | "d2a" | "d2s"} key */
function bars(rows, key) {
  const max = Math.max(1, ...rows.map((r) => r[key] || 0));
  return rows.map((r) => html`<tr><td>${r.label}</td>
    <td class="bar-cell">${bar((r[key] || 0) / max)}</td><td>${seconds(r[key])}</td></tr>`);
}

/** @param {Unit} u one patrol unit */
function unitRow(u) {
  const age = u.position_age_s == null ? t("units.no_position") : seconds(u.position_age_s);
  return html`<tr data-unit="${u.id}"><td>${u.id}</td><td>${u.call_sign}</td>
    <td>${label("units.mode.", u.mode)}</td><td>${u.home_zone || ""}</td>
    <td class="st-${u.status}" data-testid="unit-status" data-status="${u.status}">${label("units.status.", u.status)}</td>
    <td>${age}${u.position_stale ? html` <span class="pill">${t("units.stale")}</span>` : ""}</td></tr>`;
}

/** @param {HTMLElement} view */
async function load(view) {
  const units = await dispatchListUnits();
  const cols = ["unit", "call_sign", "mode", "zone", "status", "position_age"];
  render(/** @type {HTMLElement} */ (view.querySelector("#units-body")), html`<table>
    <thead><tr>${cols.map((c) => html`<th>${t(`units.col.${c}`)}</th>`)}</tr></thead>
    <tbody>${units.map(unitRow)}</tbody></table>`);
  if (session.can("incidents:read")) await pending(view);
  await coverage(view);
  await falseAlarms(view);
  if (session.can("kpi:read")) await kpis(view);
}

/** @param {number} s seconds waited */
const waited = (s) => fmtSeconds(s);

/** @param {PendingItem} p one waiting incident */
function pendingRow(p) {
  const act = session.can("dispatch:act") ? html`<td>
    <button data-act="dispatch" data-inc="${p.incident_id}">${t("units.pending.dispatch")}</button>
    <button data-act="divert" data-inc="${p.incident_id}">${t("units.pending.divert")}</button></td>` : html`<td></td>`;
  const pri = t("units.priority", { p: p.priority });
  return html`<tr data-pending="${p.incident_id}"><td><span class="pill pri-${p.priority}">${pri}</span></td>
    <td>${label("incidents.kind.", p.kind || "")}</td>
    <td>${p.zone || ""}</td><td>${waited(p.waiting_s)}</td>
    <td data-testid="pending-reason" data-code="${p.reason_code}"
      >${t(`units.reason.${p.reason_code}`)} — ${reasonDetail(p)}</td>${act}</tr>`;
}

// Unit-level facts behind a waiting reason, worded in the reader's language.
/** @param {PendingReasonArgs} a @returns {string | null} */
function unitFacts(a) {
  const modes = (a.modes || []).map((m) => label("units.mode.", m)).join(", ");
  if (a.case === "none_defined") return t("units.why.none_defined");
  if (a.case === "all_off_duty") return t("units.why.all_off_duty");
  if (a.busy != null) return t(modes ? "units.why.busy_mode" : "units.why.busy", { n: a.busy, modes });
  if (a.modes) return t("units.why.no_mode", { modes });
  if (a.free != null) return t("units.why.no_position", { n: a.free });
  return null;
}

/** Why an incident waits, from the facts the server sent (its English sentence is for logs).
 * @param {PendingItem} p */
function reasonDetail(p) {
  const a = p.reason_args || {};
  const said = a.detail ? html`: <span data-l10n="data">${a.detail}</span>` : "";
  if (p.reason_code === "order_ended") {
    const unit = { unit: a.unit || "?" };
    const what = a.event === "no_unit" ? t("units.why.reoffer_none")
      : a.event === "declined" ? t("units.why.order_declined", unit)
        : a.event === "timed_out" ? t("units.why.order_timed_out", unit) : t("units.why.order_cancelled", unit);
    return html`${what}${said}; ${t("units.why.free_again")}`;
  }
  if (p.reason_code === "auto_failed") return t("units.why.auto_failed");
  if (p.reason_code === "awaiting_dispatcher") return t("units.why.awaiting");
  return unitFacts(a) ?? t("units.why.awaiting");
}

// Incidents that need a unit and have none: most urgent first, each with why it waits.
/** @param {HTMLElement} view */
async function pending(view) {
  const box = /** @type {HTMLElement} */ (view.querySelector("#pending-body"));
  const q = await dispatchPendingQueue({ limit: 50 });
  const cols = ["priority", "kind", "zone", "waiting", "reason", "action"];
  const summary = t("units.pending.summary", { total: q.total, unverified: q.awaiting_verification });
  render(box, q.items.length ? html`<p class="muted" data-testid="pending-summary">${summary}</p><table data-testid="pending">
    <thead><tr>${cols.map((c) => html`<th>${t(`units.pending.col.${c}`)}</th>`)}</tr></thead>
    <tbody>${q.items.map(pendingRow)}</tbody></table>`
    : html`<p class="muted" data-testid="pending-summary">${t("units.pending.none", { unverified: q.awaiting_verification })}</p>`);
}

/** @param {MoveUp} m one uncovered zone */
const moveUpRow = (m) => html`<tr data-zone="${m.zone}"><td>${m.zone}</td><td>${m.unit
  ? t("units.coverage.move", { unit: m.unit, from: m.from_zone || "", km: ((m.distance_m || 0) / 1000).toFixed(1) })
  : t("units.coverage.nobody")}</td></tr>`;

// Zones left without an available unit, with the spare unit proposed to move up.
/** @param {HTMLElement} view */
async function coverage(view) {
  const box = /** @type {HTMLElement} */ (view.querySelector("#coverage-body"));
  const c = await dispatchCoverage();
  render(box, c.uncovered.length ? html`<table data-testid="coverage">${c.uncovered.map(moveUpRow)}</table>`
    : html`<p class="muted">${t("units.coverage.all", { zones: c.zones })}</p>`);
}

/** @param {Preemption} p @param {string} inc */
const proposalRow = (p, inc) => html`<tr><td>${p.unit} (${p.call_sign})</td><td>${fmtSeconds(p.eta_s)}</td>
  <td>${t("units.divert.cost", { incident: p.leaves_incident.slice(-8), pri: p.leaves_priority, status: p.leaves_order_status })}
  ${p.replacement_eta_s == null ? t("units.divert.no_replacement")
    : t("units.divert.replacement", { eta: fmtSeconds(p.replacement_eta_s) })}</td>
  <td><button data-act="divert-confirm" data-inc="${inc}" data-unit="${p.unit}">${t("units.divert.confirm")}</button></td></tr>`;

/** @param {HTMLElement} view @param {string} inc */
async function openDivert(view, inc) {
  const dlg = /** @type {HTMLDialogElement} */ (view.querySelector("#divert-dialog"));
  const body = /** @type {HTMLElement} */ (dlg.querySelector(".dialog-body"));
  const r = await dispatchPreemption(inc);
  render(body, r.proposals.length ? html`<table data-testid="proposals">${r.proposals.map((p) => proposalRow(p, inc))}</table>`
    : html`<p class="muted">${t("units.divert.none")}</p>`);
  if (!dlg.open) dlg.showModal();
}

/** @param {HTMLElement} view @param {Event} ev */
async function onClick(view, ev) {
  const btn = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (ev.target).closest("button[data-act]"));
  if (!btn) return;
  const inc = btn.dataset.inc || "";
  const note = /** @type {HTMLElement} */ (view.querySelector("#pending-note"));
  try {
    if (btn.dataset.act === "dispatch") await dispatchCreateOrder({ incident_id: inc });
    else if (btn.dataset.act === "divert") { await openDivert(view, inc); return; }
    else if (btn.dataset.act === "divert-confirm") {
      await dispatchDivert({ incident_id: inc, unit_id: btn.dataset.unit || "" });
      /** @type {HTMLDialogElement} */ (view.querySelector("#divert-dialog")).close();
    } else if (btn.dataset.act === "divert-close") {
      /** @type {HTMLDialogElement} */ (view.querySelector("#divert-dialog")).close();
      return;
    }
    render(note, html``);
  } catch (e) {
    render(note, html`<p class="error" data-testid="pending-error">${e.message}</p>`);
  }
  await load(view);
}

/** @param {HTMLElement} view */
async function kpis(view) {
  const k = await dispatchGetKpis({ group_by: "zone" }).catch(() => null);
  if (!Array.isArray(k)) return;
  /** @type {KpiRow[]} */
  const rows = k.map((g) => ({
    label: (g.zone || t("units.all_zones")) + (g.waiting ? ` · ${t("units.kpi.waiting", { n: g.waiting })}` : ""),
    d2d: g.detection_to_dispatch?.p90_s,
    d2a: g.dispatch_to_ack?.p90_s,
    d2s: g.dispatch_to_on_scene?.p90_s,
  }));
  render(/** @type {HTMLElement} */ (view.querySelector("#kpi-body")), rows.length ? html`
    <h2>${t("units.kpi.d2d")}</h2><table>${bars(rows, "d2d")}</table>
    <h2>${t("units.kpi.d2a")}</h2><table>${bars(rows, "d2a")}</table>
    <h2>${t("units.kpi.d2s")}</h2><table>${bars(rows, "d2s")}</table>` : html`<p class="muted">${t("units.no_dispatches")}</p>`);
}

/** @param {FalseAlarmRate} x one camera and rule with its false-alarm rate */
const rateRow = (x) => html`<tr><td>${x.device_id} · ${label("incidents.kind.", x.rule)}</td>
  <td class="bar-cell">${bar(x.rate)}</td>
  <td>${t("units.rate_of", { pct: fmtPercent(x.rate), total: x.total })}</td></tr>`;

// False-alarm rate per camera and rule (last week): the ten noisiest, worst first.
/** @param {HTMLElement} view */
async function falseAlarms(view) {
  const box = /** @type {HTMLElement} */ (view.querySelector("#fa-body"));
  if (!session.can("incidents:read")) { render(box, html``); return; }
  let r;
  try { r = await incidentsFalseAlarmRates(); } catch (e) {
    render(box, html`<p class="error">${t("units.rates_unavailable", { error: e.message })}</p>`);
    return;
  }
  const top = r.filter((x) => x.total > 0).sort((a, b) => b.rate - a.rate).slice(0, 10);
  const none = html`<p class="muted">${t("units.no_incidents")}</p>`;
  render(box, top.length ? html`<table data-testid="false-alarms">${top.map(rateRow)}</table>` : none);
}

/** @param {HTMLElement} view */
async function mount(view) {
  render(view, html`<h1>${t("units.pending.title")}</h1><div id="pending-note"></div><div id="pending-body"></div>
    <h2>${t("units.coverage.title")}</h2><div id="coverage-body"></div>
    <h1>${t("units.title")}</h1><div id="units-body"></div><h1>${t("units.kpis")}</h1><div id="kpi-body"></div>
    <h2>${t("units.false_alarms")}</h2><div id="fa-body"></div>
    <dialog id="divert-dialog" data-testid="divert-dialog"><h2>${t("units.divert.title")}</h2><div class="dialog-body"></div>
    <button data-act="divert-close">${t("units.divert.close")}</button></dialog>`);
  view.addEventListener("click", (ev) => { onClick(view, ev).catch(() => {}); });
  await load(view);
  timer = setInterval(() => load(view).catch(() => {}), 3000);
}

function unmount() { if (timer) clearInterval(timer); timer = null; }

registerScreen({ id: "units", navKey: "nav.units", perm: "units:read", mount, unmount });
