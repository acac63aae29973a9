// The live stream of incident changes (SSE). Reconnects with backoff and asks the screens
// to resync after a gap, so a lost connection never needs a page reload.
import { session } from "./api.js";

const listeners = new Set();
let es = null;
let backoff = 1000;
let dot = null;

export function onLive(fn) { listeners.add(fn); return () => listeners.delete(fn); }

function emit(kind, data) { for (const fn of listeners) { try { fn(kind, data); } catch (e) { console.error(e); } } }

function mark(state) {
  dot = dot || document.getElementById("live");
  if (dot) { dot.className = `live ${state}`; dot.dataset.state = state; }
}

export function connectLive() {
  const s = session.get();
  if (!s || !s.permissions.includes("incidents:read")) { mark(""); return; }
  if (es) es.close();
  es = new EventSource(`/api/incidents-stream?access_token=${encodeURIComponent(s.access_token)}`);
  let opened = false;
  es.onopen = () => {
    mark("on");
    if (opened || backoff > 1000) emit("resync", null);
    opened = true;
    backoff = 1000;
  };
  es.addEventListener("incident", (ev) => emit("incident", JSON.parse(ev.data)));
  es.addEventListener("device_alert", (ev) => emit("device_alert", JSON.parse(ev.data)));
  es.onerror = () => {
    mark("off");
    es.close();
    es = null;
    if (!session.get()) return;
    setTimeout(connectLive, backoff);
    backoff = Math.min(backoff * 2, 15000);
  };
}

export function disconnectLive() { if (es) es.close(); es = null; mark(""); }
