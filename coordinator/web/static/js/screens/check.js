// Merchants' check before dealing: any identifier → risk level and every active warning
// on the company or on any linked alias (never other merchants' filings).
import { api, esc } from "../api.js";

async function run(view) {
  const q = view.querySelector("#chk-q").value.trim();
  const out = view.querySelector("#chk-out");
  if (!q) return;
  out.innerHTML = `<p class="muted">checking…</p>`;
  try {
    const r = await api(`/api/fraud/check?q=${encodeURIComponent(q)}`);
    const matches = r.matches || [];
    out.innerHTML = matches.length ? matches.map((m) => `<div class="card" data-testid="check-result">
        <b>${esc(m.name)}</b> risk: <span class="pill" data-testid="risk">${esc(m.risk?.level ?? m.risk)}</span>
        ${m.aliases?.length ? `<div class="muted">also known as: ${esc(m.aliases.join(", "))}</div>` : ""}
        ${(m.warnings || []).map((w) => `<div class="error" data-testid="warning">⚠ ${esc(w.headline)} ${w.via_alias ? `(via alias ${esc(w.company)})` : ""}</div>`).join("") || '<div class="muted">no active warning</div>'}
      </div>`).join("") : `<p class="muted">No company known by “${esc(q)}”.</p>`;
  } catch (e) { out.innerHTML = `<p class="error">${esc(e.message)}</p>`; }
}

export async function mount(view) {
  view.innerHTML = `<h1>Check a company before dealing</h1>
    <form id="chk"><label>name, phone, e-mail, address, bank account or registration code<input id="chk-q" size="40"></label><button class="primary">Check</button></form>
    <div id="chk-out"></div>`;
  view.querySelector("#chk").addEventListener("submit", (e) => { e.preventDefault(); run(view); });
}
