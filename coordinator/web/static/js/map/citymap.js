// @ts-check
// The city map on two <canvas> layers, drawn from GeoJSON with no tile server: roads with
// street names, patrol zones and monitoring centres with labels, cameras (aggregated per
// grid cell, so 24,000 cost one pass), units and incidents (priority colour, age).
// Pan (drag), zoom (wheel, +/−), click for a camera, unit or incident; layers switch on
// and off. The static layer is redrawn on view changes, the dynamic one on live updates.
import { t } from "../i18n.js";

const CELL = 12;
/** @type {Object<string, number>} */
const HEALTH_RANK = { offline: 3, stale: 2, unknown: 1, revoked: 1, online: 0 };
const HEALTH_COLOR = ["#2ea043", "#6e7b87", "#d29922", "#f85149"];
/** @type {Object<string, string>} */
export const UNIT_COLOR = {
  available: "#2ea043", dispatched: "#d29922", en_route: "#ff9f43", on_scene: "#58a6ff", busy: "#9aa7b3", off_duty: "#555",
};
/** @type {Object<number, string>} */
export const PRI_COLOR = { 1: "#ff4d4f", 2: "#ff9f43", 3: "#f7d154", 4: "#6cc5ff", 5: "#9aa7b3" };
/** @type {Object<string, [string, number]>} road class → colour, width */
const ROAD_STYLE = {
  motorway: ["#8a6d3b", 3], trunk: ["#8a6d3b", 3], primary: ["#6b7c8f", 2.5], secondary: ["#56677a", 2], tertiary: ["#4a5a6b", 1.5],
};
export const LAYERS = ["roads", "street_names", "zones", "centres", "cameras", "units", "incidents"];
const CLOSED = ["dismissed", "resolved", "merged"];

/** @param {any} g a GeoJSON geometry @returns {number[][][]} */
export function rings(g) {
  if (!g) return [];
  if (g.type === "Polygon") return g.coordinates;
  if (g.type === "MultiPolygon") return g.coordinates.flat();
  return [];
}

/** Seconds → "45 s", "12 min", "3 h". @param {number} s */
export function ageText(s) {
  if (s < 90) return t("map.age.s", { n: Math.max(0, Math.round(s)) });
  if (s < 5400) return t("map.age.min", { n: Math.round(s / 60) });
  return t("map.age.h", { n: Math.round(s / 3600) });
}

/** @param {any} inc an incident @returns {number} seconds since it was detected */
export function incidentAge(inc) {
  const v = inc.first_ts ?? inc.created_at;
  if (v == null) return 0;
  return (Date.now() - (v > 1e12 ? v : v * 1000)) / 1000;
}

export class CityMap {
  /** @param {HTMLCanvasElement} base @param {HTMLCanvasElement} top @param {{ fontScale?: number }} [opts] */
  constructor(base, top, opts = {}) {
    this.base = base; this.top = top;
    this.fontScale = opts.fontScale || 1;
    /** @type {Object<string, boolean>} */
    this.layers = Object.fromEntries(LAYERS.map((l) => [l, true]));
    this.view = { k: 1, tx: 0, ty: 0 };
    /** @type {any} */ this.zones = null;
    /** @type {any[]} */ this.roads = [];
    /** @type {any[]} */ this.devices = [];
    /** @type {any[]} */ this.units = [];
    /** @type {Map<string, any>} */ this.incidents = new Map();
    this.cellCount = 0;
    this.frameMs = 0;
    /** @type {(lon: number, lat: number) => number[]} */
    this.fit = () => [0, 0];
    /** @type {(x: number, y: number) => number[]} the inverse of fit: [lon, lat] */
    this.unfit = () => [0, 0];
    /** @type {{ lon: number, lat: number } | null} a point picked on the map (drawn as a pin) */
    this.pin = null;
    this.w = 0; this.h = 0;
  }

  /** Fit the whole city in the canvas (zoom 1). */
  bounds() {
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    const add = (/** @type {number} */ x, /** @type {number} */ y) => {
      minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
    };
    for (const f of this.zones?.features || []) for (const ring of rings(f.geometry)) for (const [x, y] of ring) add(x, y);
    if (!isFinite(minX)) for (const d of this.devices) if (d.lat != null) add(d.lon, d.lat);
    if (!isFinite(minX)) { minX = 120.0; maxX = 120.15; minY = 29.25; maxY = 29.35; }
    return { minX, minY, maxX, maxY };
  }

