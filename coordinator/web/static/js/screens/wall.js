// @ts-check
// The video-wall layout: the city map, the open-incident queue with priority and age, and
// the centre's key figures, filling the screen and updating itself (live stream, 5 s
// refresh): nobody needs to touch it. Text scales with the screen (readable at 4K).
import { dispatchGetKpis, dispatchListUnits, dispatchPendingQueue, listIncidents } from "../api_client.js";
import { session } from "../http.js";
import { html, render } from "../html.js";
import { t } from "../i18n.js";
import { onLive } from "../live.js";
import { CityMap, ageText, incidentAge } from "../map/citymap.js";
import { loadCity } from "../map/data.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").Incident} Incident */
/** @typedef {import("../api_client.js").Unit} Unit */
/** @typedef {{ id: string, lat: number, lon: number, health_status: string }} CameraDot */
/** @typedef {{ map: CityMap, side: HTMLElement, timers: ReturnType<typeof setInterval>[], off: (() => void)[] }} WallState */

/** @type {WallState | null} */
let state = null;
const OPEN = (/** @type {Incident} */ i) => !["dismissed", "resolved", "merged"].includes(i.status);

/** @param {string} key @param {number | string} value @param {string} [testid] */
const figure = (key, value, testid = "") =>
  html`<div class="card"><span class="muted">${t(key)}</span><b data-testid="${testid}">${value}</b></div>`;

/** @param {Incident} i an open incident */
const queueRow = (i) => html`<tr>
  <td><span class="pill pri-${i.priority}">${t("incidents.priority", { p: i.priority })}</span></td><td>${i.kind}</td>
  <td>${i.zone || ""}</td><td>${ageText(incidentAge(i))}</td><td class="st-${i.status}">${i.status}</td></tr>`;

async function figures() {
  if (!state) return;
  const m = state.map;
  const open = [...m.incidents.values()].filter(OPEN);
  const top = open.filter((i) => i.priority === 1).length;
  const offline = m.devices.filter((/** @type {CameraDot} */ d) => d.health_status === "offline").length;
  const free = m.units.filter((/** @type {Unit} */ u) => u.status === "available").length;
  const pending = session.can("units:read") ? await dispatchPendingQueue({ limit: 1 }).then((q) => q.total).catch(() => "–") : "–";
  const kpi = session.can("kpi:read") ? await dispatchGetKpis({ group_by: "all" }).catch(() => []) : [];
  const p90 = kpi[0]?.detection_to_dispatch?.p90_s;
  open.sort((a, b) => a.priority - b.priority || incidentAge(b) - incidentAge(a));
  if (!state) return; // left while the figures loaded
  render(state.side, html`<div class="cards">
      ${figure("wall.open", open.length, "wall-open")}${figure("wall.top_priority", top)}
      ${figure("wall.pending", pending)}${figure("wall.d2d_p90", p90 == null ? "–" : ageText(p90))}
      ${figure("wall.units_free", `${free} / ${m.units.length}`)}${figure("wall.cameras_offline", offline)}
    </div>
    <h2>${t("wall.queue")}</h2><table class="wall-queue"><tbody>${open.slice(0, 14).map(queueRow)}</tbody></table>`);
}

async function refresh() {
  if (!state) return;
  const map = state.map;
  if (session.can("units:read")) map.units = await dispatchListUnits().catch(() => map.units);
  map.drawDynamic();
  await figures();
}

/** @param {HTMLElement} view */
async function mount(view) {
  document.body.classList.add("wall-mode");
  render(view, html`<div class="wall" data-testid="wall"><div class="map-wrap" id="wall-map">
      <canvas id="wall-base"></canvas><canvas id="wall-top"></canvas></div><div id="wall-side"></div></div>`);
  const scale = Math.max(1, innerWidth / 1600);
  const map = new CityMap(/** @type {HTMLCanvasElement} */ (view.querySelector("#wall-base")),
    /** @type {HTMLCanvasElement} */ (view.querySelector("#wall-top")), { fontScale: scale });
  state = { map, side: /** @type {HTMLElement} */ (view.querySelector("#wall-side")), timers: [], off: [] };
  const data = await loadCity();
  Object.assign(map, { zones: data.zones, roads: data.roads, devices: data.devices, units: data.units });
  for (const i of data.incidents) map.incidents.set(i.id, i);
  map.layout(); map.redraw();
  await figures();
  const onResize = () => { map.fontScale = Math.max(1, innerWidth / 1600); map.layout(); map.redraw(); };
  addEventListener("resize", onResize);
  state.off = [
    onLive((kind, d) => {
      if (kind === "incident" && d?.incident?.id) { map.incidents.set(d.incident.id, d.incident); map.drawDynamic(); }
      if (kind === "resync") listIncidents({ limit: 500 }).then((rows) => { map.incidents = new Map(rows.map((i) => [i.id, i])); });
    }),
    () => removeEventListener("resize", onResize),
  ];
  state.timers.push(setInterval(() => { refresh().catch(() => {}); }, 5000));
}

function unmount() {
  document.body.classList.remove("wall-mode");
  if (!state) return;
  state.timers.forEach(clearInterval);
  state.off.forEach((f) => f());
  state = null;
}

registerScreen({ id: "wall", navKey: "nav.wall", perm: "incidents:read", mount, unmount });
