// @ts-check
// Unit status board and dispatch KPIs (detection→dispatch, dispatch→ack, dispatch→on scene).
import { dispatchGetKpis, dispatchListUnits, incidentsFalseAlarmRates } from "../api_client.js";
import { session } from "../http.js";
import { html, render } from "../html.js";
import { t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").FalseAlarmRate} FalseAlarmRate */
/** @typedef {import("../api_client.js").Unit} Unit */

/** @type {ReturnType<typeof setInterval> | null} */
let timer = null;

/** @param {number | null | undefined} s */
const seconds = (s) => (s == null ? "–" : t("units.seconds", { s: Math.round(s) }));

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
  return html`<tr data-unit="${u.id}"><td>${u.id}</td><td>${u.call_sign}</td><td>${u.mode}</td><td>${u.home_zone || ""}</td>
    <td class="st-${u.status}" data-testid="unit-status">${u.status}</td>
    <td>${age}${u.position_stale ? html` <span class="pill">${t("units.stale")}</span>` : ""}</td></tr>`;
}

/** @param {HTMLElement} view */
async function load(view) {
  const units = await dispatchListUnits();
  const cols = ["unit", "call_sign", "mode", "zone", "status", "position_age"];
  render(/** @type {HTMLElement} */ (view.querySelector("#units-body")), html`<table>
    <thead><tr>${cols.map((c) => html`<th>${t(`units.col.${c}`)}</th>`)}</tr></thead>
    <tbody>${units.map(unitRow)}</tbody></table>`);
  await falseAlarms(view);
  if (session.can("kpi:read")) await kpis(view);
}

/** @param {HTMLElement} view */
async function kpis(view) {
  const k = await dispatchGetKpis({ group_by: "zone" }).catch(() => null);
  if (!Array.isArray(k)) return;
  /** @type {KpiRow[]} */
  const rows = k.map((g) => ({
    label: g.zone || t("units.all_zones"),
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
const rateRow = (x) => html`<tr><td>${x.device_id} · ${x.rule}</td>
  <td class="bar-cell">${bar(x.rate)}</td>
  <td>${t("units.rate_of", { pct: Math.round(100 * x.rate), total: x.total })}</td></tr>`;

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
  render(view, html`<h1>${t("units.title")}</h1><div id="units-body"></div><h1>${t("units.kpis")}</h1><div id="kpi-body"></div>
    <h2>${t("units.false_alarms")}</h2><div id="fa-body"></div>`);
  await load(view);
  timer = setInterval(() => load(view).catch(() => {}), 3000);
}

function unmount() { if (timer) clearInterval(timer); timer = null; }

registerScreen({ id: "units", navKey: "nav.units", perm: "units:read", mount, unmount });
