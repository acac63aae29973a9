// Population officers: search (audited, with a stated purpose), service requests, review queue.
import { api, esc, expectArray, fmtTime } from "../api.js";

async function search(view) {
  const f = new FormData(view.querySelector("#pop-search"));
  const purpose = String(f.get("purpose") || "").trim();
  const out = view.querySelector("#pop-results");
  if (purpose.length < 3) { out.innerHTML = `<p class="error">State the purpose of this search (it is recorded).</p>`; return; }
  const q = new URLSearchParams();
  for (const k of ["name", "address"]) if (f.get(k)) q.set(k, f.get(k));
  try {
    const rows = expectArray(await api(`/api/population/persons/search?${q}`, { purpose }), "search results");
    out.innerHTML = `<table data-testid="pop-results"><thead><tr><th>name</th><th>Latin</th><th>ID (masked)</th><th>born</th><th>origin</th><th>zone</th></tr></thead><tbody>
      ${rows.map((p) => `<tr><td>${esc(p.name)}</td><td>${esc(p.name_latin)}</td><td>${esc(p.id_masked)}</td><td>${esc(p.birth_date || p.dob || "")}</td><td>${esc(p.origin || p.nationality || "")}</td><td>${esc(p.zone || "")}</td></tr>`).join("") || `<tr><td colspan="6" class="muted">no match in your zones</td></tr>`}</tbody></table>`;
  } catch (e) { out.innerHTML = `<p class="error">${esc(e.message)}</p>`; }
}

export async function mount(view) {
  view.innerHTML = `<h1>Population records</h1>
    <form id="pop-search"><label>name (汉字 or Latin)<input name="name"></label><label>address<input name="address"></label>
      <label>purpose (recorded)<input name="purpose" placeholder="e.g. residence check, case 42"></label><button class="primary">Search</button></form>
    <div id="pop-results"></div>
    <h2>Service requests</h2><div id="pop-requests" class="muted">loading…</div>
    <h2>Duplicate review queue</h2><div id="pop-dups" class="muted">loading…</div>`;
  view.querySelector("#pop-search").addEventListener("submit", (e) => { e.preventDefault(); search(view); });
  api("/api/population/requests?limit=20", { purpose: "service request queue" }).then((rows) => {
    const list = Array.isArray(rows) ? rows : rows.items || [];
    view.querySelector("#pop-requests").innerHTML = `<table><thead><tr><th>id</th><th>category</th><th>status</th><th>due</th></tr></thead><tbody>${list.map((r) => `<tr><td>${esc(r.id)}</td><td>${esc(r.category)}</td><td>${esc(r.status)}${r.overdue ? ' <span class="pill pri-1">overdue</span>' : ""}</td><td>${esc(fmtTime(r.due_at))}</td></tr>`).join("") || `<tr><td colspan="4" class="muted">none</td></tr>`}</tbody></table>`;
  }).catch((e) => { view.querySelector("#pop-requests").innerHTML = `<p class="error">${esc(e.message)}</p>`; });
  api("/api/population/duplicates?limit=20", { purpose: "duplicate review" }).then((rows) => {
    const list = Array.isArray(rows) ? rows : rows.items || [];
    view.querySelector("#pop-dups").innerHTML = `<table><tbody>${list.map((d) => `<tr><td>${esc(d.id)}</td><td>${esc(d.reason || d.kind || "")}</td><td>${esc(d.score ?? "")}</td><td>${esc(d.status || "")}</td></tr>`).join("") || `<tr><td class="muted">queue empty</td></tr>`}</tbody></table>`;
  }).catch((e) => { view.querySelector("#pop-dups").innerHTML = `<p class="error">${esc(e.message)}</p>`; });
}