  /** @param {HTMLCanvasElement} c @returns {CanvasRenderingContext2D} */
  size(c) {
    const r = c.getBoundingClientRect();
    const dpr = devicePixelRatio || 1;
    c.width = Math.max(1, Math.round(r.width * dpr));
    c.height = Math.max(1, Math.round(r.height * dpr));
    const ctx = /** @type {CanvasRenderingContext2D} */ (c.getContext("2d"));
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.w = r.width; this.h = r.height;
    return ctx;
  }

  layout() {
    const r = this.base.getBoundingClientRect();
    const b = this.bounds();
    const lat0 = ((b.minY + b.maxY) / 2) * Math.PI / 180;
    const sx = Math.cos(lat0);
    const spanX = (b.maxX - b.minX) * sx || 1e-6, spanY = b.maxY - b.minY || 1e-6;
    const scale = Math.min((r.width - 20) / spanX, (r.height - 20) / spanY);
    const ox = (r.width - spanX * scale) / 2, oy = (r.height - spanY * scale) / 2;
    this.fit = (lon, lat) => [ox + (lon - b.minX) * sx * scale, r.height - (oy + (lat - b.minY) * scale)];
    this.unfit = (x, y) => [b.minX + (x - ox) / (sx * scale), b.minY + (r.height - y - oy) / scale];
  }

  /** The point under a screen position, as [lon, lat]. @param {number} px @param {number} py */
  at(px, py) { return this.unfit((px - this.view.tx) / this.view.k, (py - this.view.ty) / this.view.k); }

  /** The last click's screen position (for picking a point rather than an object). */
  lastClick = [0, 0];

  /** Screen position of a point. @param {number} lon @param {number} lat */
  P(lon, lat) {
    const [x, y] = this.fit(lon, lat);
    return [x * this.view.k + this.view.tx, y * this.view.k + this.view.ty];
  }

  /** @param {number} px @param {number} py @param {number} factor */
  zoomAt(px, py, factor) {
    const k = Math.min(64, Math.max(1, this.view.k * factor));
    const f = k / this.view.k;
    this.view = { k, tx: px - (px - this.view.tx) * f, ty: py - (py - this.view.ty) * f };
    this.redraw();
  }

  /** @param {number} dx @param {number} dy */
  panBy(dx, dy) { this.view = { ...this.view, tx: this.view.tx + dx, ty: this.view.ty + dy }; this.redraw(); }

  reset() { this.view = { k: 1, tx: 0, ty: 0 }; this.redraw(); }

  /** Put a point in the middle of the map at zoom ``k``. @param {number} lon @param {number} lat @param {number} k */
  centerOn(lon, lat, k) {
    const [fx, fy] = this.fit(lon, lat);
    this.view = { k, tx: this.w / 2 - fx * k, ty: this.h / 2 - fy * k };
    this.redraw();
  }

  redraw() {
    const t0 = performance.now();
    this.drawStatic(); this.drawDynamic();
    this.frameMs = performance.now() - t0;
  }

  /** @param {number} px */
  font(px) { return `${Math.round(px * this.fontScale)}px system-ui, "WenQuanYi Micro Hei", sans-serif`; }

  drawStatic() {
    const ctx = this.size(this.base);
    ctx.clearRect(0, 0, this.w, this.h);
    if (this.layers.roads) this.drawRoads(ctx);
    this.drawAreas(ctx);
    if (this.layers.cameras) this.drawCameras(ctx);
    if (this.layers.street_names) this.drawStreetNames(ctx);
    this.drawAreaLabels(ctx);
  }

  /** @param {CanvasRenderingContext2D} ctx */
  drawRoads(ctx) {
    const k = Math.min(3, Math.sqrt(this.view.k));
    for (const r of this.roads) {
      const [color, width] = ROAD_STYLE[r.road_class] || ["#3a4856", 1];
      ctx.strokeStyle = color; ctx.lineWidth = width * k;
      ctx.beginPath();
      r.coords.forEach((/** @type {number[]} */ c, /** @type {number} */ i) => {
        const [x, y] = this.P(c[0], c[1]); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
      });
      ctx.stroke();
    }
  }

