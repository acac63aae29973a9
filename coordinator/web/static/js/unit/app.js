// @ts-check
// The patrol unit's phone page: its orders with where to go, accept/decline with a
// reason, en route / on scene / clear, its own status, and its position from the phone.
import { authLogin, authLogout, patrolUnitAck, patrolUnitMe, patrolUnitPosition, patrolUnitSetStatus } from "../api_client.js";
import { ApiError, session, setUnauthorizedHandler } from "../http.js";
import { html, render } from "../html.js";
import { t } from "../i18n.js";

/** @typedef {import("../api_client.js").UnitSelf} UnitSelf */
/** @typedef {import("../api_client.js").UnitOrder} UnitOrder */

/** @param {string} id @returns {HTMLElement} */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @type {ReturnType<typeof setInterval> | null} */
let poll = null;
/** @type {number | null} */
let watch = null;
/** @type {{ lat: number, lon: number, accuracy: number, sent: number } | null} */
let here = null;
/** Orders whose decline form is open (kept across refreshes). @type {Set<string>} */
const declining = new Set();
/** @type {UnitSelf | null} */
let last = null;

const NEXT = /** @type {Object<string, [string, string][]>} */ ({
  offered: [["accepted", "unit.accept"]],
  accepted: [["en_route", "unit.en_route"]],
  en_route: [["on_scene", "unit.on_scene"]],
  on_scene: [["cleared", "unit.clear"]],
});

/** Metres and compass bearing between two points. @param {number} lat1 @param {number} lon1 @param {number} lat2 @param {number} lon2 */
export function distanceBearing(lat1, lon1, lat2, lon2) {
  const r = Math.PI / 180;
  const dLat = (lat2 - lat1) * r, dLon = (lon2 - lon1) * r;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(dLon / 2) ** 2;
  const m = 2 * 6371000 * Math.asin(Math.sqrt(a));
  const y = Math.sin(dLon) * Math.cos(lat2 * r);
  const x = Math.cos(lat1 * r) * Math.sin(lat2 * r) - Math.sin(lat1 * r) * Math.cos(lat2 * r) * Math.cos(dLon);
  const deg = (Math.atan2(y, x) / r + 360) % 360;
  return { m, compass: ["N", "NE", "E", "SE", "S", "SW", "W", "NW"][Math.round(deg / 45) % 8] };
}

/** @param {UnitOrder} o */
function whereTo(o) {
  const min = Math.max(1, Math.round((o.eta_s || 0) / 60));
  const road = o.distance_m == null ? "" : t("unit.by_road", { km: (o.distance_m / 1000).toFixed(1), min });
  if (!here || o.lat == null || o.lon == null) return html`<p class="facts">${road}</p>`;
  const d = distanceBearing(here.lat, here.lon, o.lat, o.lon);
  const go = t("unit.direction", { km: (d.m / 1000).toFixed(2), dir: t(`unit.compass.${d.compass}`) });
  return html`<p class="go" data-testid="direction">${go}</p><p class="facts">${road}</p>`;
}

/** @param {UnitOrder} o */
function orderCard(o) {
  const steps = (NEXT[o.status] || []).map(([st, key]) =>
    html`<button class="primary" data-ack="${st}" data-order="${o.id}">${t(key)}</button>`);
  const decline = o.status === "offered"
    ? (declining.has(o.id)
      ? html`<form data-decline="${o.id}"><textarea name="note" required minlength="3" placeholder="${t("unit.decline_reason")}"></textarea>
        <div class="unit-buttons"><button type="submit">${t("unit.decline_send")}</button>
        <button type="button" data-cancel="${o.id}">${t("unit.cancel")}</button></div></form>`
      : html`<button data-open-decline="${o.id}">${t("unit.decline")}</button>`)
    : "";
  const place = o.address || t("unit.zone", { zone: o.zone || "?" });
  return html`<article class="order" data-order-card="${o.id}" data-status="${o.status}">
    <h2><span class="pill pri-${o.priority || 3}">${t("units.priority", { p: o.priority || 3 })}</span> ${o.kind || ""}</h2>
    <p class="facts">${place} · <span data-testid="order-status">${t(`unit.status.${o.status}`)}</span></p>
    ${whereTo(o)}
    <div class="unit-buttons">${steps}${decline}</div></article>`;
}

