// @ts-check
// Fleet health: cameras by zone and owner, offline/stale alerts, certificate expiry.
import { fleetAlertGroups, fleetCertExpiry, fleetListDevices, fleetSummary } from "../api_client.js";
import { html, render } from "../html.js";
import { fmtAgo, fmtDate, fmtNumber, fmtTime, has, label, t } from "../i18n.js";
import { onLive } from "../live.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").Device} Device */
/** @typedef {import("../api_client.js").DeviceAlert} DeviceAlert */
/** @typedef {import("../api_client.js").DeviceAlertGroup} DeviceAlertGroup */
/** @typedef {import("../api_client.js").FleetSummary} FleetSummary */
/** @typedef {import("../api_client.js").HealthCounts} HealthCounts */

const STATES = ["online", "stale", "offline", "unknown", "revoked", "cert_expiring"];
const GROUPS = ["zone", "centre_id", "owner_type", "owner_org"];
/** @type {(() => void) | null} */
let off = null;
/** @type {ReturnType<typeof setTimeout> | null} */
let timer = null;

/** @param {FleetSummary} summary */
function groupTable(summary) {
  const rows = Object.entries(summary.groups).map(([k, g]) =>
    html`<tr><td>${summary.by === "owner_type" ? label("fleet.owner_type.", k) : k}</td>
      ${STATES.map((s) => html`<td class="st-${s}">${fmtNumber(g[s] || 0)}</td>`)}</tr>`);
  const heads = STATES.map((s) => html`<th>${t(`fleet.state.${s}`)}</th>`);
  return html`<table><thead><tr><th>${t(`fleet.by.${summary.by || "zone"}`)}</th>${heads}</tr></thead>
    <tbody>${rows}</tbody></table>`;
}

/** @param {HealthCounts} total */
function cards(total) {
  const card = (/** @type {string} */ k) => html`<div class="card"><span class="muted">${t(`fleet.state.${k}`)}</span>
    <b class="st-${k}" data-testid="fleet-${k}">${fmtNumber(total[k] ?? 0)}</b></div>`;
  return html`<div class="cards">${STATES.map(card)}</div>`;
}

/**
 * @template T
 * @param {T[]} rows
 * @param {string[]} headKeys
 * @param {(x: T) => import("../html.js").Html} row
 */
function table(rows, headKeys, row) {
  const empty = html`<tr><td colspan="${headKeys.length || 1}" class="muted">${t("common.none")}</td></tr>`;
  const head = headKeys.length ? html`<thead><tr>${headKeys.map((k) => html`<th>${t(k)}</th>`)}</tr></thead>` : "";
  return html`<table>${head}<tbody>${rows.length ? rows.map(row) : empty}</tbody></table>`;
}

// Last seen = the last health report, or the last status change (the server's staleness rule).
/** @param {Device} d */
const offlineRow = (d) => html`<tr><td>${d.id}</td><td>${d.zone}</td><td>${d.owner_org} (${label("fleet.owner_type.", d.owner_type)})</td>
  <td title="${fmtTime(d.last_health_at ?? d.status_at)}">${fmtAgo(d.last_health_at ?? d.status_at)}</td></tr>`;
/** @param {Device} d */
const certRow = (d) => html`<tr><td>${d.id}</td><td>${d.zone}</td><td class="st-stale">${fmtDate(d.cert_not_after)}</td></tr>`;
// What an alert means, in the reader's language; an alert kind the catalogue does not know
// yet shows the server's words.
/** @param {DeviceAlert} a */
function alertDetail(a) {
  const key = `fleet.alert_detail.${a.kind}`;
  return has(key) ? t(key) : html`<span data-l10n="server">${a.detail || ""}</span>`;
}

/** @param {DeviceAlert} a */
const alertRow = (a) => html`<tr><td>${fmtTime(a.opened_at)}</td><td>${a.device_id}</td><td>${label("fleet.state.", a.kind)}</td>
  <td>${alertDetail(a)}</td></tr>`;

// Cameras down together are one row: "12 cameras down in zone Z003".
/** @param {DeviceAlertGroup} g */
const alertGroupRow = (g) => html`<tr data-alert-group="${g.id}"><td>${fmtTime(g.opened_at)}</td>
  <td data-testid="alert-group"><b>${t(`fleet.down.${g.dim}`, { n: g.open_count, value: g.value })}</b></td>
  <td class="muted">${t("fleet.down.since", { n: g.count })}</td></tr>`;

/** @param {HTMLElement} view */
async function load(view) {
  const pick = /** @type {HTMLSelectElement} */ (view.querySelector("#fleet-by"));
  const by = /** @type {"zone" | "centre_id" | "owner_type" | "owner_org"} */ (pick.value);
  const [summary, alerts, certs, offline] = await Promise.all([
    fleetSummary({ by }),
    fleetAlertGroups({ limit: 200 }).catch(() => ({ groups: [], singles: [], open: 0, grouped: 0 })),
    fleetCertExpiry().catch(() => []),
    fleetListDevices({ status: "offline", limit: 200 }).catch(() => []),
  ]);
  render(/** @type {HTMLElement} */ (view.querySelector("#fleet-body")), html`
    ${cards(summary.total)}
    ${groupTable(summary)}
    <h2>${t("fleet.offline")}</h2>${table(offline, ["fleet.device", "fleet.zone", "fleet.owner", "fleet.last_seen"], offlineRow)}
    <h2>${t("fleet.certs")}</h2>${table(certs, ["fleet.device", "fleet.zone", "fleet.expires"], certRow)}
    <h2>${t("fleet.alerts")} <span class="pill" data-testid="alerts-open">${alerts.open}</span></h2>
    <p class="muted">${t("fleet.down.summary", { open: alerts.open, grouped: alerts.grouped, groups: alerts.groups.length })}</p>
    ${table(alerts.groups, [], alertGroupRow)}${table(alerts.singles.slice(0, 50), [], alertRow)}`);
}

/** @param {string} k a grouping */
const option = (k) => html`<option value="${k}">${t(`fleet.by.${k}`)}</option>`;

/** @param {HTMLElement} view */
async function mount(view) {
  render(view, html`<h1>${t("fleet.title")}</h1>
    <label>${t("fleet.group_by")} <select id="fleet-by">${GROUPS.map(option)}</select></label>
    <div id="fleet-body"></div>`);
  view.querySelector("#fleet-by")?.addEventListener("change", () => load(view));
  await load(view);
  // A wave of alerts is one reload per two seconds, not one per message.
  off = onLive((kind) => {
    if ((kind === "device_alert" || kind === "resync") && !timer) {
      timer = setTimeout(() => { timer = null; load(view).catch(() => {}); }, 2000);
    }
  });
}

function unmount() { if (off) off(); off = null; if (timer) clearTimeout(timer); timer = null; }

registerScreen({ id: "fleet", navKey: "nav.fleet", perm: "devices:read", mount, unmount });
