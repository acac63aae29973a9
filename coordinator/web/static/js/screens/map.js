// @ts-check
// The live city map on <canvas>, drawn from GeoJSON with no tile server.
// Two layers: the static one (zones, cameras aggregated per grid cell so 24,000 cameras
// cost one pass and a few thousand squares) is redrawn only on resize or fleet refresh;
// the dynamic one (units, incidents) is redrawn alone on each live update.
import { dispatchListUnits, geographyGetZones, listIncidents, mapCameras } from "../api_client.js";
import { session } from "../http.js";
import { html, render } from "../html.js";
import { fmtNumber, label, t } from "../i18n.js";
import { onLive } from "../live.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").Incident} Incident */

const CELL = 12;
const HEALTH_RANK = { offline: 3, stale: 2, unknown: 1, revoked: 1, online: 0 };
const HEALTH_COLOR = ["#2ea043", "#6e7b87", "#d29922", "#f85149"];
const UNIT_COLOR = {
  available: "#2ea043", dispatched: "#d29922", en_route: "#ff9f43", on_scene: "#58a6ff", busy: "#9aa7b3", off_duty: "#555",
};
const PRI_COLOR = { 1: "#ff4d4f", 2: "#ff9f43", 3: "#f7d154", 4: "#6cc5ff", 5: "#9aa7b3" };

/** @type {any} the mounted map's canvases, data and timers */
let state = null;

// One compact, columnar answer for every camera (id, lat, lon, health) instead of pages
// of full device records: ~10x fewer bytes for 24,000 cameras.
export async function fetchAllDevices() {
  const c = await mapCameras();
  if (!c || !Array.isArray(c.id)) throw new Error(t("map.bad_data"));
  const out = new Array(c.id.length);
  for (let i = 0; i < c.id.length; i++) out[i] = { id: c.id[i], lat: c.lat[i], lon: c.lon[i], health_status: c.status[i] };
  return out;
}

function bounds(zones, devices) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const add = (lon, lat) => {
    minX = Math.min(minX, lon); maxX = Math.max(maxX, lon); minY = Math.min(minY, lat); maxY = Math.max(maxY, lat);
  };
  for (const f of zones?.features || []) for (const ring of rings(f.geometry)) for (const [x, y] of ring) add(x, y);
  if (!isFinite(minX)) for (const d of devices) if (d.lat != null) add(d.lon, d.lat);
  if (!isFinite(minX)) { minX = 120.0; maxX = 120.15; minY = 29.25; maxY = 29.35; }
  return { minX, minY, maxX, maxY };
}

function rings(g) {
  if (!g) return [];
  if (g.type === "Polygon") return g.coordinates;
  if (g.type === "MultiPolygon") return g.coordinates.flat();
  return [];
}

function projector(b, w, h) {
  const lat0 = ((b.minY + b.maxY) / 2) * Math.PI / 180;
  const sx = Math.cos(lat0);
  const spanX = (b.maxX - b.minX) * sx || 1e-6, spanY = b.maxY - b.minY || 1e-6;
  const scale = Math.min((w - 20) / spanX, (h - 20) / spanY);
  const ox = (w - spanX * scale) / 2, oy = (h - spanY * scale) / 2;
  return (lon, lat) => [ox + (lon - b.minX) * sx * scale, h - (oy + (lat - b.minY) * scale)];
}

function sizeCanvas(c) {
  const r = c.getBoundingClientRect();
  const dpr = devicePixelRatio || 1;
  c.width = Math.max(1, Math.round(r.width * dpr));
  c.height = Math.max(1, Math.round(r.height * dpr));
  const ctx = c.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return [ctx, r.width, r.height];
}