  /** @param {CanvasRenderingContext2D} ctx */
  drawAreas(ctx) {
    for (const f of this.zones?.features || []) {
      const centre = f.properties?.kind === "centre";
      if (centre ? !this.layers.centres : !this.layers.zones) continue;
      ctx.strokeStyle = centre ? "#58a6ff" : "#3d4f61";
      ctx.fillStyle = centre ? "rgba(88,166,255,0.04)" : "rgba(120,140,160,0.05)";
      ctx.lineWidth = centre ? 2.5 : 1;
      for (const ring of rings(f.geometry)) {
        ctx.beginPath();
        ring.forEach(([x, y], i) => { const [px, py] = this.P(x, y); i ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
        ctx.closePath(); ctx.fill(); ctx.stroke();
      }
    }
  }

  /** @param {CanvasRenderingContext2D} ctx */
  drawCameras(ctx) {
    /** @type {Map<string, { n: number, r: number, key: string }>} */
    const cells = new Map();
    for (const d of this.devices) {
      if (d.lat == null || d.lon == null) continue;
      const [px, py] = this.P(d.lon, d.lat);
      if (px < -CELL || py < -CELL || px > this.w + CELL || py > this.h + CELL) continue;
      const key = `${Math.floor(px / CELL)},${Math.floor(py / CELL)}`;
      const rank = HEALTH_RANK[d.health_status] ?? 1;
      const c = cells.get(key);
      if (c) { c.n++; if (rank > c.r) c.r = rank; } else cells.set(key, { n: 1, r: rank, key });
    }
    for (const c of cells.values()) {
      const [cx, cy] = c.key.split(",").map(Number);
      const s = c.n > 1 ? Math.min(CELL - 2, 3 + Math.log2(c.n) * 1.6) : 4;
      ctx.fillStyle = HEALTH_COLOR[c.r];
      ctx.fillRect(cx * CELL + (CELL - s) / 2, cy * CELL + (CELL - s) / 2, s, s);
    }
    this.cellCount = cells.size;
  }

  /** Street names along the longest visible stretch of each named road, never overlapping. @param {CanvasRenderingContext2D} ctx */
  drawStreetNames(ctx) {
    ctx.font = this.font(11); ctx.textAlign = "center"; ctx.textBaseline = "middle";
    /** @type {number[][]} */
    const taken = [];
    for (const r of this.roads) {
      if (!r.name) continue;
      const pts = r.coords.map((/** @type {number[]} */ c) => this.P(c[0], c[1]));
      const a = pts[0], b = pts[pts.length - 1];
      const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
      const wText = ctx.measureText(r.name).width;
      if (len < wText + 30) continue;
      const mid = pts[Math.floor(pts.length / 2)];
      const box = [mid[0] - wText / 2 - 4, mid[1] - wText / 2 - 4, mid[0] + wText / 2 + 4, mid[1] + wText / 2 + 4];
      if (mid[0] < 0 || mid[1] < 0 || mid[0] > this.w || mid[1] > this.h) continue;
      if (taken.some((q) => box[0] < q[2] && q[0] < box[2] && box[1] < q[3] && q[1] < box[3])) continue;
      taken.push(box);
      let ang = Math.atan2(b[1] - a[1], b[0] - a[0]);
      if (ang > Math.PI / 2 || ang < -Math.PI / 2) ang += Math.PI;
      ctx.save(); ctx.translate(mid[0], mid[1]); ctx.rotate(ang);
      ctx.lineWidth = 3; ctx.strokeStyle = "#0f1720"; ctx.strokeText(r.name, 0, 0);
      ctx.fillStyle = "#c9d4de"; ctx.fillText(r.name, 0, 0);
      ctx.restore();
    }
  }

  /** Centre names always; zone names where the zone is big enough on screen. @param {CanvasRenderingContext2D} ctx */
  drawAreaLabels(ctx) {
    ctx.textAlign = "center"; ctx.textBaseline = "middle";
    for (const f of this.zones?.features || []) {
      const centre = f.properties?.kind === "centre";
      if (centre ? !this.layers.centres : !this.layers.zones) continue;
      let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
      for (const ring of rings(f.geometry)) for (const [x, y] of ring) {
        const [px, py] = this.P(x, y);
        minX = Math.min(minX, px); maxX = Math.max(maxX, px); minY = Math.min(minY, py); maxY = Math.max(maxY, py);
      }
      const label = f.properties?.name || f.properties?.id || "";
      ctx.font = this.font(centre ? 15 : 11);
      if (!centre && (maxX - minX < ctx.measureText(label).width + 12 || maxY - minY < 30)) continue;
      const x = (minX + maxX) / 2, y = centre ? minY + 14 * this.fontScale : (minY + maxY) / 2;
      ctx.lineWidth = 3; ctx.strokeStyle = "#0f1720"; ctx.strokeText(label, x, y);
      ctx.fillStyle = centre ? "#9cc8ff" : "#8aa0b4"; ctx.fillText(label, x, y);
    }
  }

  drawDynamic() {
    const ctx = this.size(this.top);
    ctx.clearRect(0, 0, this.w, this.h);
    const s = this.fontScale;
    if (this.pin) {
      const [x, y] = this.P(this.pin.lon, this.pin.lat);
      ctx.fillStyle = "#ff4d4f"; ctx.strokeStyle = "#fff"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(x, y, 7 * s, 0, Math.PI * 2); ctx.fill(); ctx.stroke();
    }
    if (this.layers.units) for (const u of this.units) {
      if (u.lat == null) continue;
      const [x, y] = this.P(u.lon, u.lat);
      ctx.fillStyle = UNIT_COLOR[u.status] || "#aaa";
      ctx.beginPath(); ctx.moveTo(x, y - 7 * s); ctx.lineTo(x + 6 * s, y + 5 * s); ctx.lineTo(x - 6 * s, y + 5 * s);
      ctx.closePath(); ctx.fill();
    }
    if (!this.layers.incidents) return;
    ctx.font = this.font(11); ctx.textAlign = "left"; ctx.textBaseline = "middle";
    for (const i of this.incidents.values()) {
      if (i.lat == null || CLOSED.includes(i.status)) continue;
      const [x, y] = this.P(i.lon, i.lat);
      ctx.strokeStyle = PRI_COLOR[i.priority] || "#fff";
      ctx.lineWidth = 3;
      ctx.beginPath(); ctx.arc(x, y, 8 * s, 0, Math.PI * 2); ctx.stroke();
      if (this.layers.street_names || this.fontScale > 1) {
        const label = `${t("incidents.priority", { p: i.priority })} · ${ageText(incidentAge(i))}`;
        ctx.lineWidth = 3; ctx.strokeStyle = "#0f1720"; ctx.strokeText(label, x + 11 * s, y);
        ctx.fillStyle = "#e6edf3"; ctx.fillText(label, x + 11 * s, y);
      }
    }
  }

  /** What is under the pointer: an incident, a unit or a camera (nearest within reach). @param {number} px @param {number} py */
  hit(px, py) {
    /** @type {{ kind: string, item: any, d: number } | null} */
    let best = null;
    /** @param {string} kind @param {any} item @param {number} reach */
    const consider = (kind, item, reach) => {
      if (item.lat == null || item.lon == null) return;
      const [x, y] = this.P(item.lon, item.lat);
      const d = Math.hypot(x - px, y - py);
      if (d <= reach * this.fontScale && (!best || d < best.d)) best = { kind, item, d };
    };
    if (this.layers.incidents) for (const i of this.incidents.values()) if (!CLOSED.includes(i.status)) consider("incident", i, 12);
    if (best) return best;
    if (this.layers.units) for (const u of this.units) consider("unit", u, 10);
    if (best) return best;
    if (this.layers.cameras) for (const d of this.devices) consider("camera", d, 7);
    return best;
  }

  /** Wheel zoom, drag pan, click select. @param {(hit: any) => void} onSelect @returns {() => void} undo */
  interact(onSelect) {
    const el = this.top;
    /** @type {{ x: number, y: number, moved: boolean } | null} */
    let drag = null;
    const xy = (/** @type {MouseEvent} */ e) => { const r = el.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
    const wheel = (/** @type {WheelEvent} */ e) => {
      e.preventDefault();
      const [x, y] = xy(e);
      this.zoomAt(x, y, e.deltaY < 0 ? 1.25 : 0.8);
    };
    const down = (/** @type {PointerEvent} */ e) => { drag = { x: e.clientX, y: e.clientY, moved: false }; };
    const move = (/** @type {PointerEvent} */ e) => {
      if (!drag || !(e.buttons & 1)) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;
      drag = { x: e.clientX, y: e.clientY, moved: true };
      this.panBy(dx, dy);
    };
    const up = (/** @type {PointerEvent} */ e) => {
      const click = drag && !drag.moved;
      drag = null;
      if (click) { const [x, y] = xy(e); this.lastClick = [x, y]; onSelect(this.hit(x, y)); }
    };
    el.addEventListener("wheel", wheel, { passive: false });
    el.addEventListener("pointerdown", down);
    el.addEventListener("pointermove", move);
    el.addEventListener("pointerup", up);
    return () => {
      el.removeEventListener("wheel", wheel); el.removeEventListener("pointerdown", down);
      el.removeEventListener("pointermove", move); el.removeEventListener("pointerup", up);
    };
  }
}
