// Fleet health: cameras by zone and owner, offline/stale alerts, certificate expiry.
import { api, esc, fmtTime } from "../api.js";
import { onLive } from "../live.js";

let off = null;

function groupTable(summary) {
  const rows = Object.entries(summary.groups || {}).map(([k, g]) =>
    `<tr><td>${esc(k)}</td><td class="st-online">${g.online || 0}</td><td class="st-stale">${g.stale || 0}</td><td class="st-offline">${g.offline || 0}</td><td>${g.unknown || 0}</td><td class="st-revoked">${g.revoked || 0}</td><td>${g.cert_expiring || 0}</td></tr>`).join("");
  return `<table><thead><tr><th>${esc(summary.by || "group")}</th><th>online</th><th>stale</th><th>offline</th><th>unknown</th><th>revoked</th><th>cert expiring</th></tr></thead><tbody>${rows}</tbody></table>`;
}

async function load(view) {
  const by = view.querySelector("#fleet-by").value;
  const [summary, alerts, certs, offline] = await Promise.all([
    api(`/api/fleet/summary?by=${by}`),
    api("/api/fleet/alerts?limit=50").catch(() => []),
    api("/api/fleet/cert-expiry").catch(() => []),
    api("/api/devices?status=offline&limit=200").catch(() => []),
  ]);
  const t = summary.total || {};
  view.querySelector("#fleet-body").innerHTML = `
    <div class="cards">${["online", "stale", "offline", "unknown", "revoked", "cert_expiring"].map((k) => `<div class="card"><span class="muted">${k.replace("_", " ")}</span><b class="st-${k}" data-testid="fleet-${k}">${t[k] ?? 0}</b></div>`).join("")}</div>
    ${groupTable(summary)}
    <h2>Offline cameras</h2>
    <table><thead><tr><th>device</th><th>zone</th><th>owner</th><th>last seen</th></tr></thead><tbody>
    ${offline.map((d) => `<tr><td>${esc(d.id)}</td><td>${esc(d.zone)}</td><td>${esc(d.owner_org)} (${esc(d.owner_type)})</td><td>${esc(fmtTime(d.last_seen || d.status_at))}</td></tr>`).join("") || `<tr><td colspan="4" class="muted">none</td></tr>`}</tbody></table>
    <h2>Certificates expiring within the warning window</h2>
    <table><thead><tr><th>device</th><th>zone</th><th>expires</th></tr></thead><tbody>
    ${certs.map((d) => `<tr><td>${esc(d.id)}</td><td>${esc(d.zone)}</td><td class="st-stale">${esc(d.cert_not_after)}</td></tr>`).join("") || `<tr><td colspan="3" class="muted">none</td></tr>`}</tbody></table>
    <h2>Camera alerts</h2>
    <table><tbody>${alerts.map((a) => `<tr><td>${esc(fmtTime(a.ts || a.created_at))}</td><td>${esc(a.device_id)}</td><td>${esc(a.kind)}</td><td>${esc(a.detail || "")}</td></tr>`).join("") || `<tr><td class="muted">none</td></tr>`}</tbody></table>`;
}

export async function mount(view) {
  view.innerHTML = `<h1>Fleet health</h1>
    <label>group by <select id="fleet-by"><option value="zone">zone</option><option value="owner_type">owner type</option><option value="owner_org">owner</option></select></label>
    <div id="fleet-body"></div>`;
  view.querySelector("#fleet-by").addEventListener("change", () => load(view));
  await load(view);
  off = onLive((kind) => { if (kind === "device_alert" || kind === "resync") load(view).catch(() => {}); });
}

export function unmount() { if (off) off(); off = null; }
