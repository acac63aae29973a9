// The incident queue: updated row by row from the live stream; confirm, dismiss, merge,
// split, snapshot request, recommended units with ETAs, one-click dispatch.
import { api, esc, expectArray, fmtTime, session } from "../api.js";
import { onLive } from "../live.js";

let st = null;
const OPEN = ["new", "confirmed", "dispatched", "en_route", "on_scene"];

function row(i) {
  const can = session.can("incidents:act");
  const disp = session.can("dispatch:act");
  const acts = [];
  if (can && i.status === "new") acts.push(`<button data-act="confirm">Confirm</button>`, `<button data-act="dismiss">Dismiss…</button>`);
  if (can && ["confirmed", "new"].includes(i.status)) acts.push(`<button data-act="merge">Merge into…</button>`);
  if (can && (i.event_count || 0) > 1) acts.push(`<button data-act="split">Split…</button>`);
  if (session.can("snapshots:request")) acts.push(`<button data-act="snapshot">Snapshot</button>`);
  if (disp && ["new", "confirmed"].includes(i.status)) acts.push(`<button data-act="recommend">Units…</button>`);
  return `<tr data-id="${esc(i.id)}" data-status="${esc(i.status)}">
    <td><span class="pill pri-${esc(i.priority)}">P${esc(i.priority)}</span></td>
    <td>${esc(i.id)}</td><td>${esc(i.kind)}</td><td>${esc(i.zone || "")}</td>
    <td>${esc((i.device_ids || i.devices || []).join ? (i.device_ids || i.devices || []).join(", ") : "")}</td>
    <td>${i.confidence != null ? Math.round(i.confidence * 100) + "%" : ""}</td>
    <td class="st-${esc(i.status)}" data-testid="status">${esc(i.status)}</td>
    <td>${esc(fmtTime(i.updated_at || i.created_at))}</td>
    <td class="actions">${acts.join("")}<div class="recs">${st.extra.get(i.id) || ""}</div></td></tr>`;
}

// What an action put under a row (recommended units, a snapshot) survives the row being
// redrawn by a live update, so a Dispatch button never vanishes under the operator's click.
function setExtra(id, html) {
  if (html) st.extra.set(id, html); else st.extra.delete(id);
  const box = st.tbody.querySelector(`tr[data-id="${CSS.escape(id)}"] .recs`);
  if (box) box.innerHTML = html || "";
}

function render() {
  const rows = [...st.items.values()]
    .filter((i) => st.showAll || OPEN.includes(i.status))
    .sort((a, b) => (a.priority - b.priority) || ((b.updated_at || 0) - (a.updated_at || 0)));
  st.tbody.innerHTML = rows.map(row).join("") || `<tr><td colspan="9" class="muted">No open incidents.</td></tr>`;
  st.count.textContent = String(rows.length);
}

function upsert(inc) {
  st.items.set(inc.id, inc);
  const tr = st.tbody.querySelector(`tr[data-id="${CSS.escape(inc.id)}"]`);
  const visible = st.showAll || OPEN.includes(inc.status);
  if (tr && visible) {
    tr.outerHTML = row(inc);
  } else {
    render();
  }
  const fresh = st.tbody.querySelector(`tr[data-id="${CSS.escape(inc.id)}"]`);
  if (fresh) fresh.classList.add("flash");
}

async function load() {
  const rows = expectArray(await api("/api/incidents?limit=500"), "incidents");
  st.items = new Map(rows.map((i) => [i.id, i]));
  render();
}

