// @ts-check
// Merchants' check before dealing: any identifier → risk level and every active warning
// on the company or on any linked alias (never other merchants' filings).
import { fraudCheck } from "../api_client.js";
import { html, render } from "../html.js";
import { label, t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").CheckMatch} CheckMatch */
/** @typedef {import("../api_client.js").CheckWarning} CheckWarning */

/** @param {CheckWarning} w one active warning */
function warning(w) {
  const via = w.via_alias ? t("check.via_alias", { company: w.company }) : "";
  return html`<div class="error" data-testid="warning">⚠ ${w.headline} ${via}</div>`;
}

/** @param {CheckMatch} m one matching company */
function match(m) {
  const warnings = m.warnings;
  return html`<div class="card" data-testid="check-result">
    <b>${m.name}</b> ${t("check.risk")} <span class="pill" data-testid="risk">${label("fraud.level.", m.risk.level)}</span>
    ${m.aliases?.length ? html`<div class="muted">${t("check.aliases", { names: m.aliases.join(t("common.list_sep")) })}</div>` : ""}
    ${warnings.length ? warnings.map(warning) : html`<div class="muted">${t("check.no_warning")}</div>`}
  </div>`;
}

/** @param {HTMLElement} view */
async function run(view) {
  const q = /** @type {HTMLInputElement} */ (view.querySelector("#chk-q")).value.trim();
  const out = /** @type {HTMLElement} */ (view.querySelector("#chk-out"));
  if (!q) return;
  render(out, html`<p class="muted">${t("check.checking")}</p>`);
  try {
    const r = await fraudCheck({ q });
    const matches = r.matches;
    const none = html`<p class="muted">${r.note ? html`<span data-l10n="server">${r.note}</span>` : t("check.unknown", { q })}</p>`;
    render(out, matches.length ? html`${matches.map(match)}` : none);
  } catch (e) { render(out, html`<p class="error">${e.message}</p>`); }
}

/** @param {HTMLElement} view */
function mount(view) {
  render(view, html`<h1>${t("check.title")}</h1>
    <form id="chk"><label>${t("check.query")}<input id="chk-q" size="40"></label>
      <button class="primary">${t("check.submit")}</button></form>
    <div id="chk-out"></div>`);
  view.querySelector("#chk")?.addEventListener("submit", (e) => { e.preventDefault(); run(view); });
}

registerScreen({ id: "check", navKey: "nav.check", perm: "company:check", mount });
