// @ts-check
// The live stream of incident changes (SSE). Reconnects with backoff and asks the screens
// to resync after a gap, so a lost connection never needs a page reload.
import { incidentStreamUrl } from "./api_client.js";
import { session } from "./http.js";

/** @typedef {(kind: "incident" | "device_alert" | "resync", data: any) => void} Listener */

/** @type {Set<Listener>} */
const listeners = new Set();
/** @type {EventSource | null} */
let es = null;
let backoff = 1000;

/** Listen to live changes; returns the way to stop listening. @param {Listener} fn */
export function onLive(fn) { listeners.add(fn); return () => { listeners.delete(fn); }; }

/** @param {"incident" | "device_alert" | "resync"} kind @param {any} data */
function emit(kind, data) { for (const fn of listeners) { try { fn(kind, data); } catch (e) { console.error(e); } } }

/** @param {string} state */
function mark(state) {
  const dot = document.getElementById("live");
  if (dot) { dot.className = `live ${state}`; dot.dataset.state = state; }
}

export function connectLive() {
  const s = session.get();
  if (!s || !s.permissions.includes("incidents:read")) { mark(""); return; }
  if (es) es.close();
  const source = new EventSource(incidentStreamUrl({ access_token: s.access_token }));
  es = source;
  let opened = false;
  source.onopen = () => {
    mark("on");
    if (opened || backoff > 1000) emit("resync", null);
    opened = true;
    backoff = 1000;
  };
  source.addEventListener("incident", (ev) => emit("incident", JSON.parse(ev.data)));
  source.addEventListener("device_alert", (ev) => emit("device_alert", JSON.parse(ev.data)));
  source.onerror = () => {
    mark("off");
    source.close();
    es = null;
    if (!session.get()) return;
    setTimeout(connectLive, backoff);
    backoff = Math.min(backoff * 2, 15000);
  };
}

export function disconnectLive() { if (es) es.close(); es = null; mark(""); }