function drawStatic() {
  const [ctx, w, h] = sizeCanvas(state.base);
  const P = (state.project = projector(state.bounds, w, h));
  ctx.clearRect(0, 0, w, h);
  for (const f of state.zones?.features || []) {
    const centre = f.properties?.kind === "centre";
    ctx.strokeStyle = centre ? "#58a6ff" : "#3d4f61";
    ctx.fillStyle = centre ? "rgba(88,166,255,0.04)" : "rgba(120,140,160,0.06)";
    ctx.lineWidth = centre ? 2 : 1;
    for (const ring of rings(f.geometry)) {
      ctx.beginPath();
      ring.forEach(([x, y], i) => { const [px, py] = P(x, y); i ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
      ctx.closePath(); ctx.fill(); ctx.stroke();
    }
  }
  // Aggregate cameras per CELL×CELL pixel square: count and worst health.
  const cells = new Map();
  for (const d of state.devices) {
    if (d.lat == null || d.lon == null) continue;
    const [px, py] = P(d.lon, d.lat);
    const key = `${Math.floor(px / CELL)},${Math.floor(py / CELL)}`;
    const rank = HEALTH_RANK[d.health_status] ?? 1;
    const c = cells.get(key);
    if (c) { c.n++; if (rank > c.r) c.r = rank; } else cells.set(key, { n: 1, r: rank, key });
  }
  for (const c of cells.values()) {
    const [cx, cy] = c.key.split(",").map(Number);
    const s = c.n > 1 ? Math.min(CELL - 2, 3 + Math.log2(c.n) * 1.6) : 3;
    ctx.fillStyle = HEALTH_COLOR[c.r];
    ctx.fillRect(cx * CELL + (CELL - s) / 2, cy * CELL + (CELL - s) / 2, s, s);
  }
  state.cellCount = cells.size;
}

function drawDynamic() {
  const [ctx, w, h] = sizeCanvas(state.top);
  const P = state.project;
  ctx.clearRect(0, 0, w, h);
  for (const u of state.units) {
    if (u.lat == null) continue;
    const [x, y] = P(u.lon, u.lat);
    ctx.fillStyle = UNIT_COLOR[u.status] || "#aaa";
    ctx.beginPath(); ctx.moveTo(x, y - 6); ctx.lineTo(x + 5, y + 4); ctx.lineTo(x - 5, y + 4); ctx.closePath(); ctx.fill();
  }
  for (const i of state.incidents.values()) {
    if (i.lat == null || ["dismissed", "resolved"].includes(i.status)) continue;
    const [x, y] = P(i.lon, i.lat);
    ctx.strokeStyle = PRI_COLOR[i.priority] || "#fff";
    ctx.lineWidth = 3;
    ctx.beginPath(); ctx.arc(x, y, 8, 0, Math.PI * 2); ctx.stroke();
  }
}

/** @param {string} key @param {number} n @param {string} [cls] @param {string} [testid] */
const card = (key, n, cls = "", testid = "") =>
  html`<div class="card"><span class="muted">${t(key)}</span>
    <b class="${cls}" data-testid="${testid}" data-n="${n}">${fmtNumber(n)}</b></div>`;

/** @param {Incident} i one open incident */
const urgentRow = (i) =>
  html`<tr><td><span class="pill pri-${i.priority}">${t("incidents.priority", { p: i.priority })}</span></td>
    <td>${label("incidents.kind.", i.kind)}</td><td>${i.zone || ""}</td>
    <td class="st-${i.status}">${label("incidents.status.", i.status)}</td></tr>`;

function summary() {
  /** @type {Object<string, number>} */
  const counts = { online: 0, offline: 0, stale: 0, unknown: 0 };
  for (const d of state.devices) counts[d.health_status] = (counts[d.health_status] || 0) + 1;
  const open = [...state.incidents.values()].filter((i) => !["dismissed", "resolved"].includes(i.status));
  render(state.side, html`
    <div class="cards">
      ${card("map.cameras", state.devices.length, "", "camera-count")}
      ${card("map.offline", counts.offline, "st-offline")}
      ${card("map.stale", counts.stale, "st-stale")}
      ${card("map.open_incidents", open.length)}
      ${card("map.units", state.units.length)}
    </div>
    <h2>${t("map.most_urgent")}</h2>
    <table><tbody>${open.slice(0, 12).map(urgentRow)}</tbody></table>`);
}

async function refreshUnits() {
  if (!session.can("units:read")) return;
  try { state.units = await dispatchListUnits(); drawDynamic(); summary(); } catch { /* shown on next full load */ }
}

// After a gap in the live stream: the incidents as they are now.
async function resync() {
  const rows = await listIncidents({ limit: 500 });
  state.incidents = new Map(rows.map((i) => [i.id, i]));
  drawDynamic();
  summary();
}

function legend() {
  return html`<div class="legend">${t("map.legend.cameras")} <span class="st-online">■ ${t("fleet.state.online")}</span>
    <span class="st-stale">■ ${t("fleet.state.stale")}</span> <span class="st-offline">■ ${t("fleet.state.offline")}</span>
    · ${t("map.legend.units")} · ${t("map.legend.incidents")}</div>`;
}

/** @param {HTMLElement} view */
async function mount(view) {
  render(view, html`<div class="grid"><div class="map-wrap" id="map-wrap">
      <canvas id="map-base"></canvas><canvas id="map-top"></canvas>${legend()}
    </div><div id="map-side"></div></div>`);
  const t0 = performance.now();
  state = { base: view.querySelector("#map-base"), top: view.querySelector("#map-top"), side: view.querySelector("#map-side"),
    devices: [], units: [], incidents: new Map(), zones: null, timers: [], off: null };
  const [zones, devices, units, incidents] = await Promise.all([
    session.can("units:read") ? geographyGetZones().catch(() => null) : null,
    fetchAllDevices(),
    session.can("units:read") ? dispatchListUnits().catch(() => []) : [],
    session.can("incidents:read") ? listIncidents({ limit: 500 }).catch(() => []) : [],
  ]);
  Object.assign(state, { zones, devices, units, bounds: bounds(zones, devices) });
  for (const i of incidents) state.incidents.set(i.id, i);
  drawStatic(); drawDynamic(); summary();
  const wrap = /** @type {HTMLElement} */ (view.querySelector("#map-wrap"));
  wrap.dataset.rendered = String(Math.round(performance.now() - t0));
  wrap.dataset.cells = String(state.cellCount);
  const onResize = () => { drawStatic(); drawDynamic(); };
  addEventListener("resize", onResize);
  state.off = [
    onLive((kind, data) => {
      if (kind === "incident" && data?.incident?.id) { state.incidents.set(data.incident.id, data.incident); drawDynamic(); summary(); }
      if (kind === "resync") resync().catch(() => {});
    }),
    () => removeEventListener("resize", onResize),
  ];
  state.timers.push(setInterval(refreshUnits, 5000));
}

function unmount() {
  if (!state) return;
  state.timers.forEach(clearInterval);
  (state.off || []).forEach((f) => f());
  state = null;
}

registerScreen({ id: "map", navKey: "nav.map", perm: "devices:read", mount, unmount });
