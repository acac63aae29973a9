// Investigators: risk alerts, alias links awaiting review (with evidence), warnings workflow.
import { api, esc } from "../api.js";

async function load(view) {
  const [alerts, review, warnings] = await Promise.all([
    api("/api/fraud/alerts").catch((e) => ({ error: e.message })),
    api("/api/fraud/links/review").catch((e) => ({ error: e.message })),
    api("/api/fraud/warnings").catch((e) => ({ error: e.message })),
  ]);
  const list = (x) => (Array.isArray(x) ? x : x.items || []);
  const err = (x) => (x && x.error ? `<p class="error">${esc(x.error)}</p>` : "");
  view.querySelector("#fraud-body").innerHTML = `
    <h2>Risk alerts</h2>${err(alerts)}<table><tbody>${list(alerts).slice(0, 30).map((a) => `<tr><td>${esc(a.company || a.name || a.company_id)}</td><td><span class="pill">${esc(a.level || a.risk_level || "")}</span></td><td>${esc(a.score ?? "")}</td><td>${esc((a.reasons || a.explanation || []).join ? (a.reasons || a.explanation || []).join("; ") : "")}</td></tr>`).join("") || `<tr><td class="muted">none</td></tr>`}</tbody></table>
    <h2>Alias links awaiting review</h2>${err(review)}<table><tbody>${list(review).slice(0, 30).map((l) => `<tr data-link="${esc(l.id)}"><td>${esc(l.a_name || l.company_a || l.a)}</td><td>↔</td><td>${esc(l.b_name || l.company_b || l.b)}</td><td>${esc(l.score ?? "")}</td><td class="muted">${esc(JSON.stringify(l.evidence || "").slice(0, 160))}</td>
      <td class="actions"><button data-dec="confirm">Confirm</button><button data-dec="reject">Reject</button></td></tr>`).join("") || `<tr><td class="muted">queue empty</td></tr>`}</tbody></table>
    <h2>Warnings</h2>${err(warnings)}<table><thead><tr><th>id</th><th>headline</th><th>state</th><th></th></tr></thead><tbody>${list(warnings).map((w) => `<tr data-warning="${esc(w.id)}"><td>${esc(w.id)}</td><td>${esc(w.headline)}</td><td>${esc(w.state || w.status)}${w.pending ? `<div class="muted" data-testid="pending-change">change by ${esc(w.pending_by)} awaiting approval: ${esc(Object.entries(JSON.parse(w.pending)).map(([k, v]) => `${k} → ${v}`).join("; "))}</div>` : ""}</td>
      <td class="actions">${(w.state || w.status) === "draft" || w.pending ? `<button data-w="approve">${w.pending ? "Approve change" : "Approve"}</button>` : ""}${(w.state || w.status) === "approved" ? '<button data-w="publish">Publish</button>' : ""}</td></tr>`).join("") || `<tr><td colspan="4" class="muted">none</td></tr>`}</tbody></table>`;
}

export async function mount(view) {
  view.innerHTML = `<h1>Fraud early warning</h1><div id="fraud-body"></div>`;
  view.addEventListener("click", async (e) => {
    const link = e.target.closest("tr[data-link]");
    const warn = e.target.closest("tr[data-warning]");
    try {
      if (link && e.target.dataset.dec) await api(`/api/fraud/links/${link.dataset.link}/decision`, { method: "POST", body: { decision: e.target.dataset.dec } });
      else if (warn && e.target.dataset.w) await api(`/api/fraud/warnings/${warn.dataset.warning}/${e.target.dataset.w}`, { method: "POST", body: {} });
      else return;
      await load(view);
    } catch (err) { window.cwBanner(err.message); }
  });
  await load(view);
}