function draw() {
  if (!last) return;
  const u = last.unit;
  $("me").textContent = t("unit.me", { call: u.call_sign, status: t(`unit.status.${u.status}`) });
  render($("orders"), last.orders.length ? html`${last.orders.map(orderCard)}`
    : html`<p class="muted" data-testid="no-orders">${t("unit.no_orders")}</p>`);
  const mine = ["available", "busy", "off_duty"].map((st) =>
    html`<button data-status="${st}" class="${u.status === st ? "primary" : ""}">${t(`unit.status.${st}`)}</button>`);
  render($("status"), html`${mine}`);
  const loc = here
    ? t("unit.location_sent", { acc: Math.round(here.accuracy), s: Math.round((Date.now() - here.sent) / 1000) })
    : t("unit.location_off");
  const toggle = t(watch == null ? "unit.share" : "unit.stop_share");
  render($("location"), html`<p class="facts" data-testid="location">${loc}</p>
    <div class="unit-buttons"><button data-share="${watch == null ? "on" : "off"}">${toggle}</button></div>`);
}

/** @param {string} [message] */
function note(message) {
  render($("note"), message ? html`<p class="error" data-testid="unit-error">${message}</p>` : html``);
}

async function refresh() {
  try { last = await patrolUnitMe(); draw(); } catch (e) { note(e.message); }
}

/** @param {() => Promise<UnitSelf>} fn */
async function act(fn) {
  try { last = await fn(); note(); draw(); } catch (e) { note(e.message); }
}

/** @param {GeolocationPosition} p */
async function sendPosition(p) {
  const { latitude: lat, longitude: lon, accuracy } = p.coords;
  if (here && Date.now() - here.sent < 5000) return; // at most one report every 5 s
  try {
    await patrolUnitPosition({ lat, lon, accuracy_m: Math.min(accuracy, 100000) });
    here = { lat, lon, accuracy, sent: Date.now() };
    draw();
  } catch (e) { note(e.message); }
}

function share() {
  if (!("geolocation" in navigator)) { note(t("unit.no_geolocation")); return; }
  if (!isSecureContext) { note(t("unit.needs_https")); return; }
  watch = navigator.geolocation.watchPosition((p) => { sendPosition(p); },
    (err) => note(t("unit.location_error", { error: err.message })), { enableHighAccuracy: true, maximumAge: 5000 });
  draw();
}

/** @param {Event} ev */
function onClick(ev) {
  const el = /** @type {HTMLElement} */ (ev.target);
  const b = /** @type {HTMLElement | null} */ (el.closest("button"));
  if (!b) return;
  const d = b.dataset;
  if (d.ack && d.order) act(() => patrolUnitAck(d.order || "", { status: /** @type {any} */ (d.ack) }));
  else if (d.openDecline) { declining.add(d.openDecline); draw(); }
  else if (d.cancel) { declining.delete(d.cancel); draw(); }
  else if (d.status) act(() => patrolUnitSetStatus({ status: /** @type {any} */ (d.status) }));
  else if (d.share === "on") share();
  else if (d.share === "off" && watch != null) { navigator.geolocation.clearWatch(watch); watch = null; draw(); }
}

/** @param {Event} ev */
function onSubmit(ev) {
  const form = /** @type {HTMLFormElement} */ (ev.target);
  const id = form.dataset.decline;
  if (!id) return;
  ev.preventDefault();
  const reason = String(new FormData(form).get("note") || "");
  declining.delete(id);
  act(() => patrolUnitAck(id, { status: "declined", note: reason }));
}

/** @param {string} [message] */
function showLogin(message) {
  if (poll) clearInterval(poll);
  poll = null;
  session.clear();
  $("login").hidden = false;
  $("app").hidden = true;
  $("logout").hidden = true;
  $("me").textContent = "";
  if (message) $("login-error").textContent = message;
}

function start() {
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  refresh();
  poll = setInterval(refresh, 3000);
}

/** @param {SubmitEvent} ev */
async function login(ev) {
  ev.preventDefault();
  const f = new FormData(/** @type {HTMLFormElement} */ (ev.target));
  $("login-error").textContent = "";
  try {
    const tok = await authLogin({ username: String(f.get("username")), password: String(f.get("password")) });
    if (!tok.permissions.includes("units:self")) { showLogin(t("unit.not_a_unit")); return; }
    session.set(tok);
    start();
  } catch (e) {
    $("login-error").textContent = e instanceof ApiError ? e.message : String(e);
  }
}

for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(/** @type {HTMLElement} */ (el).dataset.i18n || "");
document.title = t("unit.title");
setUnauthorizedHandler((m) => showLogin(m));
$("login-form").addEventListener("submit", login);
$("app").addEventListener("click", onClick);
$("app").addEventListener("submit", onSubmit);
$("logout").addEventListener("click", async () => {
  try { await authLogout(); } catch { /* already gone */ }
  showLogin(t("login.signed_out"));
});
const s = session.get();
if (s && s.expires_at * 1000 > Date.now() && s.permissions.includes("units:self")) start(); else showLogin();
