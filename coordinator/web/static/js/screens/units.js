// Unit status board and dispatch KPIs (detection→dispatch, dispatch→ack, dispatch→on scene).
import { api, esc, session } from "../api.js";

let timer = null;

function bars(rows, key) {
  const max = Math.max(1, ...rows.map((r) => r[key] || 0));
  return rows.map((r) => `<tr><td>${esc(r.label)}</td><td style="width:60%"><div class="bar" style="width:${(100 * (r[key] || 0)) / max}%"></div></td><td>${r[key] == null ? "–" : Math.round(r[key]) + " s"}</td></tr>`).join("");
}

async function load(view) {
  const units = await api("/api/dispatch/units");
  view.querySelector("#units-body").innerHTML = `<table><thead><tr><th>unit</th><th>call sign</th><th>mode</th><th>zone</th><th>status</th><th>position age</th></tr></thead><tbody>
    ${units.map((u) => `<tr data-unit="${esc(u.id)}"><td>${esc(u.id)}</td><td>${esc(u.call_sign)}</td><td>${esc(u.mode)}</td><td>${esc(u.home_zone || "")}</td><td class="st-${esc(u.status)}" data-testid="unit-status">${esc(u.status)}</td><td>${u.position_age_s == null ? "no position" : Math.round(u.position_age_s) + " s"}${u.stale ? ' <span class="pill">stale</span>' : ""}</td></tr>`).join("")}</tbody></table>`;
  await falseAlarms(view);
  if (!session.can("kpi:read")) return;
  const k = await api("/api/dispatch/kpis?group_by=zone").catch(() => null);
  if (!Array.isArray(k)) return;
  const rows = k.map((g) => ({
    label: g.zone || "(all)",
    d2d: g.detection_to_dispatch?.p90_s,
    d2a: g.dispatch_to_ack?.p90_s,
    d2s: g.dispatch_to_on_scene?.p90_s,
  }));
  view.querySelector("#kpi-body").innerHTML = rows.length ? `
    <h2>detection → dispatch (p90)</h2><table>${bars(rows, "d2d")}</table>
    <h2>dispatch → acknowledged (p90)</h2><table>${bars(rows, "d2a")}</table>
    <h2>dispatch → on scene (p90)</h2><table>${bars(rows, "d2s")}</table>` : `<p class="muted">No dispatches yet.</p>`;
}

// False-alarm rate per camera and rule (last week): the ten noisiest, worst first.
async function falseAlarms(view) {
  const box = view.querySelector("#fa-body");
  if (!session.can("incidents:read")) { box.innerHTML = ""; return; }
  const r = await api("/api/tuning/rates").catch((e) => ({ error: e.message }));
  if (!Array.isArray(r)) { box.innerHTML = `<p class="error">false-alarm rates not available: ${esc(r.error || "unexpected data")}</p>`; return; }
  const top = r.filter((x) => x.total > 0).sort((a, b) => b.rate - a.rate).slice(0, 10);
  box.innerHTML = top.length ? `<table data-testid="false-alarms">${top.map((x) => `<tr><td>${esc(x.device_id)} · ${esc(x.rule)}</td><td style="width:60%"><div class="bar" style="width:${100 * x.rate}%"></div></td><td>${Math.round(100 * x.rate)} % of ${esc(x.total)}</td></tr>`).join("")}</table>` : `<p class="muted">No incidents this week.</p>`;
}

export async function mount(view) {
  view.innerHTML = `<h1>Units</h1><div id="units-body"></div><h1>KPIs</h1><div id="kpi-body"></div><h2>false-alarm rate per camera (last week)</h2><div id="fa-body"></div>`;
  await load(view);
  timer = setInterval(() => load(view).catch(() => {}), 3000);
}

export function unmount() { clearInterval(timer); timer = null; }
