// @ts-check
// The live city map: roads with street names, zones and centres with labels, 24,000
// cameras, units and incidents (priority and age); pan, zoom, layers, click for details.
import { dispatchListUnits, listIncidents } from "../api_client.js";
import { fmtTime, session } from "../http.js";
import { html, render } from "../html.js";
import { t } from "../i18n.js";
import { onLive } from "../live.js";
import { CityMap, LAYERS, ageText, incidentAge } from "../map/citymap.js";
import { loadCity } from "../map/data.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").Incident} Incident */
/** @typedef {import("../api_client.js").Unit} Unit */
/** @typedef {{ id: string, lat: number, lon: number, health_status: string }} CameraDot */
/** @typedef {{ kind: "incident", item: Incident } | { kind: "unit", item: Unit } | { kind: "camera", item: CameraDot }} Selection */
/**
 * @typedef {Object} MapState the mounted map, its side panel, timers and selection
 * @property {CityMap} map
 * @property {HTMLElement} side
 * @property {ReturnType<typeof setInterval>[]} timers
 * @property {(() => void)[]} off
 * @property {Selection | null} selected
 */

/** @type {MapState | null} */
let state = null;

/** @param {string} key @param {number} n @param {string} [cls] @param {string} [testid] */
const card = (key, n, cls = "", testid = "") =>
  html`<div class="card"><span class="muted">${t(key)}</span><b class="${cls}" data-testid="${testid}">${n}</b></div>`;

/** @param {Incident} i one open incident */
const urgentRow = (i) =>
  html`<tr data-inc="${i.id}" class="clickable"><td><span class="pill pri-${i.priority}">${t("incidents.priority", { p: i.priority })}</span></td>
    <td>${i.kind}</td><td>${i.zone || ""}</td><td>${ageText(incidentAge(i))}</td><td class="st-${i.status}">${i.status}</td></tr>`;

/** @param {Selection} sel @returns {string[][]} label key, value */
function facts(sel) {
  if (sel.kind === "incident") {
    const it = sel.item;
    return [["map.sel.kind", it.kind], ["map.sel.priority", t("incidents.priority", { p: it.priority })], ["map.sel.status", it.status],
      ["map.sel.zone", it.zone || ""], ["map.sel.age", ageText(incidentAge(it))], ["map.sel.cameras", (it.devices || []).join(", ")]];
  }
  if (sel.kind === "unit") {
    const it = sel.item;
    return [["map.sel.call_sign", it.call_sign], ["map.sel.status", it.status], ["map.sel.mode", it.mode],
      ["map.sel.zone", it.home_zone || ""], ["map.sel.position", fmtTime(it.pos_ms)]];
  }
  return [["map.sel.camera", sel.item.id], ["map.sel.health", t(`fleet.state.${sel.item.health_status || "unknown"}`)]];
}

/** @param {Selection | null} sel what was clicked */
function selection(sel) {
  if (!sel) return html``;
  const rows = facts(sel);
  const link = sel.kind === "incident" ? html`<a href="#/incidents">${t("map.sel.open_queue")}</a>` : "";
  return html`<div class="selection" data-testid="selection" data-kind="${sel.kind}"><h2>${t(`map.sel.${sel.kind}`)}</h2>
    <table>${rows.map(([k, v]) => html`<tr><th>${t(k)}</th><td>${v}</td></tr>`)}</table>${link}</div>`;
}

function summary() {
  if (!state) return;
  const m = state.map;
  /** @type {Object<string, number>} */
  const counts = { online: 0, offline: 0, stale: 0, unknown: 0 };
  for (const d of m.devices) counts[d.health_status] = (counts[d.health_status] || 0) + 1;
  const open = [...m.incidents.values()].filter((i) => !["dismissed", "resolved", "merged"].includes(i.status));
  open.sort((a, b) => a.priority - b.priority || incidentAge(b) - incidentAge(a));
  render(state.side, html`${selection(state.selected)}
    <div class="cards">
      ${card("map.cameras", m.devices.length, "", "camera-count")}
      ${card("map.offline", counts.offline, "st-offline")}
      ${card("map.stale", counts.stale, "st-stale")}
      ${card("map.open_incidents", open.length)}
      ${card("map.units", m.units.length)}
    </div>
    <h2>${t("map.most_urgent")}</h2>
    <table><tbody>${open.slice(0, 12).map(urgentRow)}</tbody></table>`);
}

async function refreshUnits() {
  if (!session.can("units:read")) return;
  const map = state?.map;
  if (!map) return;
  try { map.units = await dispatchListUnits(); map.drawDynamic(); summary(); } catch { /* next refresh */ }
}

