// @ts-check
// Investigators' companies: a list by name and check state, and one company's profile
// (#/companies?id=N): its registry record (entered or corrected here), its check state, and
// its alias network — the company, its vests and aliases, and the evidence linking them.
import { fraudCompanies, fraudCompany, fraudMarkChecked, fraudNetwork, fraudSaveProfile } from "../api_client.js";
import { banner } from "../banner.js";
import { html, render } from "../html.js";
import { fmtDate, fmtNumber, label, t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").Company} Company */
/** @typedef {import("../api_client.js").AliasNetwork} AliasNetwork */
/** @typedef {import("../api_client.js").NetworkLink} NetworkLink */
/** @typedef {import("../api_client.js").CompanyListItem} CompanyListItem */

const PAGE = 25;
const STATUSES = ["in_business", "suspended", "revoked", "cancelled", "moved_out"];

/** @param {string[]} keys */
const head = (keys) => html`<thead><tr>${keys.map((k) => html`<th>${k ? t(k) : ""}</th>`)}</tr></thead>`;
/** @param {HTMLFormElement} form @param {string} name */
const field = (form, name) => String(new FormData(form).get(name) || "").trim();
const params = () => new URLSearchParams(location.hash.split("?")[1] || "");

/** @param {CompanyListItem} c */
function row(c) {
  return html`<tr data-company="${c.id}"><td>${c.id}</td>
    <td><a href="#/companies?id=${c.id}" data-l10n="data">${c.display_name}</a></td>
    <td><span class="pill">${t(`companies.state.${c.state}`)}</span></td><td data-l10n="data">${c.uscc || ""}</td>
    <td data-l10n="data">${c.legal_rep || ""}</td><td>${label("companies.reg.", c.reg_status)}</td></tr>`;
}

/** @param {HTMLElement} view */
async function list(view) {
  const q = params();
  /** @type {Object<string, string | number>} */
  const query = { limit: PAGE, offset: Number(q.get("offset") || 0) };
  for (const k of ["q", "state"]) if (q.get(k)) query[k] = String(q.get(k));
  const page = await fraudCompanies(t("companies.purpose_list"), query);
  const opt = (/** @type {string} */ v) =>
    html`<option value="${v}" ${q.get("state") === v ? "selected" : ""}>${t(v ? `companies.state.${v}` : "cases.any")}</option>`;
  const last = Math.min(page.offset + page.items.length, page.total);
  render(view, html`<h1>${t("companies.title")}</h1>
    <form id="company-filter" class="inline"><label>${t("cases.search")} <input name="q" value="${q.get("q") || ""}"></label>
      <label>${t("companies.check_state")} <select name="state">${["", "unchecked", "checked", "profiled"].map(opt)}</select></label>
      <button type="submit">${t("cases.filter")}</button></form>
    <table data-testid="company-list">${head(["fraud.id", "companies.name", "companies.check_state", "companies.uscc",
      "companies.legal_rep", "companies.reg_status"])}<tbody>${page.items.map(row)}</tbody></table>
    <p class="inline">${page.total ? t("cases.page", { from: page.offset + 1, to: last, total: page.total }) : t("common.none")}
      ${page.offset > 0 ? html`<button type="button" data-page="${Math.max(0, page.offset - PAGE)}">${t("cases.prev")}</button>` : ""}
      ${last < page.total ? html`<button type="button" data-page="${last}">${t("cases.next")}</button>` : ""}</p>`);
}

/** @param {Company} c */
function profileForm(c) {
  const p = c.profile;
  const v = (/** @type {string | number | null | undefined} */ x) => (x == null ? "" : String(x));
  const inp = (/** @type {string} */ key, /** @type {string} */ name, /** @type {string} */ value, type = "text") =>
    html`<label>${t(key)} <input name="${name}" type="${type}" value="${value}"></label> `;
  const st = STATUSES.map((s) => html`<option value="${s}" ${p?.reg_status === s ? "selected" : ""}>${t(`companies.reg.${s}`)}</option>`);
  return html`<form id="profile-form" class="card" data-testid="profile-form"><h2>${t("companies.registry")}</h2>
    ${inp("companies.uscc", "uscc", v(p?.uscc))}${inp("companies.licence_no", "licence_no", v(p?.licence_no))}
    ${inp("companies.legal_rep", "legal_rep", v(p?.legal_rep))}<br>
    ${inp("companies.address", "registered_address", v(p?.registered_address))}
    ${inp("companies.capital", "capital", p?.registered_capital_cents != null ? String(p.registered_capital_cents / 100) : "")}
    ${inp("companies.founding", "founding_date", v(p?.founding_date), "date")}<br>
    <label>${t("companies.reg_status")} <select name="reg_status">${st}</select></label>
    ${inp("companies.scope", "business_scope", v(p?.business_scope))}${inp("companies.source", "source", v(p?.source))}
    <button class="primary" type="submit">${t("companies.save_profile")}</button>
    <p class="error" id="profile-error" data-testid="profile-error"></p></form>`;
}

/** @param {AliasNetwork} net @param {NetworkLink} l */
function linkRow(net, l) {
  const name = (/** @type {number} */ id) =>
    (net.members.find((m) => m.id === id) || net.candidates.find((m) => m.id === id))?.display_name || String(id);
  const shared = (l.evidence.shared || []).map((s) => html`<li>${t(`fraud.kind.${s.kind}`)} <span data-l10n="data">${s.value}</span></li>`);
  const state = l.active ? t("companies.link_active") : label("companies.link.", l.decision || l.proposed);
  return html`<tr data-link="${l.id}"><td data-l10n="data">${name(l.a)}</td><td>↔</td><td data-l10n="data">${name(l.b)}</td>
    <td>${fmtNumber(l.score, { maximumFractionDigits: 2 })}</td><td>${state}</td><td><ul class="reasons">${shared}</ul></td></tr>`;
}

/** @param {AliasNetwork} net */
function network(net) {
  const members = net.members.map((m) => html`<tr data-member="${m.id}" class="${m.id === net.company_id ? "selected" : ""}">
    <td><a href="#/companies?id=${m.id}" data-l10n="data">${m.display_name}</a></td><td>${fmtDate(m.founded)}</td>
    <td>${t(`companies.state.${m.state}`)}</td><td data-l10n="data">${m.legal_rep || ""}</td>
    <td>${m.warned ? html`<span class="pill">${t("companies.warned")}</span>` : ""}</td></tr>`);
  return html`<h2>${t("companies.network")}</h2>
    <table data-testid="network-members">${head(["companies.name", "companies.founding", "companies.check_state",
      "companies.legal_rep", ""])}<tbody>${members}</tbody></table>
    <h3>${t("companies.evidence")}</h3>
    <table data-testid="network-links"><tbody>${net.links.map((l) => linkRow(net, l))}</tbody></table>`;
}

/** @param {HTMLElement} view @param {number} id */
async function one(view, id) {
  const purpose = t("companies.purpose_profile");
  const [c, net] = await Promise.all([fraudCompany(id, purpose), fraudNetwork(id, purpose)]);
  render(view, html`<p><a href="#/companies">← ${t("companies.back")}</a></p>
    <h1 data-l10n="data" data-testid="company-name">${c.display_name}</h1>
    <p><span class="pill" data-testid="company-state">${t(`companies.state.${c.state || "unchecked"}`)}</span>
      ${c.state === "unchecked" ? html`<button type="button" data-check="${c.id}">${t("companies.mark_checked")}</button>` : ""}
      · ${t("check.risk")} ${label("fraud.level.", c.risk.level)}</p>
    ${profileForm(c)}${network(net)}`);
}

/** @param {HTMLFormElement} form */
function profileBody(form) {
  return {
    uscc: field(form, "uscc") || null, licence_no: field(form, "licence_no") || null, legal_rep: field(form, "legal_rep"),
    registered_address: field(form, "registered_address"), registered_capital_yuan: field(form, "capital") || "0",
    founding_date: field(form, "founding_date"), business_scope: field(form, "business_scope"),
    reg_status: /** @type {import("../api_client.js").RegStatus} */ (field(form, "reg_status")), source: field(form, "source"),
  };
}

/** @param {HTMLElement} view @param {Event} e */
async function submit(view, e) {
  const form = /** @type {HTMLFormElement} */ (e.target);
  e.preventDefault();
  if (form.id === "company-filter") {
    const q = new URLSearchParams();
    for (const k of ["q", "state"]) if (field(form, k)) q.set(k, field(form, k));
    location.hash = `#/companies?${q}`;
    return;
  }
  const id = Number(params().get("id"));
  try {
    await fraudSaveProfile(id, t("companies.purpose_profile"), profileBody(form));
    await one(view, id);
  } catch (err) { render(/** @type {HTMLElement} */ (view.querySelector("#profile-error")), html`${err.message}`); }
}

/** @param {HTMLElement} view @param {Event} e */
async function click(view, e) {
  const d = /** @type {HTMLElement} */ (e.target).dataset;
  try {
    if (d.check) {
      await fraudMarkChecked(Number(d.check));
      await one(view, Number(d.check));
    } else if (d.page) {
      const q = params();
      q.set("offset", d.page);
      location.hash = `#/companies?${q}`;
    }
  } catch (err) { banner(err.message); }
}

/** @param {HTMLElement} view */
async function mount(view) {
  const root = document.createElement("div");
  view.replaceChildren(root);
  root.addEventListener("submit", (e) => submit(root, e));
  root.addEventListener("click", (e) => click(root, e));
  const id = Number(params().get("id"));
  if (id) await one(root, id);
  else await list(root);
}

registerScreen({ id: "companies", navKey: "nav.companies", perm: "fraud:read", mount });
