// @ts-check
// An owner organisation's own page (a company's, a community's …): its agreement with the
// centre, its cameras' health and the incidents they raised: nothing of anyone else's, no
// people and no patrol units (the coordinator answers an owner's account with nothing more).
import { ownersMyCameras, ownersMyIncidents, ownersMyOrg } from "../api_client.js";
import { html, render } from "../html.js";
import { fmtAgo, fmtNumber, fmtTime, label, t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").OwnCamera} OwnCamera */
/** @typedef {import("../api_client.js").OwnIncident} OwnIncident */

const STATES = ["online", "stale", "offline", "unknown"];

/** @param {OwnCamera} c */
const camRow = (c) => html`<tr data-testid="my-camera" data-device="${c.id}"><td>${c.id}</td><td>${c.zone || ""}</td>
  <td class="st-${c.health_status}">${label("fleet.state.", c.health_status)}</td>
  <td>${fmtAgo(c.last_health_at ?? c.status_at)}</td><td>${c.firmware || ""}</td></tr>`;

/** @param {OwnIncident} i */
const incRow = (i) => html`<tr data-testid="my-incident" data-incident="${i.id}"><td>${fmtTime(i.created_at)}</td>
  <td>${label("incidents.kind.", i.kind)}</td><td>${label("incidents.status.", i.status)}</td><td>${i.cameras.join(", ")}</td></tr>`;

/** @param {string[]} keys */
const head = (keys) => html`<thead><tr>${keys.map((k) => html`<th>${t(k)}</th>`)}</tr></thead>`;

/** @param {HTMLElement} view */
async function mount(view) {
  const [me, cams, incs] = await Promise.all([ownersMyOrg(), ownersMyCameras({ limit: 1000 }), ownersMyIncidents({ limit: 200 })]);
  const a = me.org.agreement;
  const hours = a.hours_from == null ? t("owners.all_day") : t("owners.hours", { from: a.hours_from, to: a.hours_to });
  const card = (/** @type {string} */ k, /** @type {number} */ n) =>
    html`<div class="card"><span class="muted">${t(`owners.col.${k}`)}</span><b data-testid="my-${k}">${fmtNumber(n)}</b></div>`;
  const stats = /** @type {Record<string, number>} */ (/** @type {unknown} */ (me.stats));
  render(view, html`<h1>${t("myorg.title")}</h1>
    <h2 data-testid="my-org-name" data-l10n="data">${me.org.name}</h2>
    <p>${t("owners.agreement")}: <b data-testid="my-agreement">${label("owners.level.", a.level)}</b> · ${hours}</p>
    <p class="muted">${t("myorg.what_shared")}</p>
    <div class="cards">${card("cameras", me.stats.cameras)}${STATES.map((s) => card(s, stats[s] || 0))}
      ${card("incidents_24h", me.stats.incidents_24h)}${card("incidents_7d", me.stats.incidents_7d)}</div>
    <h2>${t("myorg.cameras")}</h2>
    <table>${head(["fleet.device", "fleet.zone", "owners.col.health", "fleet.last_seen", "myorg.firmware"])}
      <tbody>${cams.map(camRow)}</tbody></table>
    <h2>${t("myorg.incidents")}</h2>
    <table>${head(["myorg.when", "myorg.kind", "myorg.status", "myorg.seen_by"])}
      <tbody>${incs.length ? incs.map(incRow) : html`<tr><td colspan="4" class="muted">${t("common.none")}</td></tr>`}</tbody></table>`);
}

registerScreen({ id: "my-org", navKey: "nav.my_org", perm: "owners:self", mount });