// After a gap in the live stream: the incidents as they are now.
async function resync() {
  const rows = await listIncidents({ limit: 500 });
  if (!state) return;
  state.map.incidents = new Map(rows.map((i) => [i.id, i]));
  state.map.drawDynamic();
  summary();
}

function controls() {
  return html`<div class="map-tools" data-testid="map-tools">
    <button data-zoom="in" title="${t("map.zoom_in")}">+</button><button data-zoom="out" title="${t("map.zoom_out")}">−</button>
    <button data-zoom="reset">${t("map.zoom_reset")}</button>
    ${LAYERS.map((l) => html`<label class="layer"><input type="checkbox" data-layer="${l}" checked> ${t(`map.layer.${l}`)}</label>`)}
  </div>`;
}

function legend() {
  return html`<div class="legend">${t("map.legend.cameras")} <span class="st-online">■ ${t("fleet.state.online")}</span>
    <span class="st-stale">■ ${t("fleet.state.stale")}</span> <span class="st-offline">■ ${t("fleet.state.offline")}</span>
    · ${t("map.legend.units")} · ${t("map.legend.incidents")}</div>`;
}

/** @param {HTMLElement} view @param {Event} ev */
function onTool(view, ev) {
  const el = /** @type {HTMLInputElement} */ (ev.target);
  if (!state) return;
  const m = state.map;
  if (el.dataset.layer) { m.layers[el.dataset.layer] = el.checked; m.redraw(); return; }
  const z = el.dataset.zoom;
  if (z === "in" || z === "out") m.zoomAt(m.w / 2, m.h / 2, z === "in" ? 1.5 : 1 / 1.5);
  else if (z === "reset") m.reset();
  const wrap = /** @type {HTMLElement} */ (view.querySelector("#map-wrap"));
  wrap.dataset.zoom = String(m.view.k);
}

/** @param {HTMLElement} view */
async function mount(view) {
  render(view, html`${controls()}<div class="grid"><div class="map-wrap" id="map-wrap">
      <canvas id="map-base"></canvas><canvas id="map-top"></canvas>${legend()}
    </div><div id="map-side"></div></div>`);
  const t0 = performance.now();
  const map = new CityMap(/** @type {HTMLCanvasElement} */ (view.querySelector("#map-base")),
    /** @type {HTMLCanvasElement} */ (view.querySelector("#map-top")));
  /** @type {MapState} */
  const st = { map, side: /** @type {HTMLElement} */ (view.querySelector("#map-side")), timers: [], off: [], selected: null };
  state = st;
  const data = await loadCity();
  Object.assign(map, { zones: data.zones, roads: data.roads, devices: data.devices, units: data.units });
  for (const i of data.incidents) map.incidents.set(i.id, i);
  map.layout(); map.redraw(); summary();
  const wrap = /** @type {HTMLElement} */ (view.querySelector("#map-wrap"));
  wrap.dataset.rendered = String(Math.round(performance.now() - t0));
  wrap.dataset.cells = String(map.cellCount);
  wrap.dataset.roads = String(map.roads.length);
  const onResize = () => { map.layout(); map.redraw(); };
  addEventListener("resize", onResize);
  const tools = /** @type {HTMLElement} */ (view.querySelector("[data-testid=map-tools]"));
  tools.addEventListener("click", (ev) => onTool(view, ev));
  tools.addEventListener("change", (ev) => onTool(view, ev));
  st.side.addEventListener("click", (/** @type {Event} */ ev) => {
    const row = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (ev.target).closest("tr[data-inc]"));
    const inc = row && map.incidents.get(row.dataset.inc || "");
    if (!inc) return;
    map.centerOn(inc.lon, inc.lat, Math.max(4, map.view.k));
    wrap.dataset.zoom = String(map.view.k);
    st.selected = { kind: "incident", item: inc };
    summary();
  });
  st.off = [
    map.interact((hit) => { st.selected = /** @type {Selection | null} */ (hit); summary(); }),
    onLive((kind, data) => {
      if (kind === "incident" && data?.incident?.id) { map.incidents.set(data.incident.id, data.incident); map.drawDynamic(); summary(); }
      if (kind === "resync") resync().catch(() => {});
    }),
    () => removeEventListener("resize", onResize),
  ];
  st.timers.push(setInterval(refreshUnits, 5000));
}

function unmount() {
  if (!state) return;
  state.timers.forEach(clearInterval);
  state.off.forEach((f) => f());
  state = null;
}

registerScreen({ id: "map", navKey: "nav.map", perm: "devices:read", mount, unmount });
