// @ts-check
// The live stream of incident changes (SSE). Reconnects with backoff and asks the screens
// to resync after a gap, so a lost connection never needs a page reload.
import { incidentStreamUrl, incidentsStreamTicket } from "./api_client.js";
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

// A token never goes into the stream's URL (URLs end up in logs): each connection first
// asks, with the Authorization header, for a single-use ticket that opens the stream once.
let generation = 0; // a newer connect or a disconnect makes an older attempt give up

function retry() {
  if (!session.get()) return;
  setTimeout(connectLive, backoff);
  backoff = Math.min(backoff * 2, 15000);
}

export async function connectLive() {
  const s = session.get();
  if (!s || !s.permissions.includes("incidents:read")) { mark(""); return; }
  if (es) es.close();
  es = null;
  const mine = ++generation;
  let ticket;
  try {
    ticket = (await incidentsStreamTicket()).ticket;
  } catch {
    if (mine === generation) { mark("off"); retry(); }
    return;
  }
  if (mine !== generation) return;
  const source = new EventSource(incidentStreamUrl({ ticket }));
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
    // The ticket is used up: reconnecting (EventSource's own way) would be refused.
    mark("off");
    source.close();
    if (es === source) es = null;
    if (mine === generation) retry();
  };
}

export function disconnectLive() { generation++; if (es) es.close(); es = null; mark(""); }