async function act(tr, what, btn) {
  const id = tr.dataset.id;
  const base = `/api/incidents/${encodeURIComponent(id)}`;
  try {
    if (what === "confirm") upsert(await api(`${base}/confirm`, { method: "POST", body: {} }));
    else if (what === "dismiss") {
      const reason = prompt("Why is this a false alarm?");
      if (!reason) return;
      upsert(await api(`${base}/dismiss`, { method: "POST", body: { reason } }));
    } else if (what === "merge") {
      const into = prompt("Merge into which incident id?");
      if (!into) return;
      // The chosen incident absorbs this one (reversible: "unmerge" in the API).
      await api(`/api/incidents/${encodeURIComponent(into)}/merge`, { method: "POST", body: { sources: [id] } });
      await load();
    } else if (what === "split") {
      const devs = prompt("Split off the events of which cameras (comma separated ids)?");
      if (!devs) return;
      await api(`${base}/split`, { method: "POST", body: { device_ids: devs.split(",").map((s) => s.trim()) } });
      await load();

    } else if (what === "snapshot") {
      await snapshot(tr, id);
    } else if (what === "recommend") {
      setExtra(id, `<span class="muted">ranking units…</span>`);
      const r = await api("/api/dispatch/recommend", { method: "POST", body: { incident_id: id, k: 3 } });
      const list = expectArray(r.candidates, "recommendations");
      setExtra(id, list.length ? list.map((u, n) => `<div data-testid="rec">${n + 1}. <b>${esc(u.call_sign || u.unit)}</b>
          ETA ${Math.round(u.eta_s)} s · ${esc((u.reasons || []).join(" · "))}
          <button class="primary" data-dispatch="${esc(u.unit)}">Dispatch</button></div>`).join("")
        : `<span class="muted">no available unit${r.skipped?.length ? ` (${r.skipped.length} skipped)` : ""}</span>`);
    }
  } catch (e) {
    window.cwBanner(`${what} failed: ${e.message}`);
  }
  void btn;
}

// One frame on demand (never video): ask the camera, wait for its answer, show it.
async function snapshot(tr, id) {
  setExtra(id, `<span class="muted">asking the camera…</span>`);
  const r = await api(`/api/incidents/${encodeURIComponent(id)}/snapshot`, { method: "POST" });
  for (let i = 0; i < 40; i++) {
    const sn = await api(`/api/snapshots/${r.req}`);
    if (sn.status === "error") { setExtra(id, `<span class="error">snapshot: ${esc(sn.error)}</span>`); return; }
    if (sn.status === "ok") {
      const res = await api(`/api/snapshots/${r.req}/image`, { raw: true });
      const url = URL.createObjectURL(await res.blob());
      setExtra(id, `<img data-testid="snapshot" alt="frame from ${esc(sn.device_id)}" src="${url}" style="max-width:320px">`);
      return;
    }
    await new Promise((ok) => setTimeout(ok, 250));
  }
  setExtra(id, `<span class="error">the camera did not answer within 10 s (offline?)</span>`);
}

async function dispatch(tr, unit) {
  try {
    const r = await api("/api/dispatch/orders", { method: "POST", body: { incident_id: tr.dataset.id, unit_id: unit } });
    window.cwBanner(`Order sent to ${r.unit || r.unit_id || unit}.`, "info");
    setExtra(tr.dataset.id, "");
    const inc = await api(`/api/incidents/${encodeURIComponent(tr.dataset.id)}`);
    upsert(inc);
  } catch (e) {
    window.cwBanner(`dispatch failed: ${e.message}`);
  }
}

export async function mount(view) {
  view.innerHTML = `<h1>Incidents <span class="pill" id="inc-count">0</span></h1>
    <label style="flex-direction:row;align-items:center;gap:6px"><input type="checkbox" id="inc-all"> show closed</label>
    <table><thead><tr><th>P</th><th>id</th><th>kind</th><th>zone</th><th>cameras</th><th>conf.</th><th>status</th><th>updated</th><th>actions</th></tr></thead>
    <tbody id="inc-body"></tbody></table>`;
  st = { tbody: view.querySelector("#inc-body"), count: view.querySelector("#inc-count"), items: new Map(), extra: new Map(), showAll: false, off: null };
  view.querySelector("#inc-all").addEventListener("change", (e) => { st.showAll = e.target.checked; render(); });
  st.tbody.addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-id]");
    if (!tr) return;
    if (e.target.dataset.act) act(tr, e.target.dataset.act, e.target);
    if (e.target.dataset.dispatch) dispatch(tr, e.target.dataset.dispatch);
  });
  await load();
  st.off = onLive((kind, data) => {
    if (kind === "incident" && data?.incident?.id) upsert(data.incident);
    if (kind === "resync") load().catch(() => {});
  });
}

export function unmount() { if (st?.off) st.off(); st = null; }
