// @ts-check
// Camera owners: the organisations that own the city's cameras (most are companies' and
// communities'), their cameras' health and the incidents they raised, and the sharing
// agreement of each (what the centre may receive). Administrators edit agreements and make
// owners' logins; every change is audited by the coordinator.
import {
  createOwnerAccount, fleetListDevices, getOwner, listOwners, ownerStats, ownersRemoveAgreement,
  ownersSetAgreement,
} from "../api_client.js";
import { banner } from "../banner.js";
import { session } from "../http.js";
import { html, render } from "../html.js";
import { fmtDate, fmtNumber, label, t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").OwnerStats} OwnerStats */
/** @typedef {import("../api_client.js").OrgDetail} OrgDetail */
/** @typedef {import("../api_client.js").AgreementOut} AgreementOut */
/** @typedef {import("../api_client.js").Device} Device */
/** @typedef {import("../api_client.js").Level} Level */

const KINDS = ["government", "company", "community", "school", "hospital", "other"];
const LEVELS = ["events", "snapshots", "live"];
const COLS = ["name", "kind", "cameras", "online", "stale", "offline", "incidents_24h", "incidents_7d", "level"];
/** How many organisations the table shows (the filter narrows the rest). */
const SHOWN = 200;

/** @param {HTMLElement} view @param {string} sel */
const el = (view, sel) => /** @type {HTMLInputElement} */ (view.querySelector(sel));

/** @param {AgreementOut} a */
function terms(a) {
  const hours = a.hours_from == null ? t("owners.all_day") : t("owners.hours", { from: a.hours_from, to: a.hours_to });
  const keep = a.retention_days == null ? "" : ` · ${t("owners.keep_days", { n: fmtNumber(a.retention_days) })}`;
  const until = a.valid_to == null ? "" : ` · ${t("owners.until", { date: fmtDate(a.valid_to) })}`;
  const src = a.source === "default" ? ` (${t("owners.default")})` : "";
  return html`<span data-testid="agreement" data-level="${a.level}">
    ${label("owners.level.", a.level)}${src} · ${hours}${keep}${until}</span>`;
}

/** @param {OwnerStats} s @param {Map<number, OrgDetail>} orgs */
function row(s, orgs) {
  const org = orgs.get(s.org_id);
  return html`<tr data-org="${s.org_id}" class="clickable"><td data-l10n="data">${s.name}</td><td>${label("owners.kind.", s.kind)}</td>
    <td>${fmtNumber(s.cameras)}</td><td class="st-online">${fmtNumber(s.online)}</td><td class="st-stale">${fmtNumber(s.stale)}</td>
    <td class="st-offline">${fmtNumber(s.offline)}</td><td>${fmtNumber(s.incidents_24h)}</td><td>${fmtNumber(s.incidents_7d)}</td>
    <td>${org ? label("owners.level.", org.agreement.level) : ""}</td></tr>`;
}

/** @param {HTMLElement} view */
async function load(view) {
  const kind = el(view, "#owners-kind").value;
  const q = el(view, "#owners-q").value.trim();
  const [stats, orgs] = await Promise.all([
    ownerStats(),
    listOwners({ kind: kind ? /** @type {import("../api_client.js").OrgKind} */ (kind) : null, q: q || null }),
  ]);
  const byId = new Map(orgs.map((o) => [o.id, o]));
  const mine = stats.filter((s) => byId.has(s.org_id)).sort((a, b) => b.cameras - a.cameras);
  const sum = (/** @type {keyof OwnerStats} */ k) => mine.reduce((n, s) => n + Number(s[k] || 0), 0);
  const card = (/** @type {string} */ k, /** @type {number} */ n) =>
    html`<div class="card"><span class="muted">${t(`owners.col.${k}`)}</span><b data-testid="owners-${k}">${fmtNumber(n)}</b></div>`;
  render(/** @type {HTMLElement} */ (view.querySelector("#owners-body")), html`
    <div class="cards">${card("orgs", mine.length)}${card("cameras", sum("cameras"))}${card("online", sum("online"))}
      ${card("stale", sum("stale"))}${card("offline", sum("offline"))}${card("incidents_24h", sum("incidents_24h"))}</div>
    <p class="muted">${mine.length > SHOWN ? t("owners.shown", { n: SHOWN, total: mine.length }) : ""}</p>
    <table data-testid="owners-table"><thead><tr>${COLS.map((c) => html`<th>${t(`owners.col.${c}`)}</th>`)}</tr></thead>
    <tbody>${mine.slice(0, SHOWN).map((s) => row(s, byId))}</tbody></table>`);
}

/** @param {Device} d */
const camRow = (d) => html`<tr data-device="${d.id}"><td>${d.id}</td><td>${d.zone || ""}</td>
  <td class="st-${d.health_status}">${label("fleet.state.", d.health_status)}</td></tr>`;

/** @param {number} id */
function agreementForm(id) {
  const opt = (/** @type {string} */ v) => html`<option value="${v}">${label("owners.level.", v)}</option>`;
  return html`<form id="agreement-form" data-org="${id}" class="stack">
    <h3>${t("owners.edit_agreement")}</h3>
    <label>${t("owners.field.level")} <select name="level">${LEVELS.map(opt)}</select></label>
    <label>${t("owners.field.hours_from")} <input name="hours_from" type="number" min="0" max="24"></label>
    <label>${t("owners.field.hours_to")} <input name="hours_to" type="number" min="0" max="24"></label>
    <label>${t("owners.field.retention_days")} <input name="retention_days" type="number" min="1" max="3650"></label>
    <label>${t("owners.field.valid_from")} <input name="valid_from" type="date"></label>
    <label>${t("owners.field.valid_to")} <input name="valid_to" type="date"></label>
    <label>${t("owners.field.agreed_by")} <input name="agreed_by" required minlength="2" maxlength="200"></label>
    <label>${t("owners.field.note")} <input name="note" maxlength="500"></label>
    <button type="submit">${t("owners.save_agreement")}</button>
    <button type="button" id="agreement-default">${t("owners.use_default")}</button></form>
    <form id="account-form" class="stack"><h3>${t("owners.new_account")}</h3>
    <label>${t("owners.field.username")} <input name="username" required minlength="3" pattern="[A-Za-z0-9._\\-]+"></label>
    <label>${t("owners.field.password")} <input name="password" type="password" required minlength="8"></label>
    <button type="submit">${t("owners.make_account")}</button></form>`;
}

/** @param {FormData} f @param {string} k */
function num(f, k) { const v = String(f.get(k) || "").trim(); return v === "" ? null : Number(v); }
/** @param {FormData} f @param {string} k */
function day(f, k) { const v = String(f.get(k) || ""); return v ? Date.parse(`${v}T00:00:00`) / 1000 : null; }

// The form starts from the terms in force, so a change is an edit, not a retyping.
/** @param {HTMLFormElement | null} form @param {AgreementOut} a */
function fill(form, a) {
  if (!form) return;
  const set = (/** @type {string} */ name, /** @type {string} */ v) => {
    const input = /** @type {HTMLInputElement | null} */ (form.elements.namedItem(name));
    if (input) input.value = v;
  };
  const date = (/** @type {number | null | undefined} */ ts) => (ts == null ? "" : new Date(ts * 1000).toISOString().slice(0, 10));
  set("level", a.level);
  set("hours_from", a.hours_from == null ? "" : String(a.hours_from));
  set("hours_to", a.hours_to == null ? "" : String(a.hours_to));
  set("retention_days", a.retention_days == null ? "" : String(a.retention_days));
  set("valid_from", date(a.valid_from));
  set("valid_to", date(a.valid_to));
  set("agreed_by", a.agreed_by || "");
  set("note", a.note || "");
}

/** @param {HTMLElement} view @param {number} id */
async function detail(view, id) {
  const [org, cams] = await Promise.all([getOwner(id), fleetListDevices({ org_id: id, limit: 200 })]);
  const box = /** @type {HTMLElement} */ (view.querySelector("#owner-detail"));
  render(box, html`<h2 data-testid="owner-name" data-l10n="data">${org.name}</h2>
    <p>${label("owners.kind.", org.kind)} · <span data-l10n="data">${org.contact || ""}</span>
      · <span data-l10n="data">${org.area || ""}</span></p>
    <p>${t("owners.agreement")}: ${terms(org.agreement)}</p>
    <p class="muted">${org.agreement.agreed_by ? t("owners.agreed_by", { who: org.agreement.agreed_by }) : ""}</p>
    ${org.camera_agreements.map((c) => html`<p>${c.device_id}: ${terms(c)}</p>`)}
    <p>${t("owners.accounts")}: <span data-l10n="data">${(org.accounts || []).join(", ") || "–"}</span></p>
    <table data-testid="owner-cameras"><thead><tr>
      <th>${t("fleet.device")}</th><th>${t("fleet.zone")}</th><th>${t("owners.col.health")}</th></tr></thead>
    <tbody>${cams.map(camRow)}</tbody></table>
    ${session.can("owners:write") ? agreementForm(id) : ""}`);
  fill(/** @type {HTMLFormElement | null} */ (box.querySelector("#agreement-form")), org.agreement);
  box.querySelector("#agreement-form")?.addEventListener("submit", (ev) => {
    ev.preventDefault();
    save(view, id, /** @type {HTMLFormElement} */ (ev.target));
  });
  box.querySelector("#agreement-default")?.addEventListener("click", () => {
    ownersRemoveAgreement(id).then(() => detail(view, id)).catch((e) => banner(e.message));
  });
  box.querySelector("#account-form")?.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(/** @type {HTMLFormElement} */ (ev.target));
    createOwnerAccount(id, { username: String(f.get("username")), password: String(f.get("password")) })
      .then((a) => { banner(t("owners.account_made", { name: a.username }), "info"); return detail(view, id); })
      .catch((e) => banner(e.message));
  });
}

/** @param {HTMLElement} view @param {number} id @param {HTMLFormElement} form */
async function save(view, id, form) {
  const f = new FormData(form);
  try {
    await ownersSetAgreement(id, {
      level: /** @type {Level} */ (String(f.get("level"))), hours_from: num(f, "hours_from"), hours_to: num(f, "hours_to"),
      retention_days: num(f, "retention_days"), valid_from: day(f, "valid_from"), valid_to: day(f, "valid_to"),
      agreed_by: String(f.get("agreed_by") || ""), note: String(f.get("note") || "") || null,
    });
    banner(t("owners.saved"), "info");
    await Promise.all([detail(view, id), load(view)]);
  } catch (e) { banner(/** @type {Error} */ (e).message); }
}

/** @param {HTMLElement} view */
async function mount(view) {
  const opt = (/** @type {string} */ k) => html`<option value="${k}">${label("owners.kind.", k)}</option>`;
  render(view, html`<h1>${t("owners.title")}</h1>
    <p class="muted">${t("owners.intro")}</p>
    <form id="owners-filter" class="row"><label>${t("owners.field.kind")}
      <select id="owners-kind"><option value="">${t("owners.all")}</option>${KINDS.map(opt)}</select></label>
    <label>${t("owners.field.name")} <input id="owners-q" maxlength="100"></label>
    <button type="submit">${t("owners.filter")}</button></form>
    <div id="owners-body"></div><div id="owner-detail"></div>`);
  view.querySelector("#owners-filter")?.addEventListener("submit", (ev) => {
    ev.preventDefault();
    load(view).catch((e) => banner(e.message));
  });
  view.querySelector("#owners-body")?.addEventListener("click", (ev) => {
    const tr = /** @type {HTMLElement} */ (ev.target).closest("tr[data-org]");
    if (tr) detail(view, Number(tr.getAttribute("data-org"))).catch((e) => banner(e.message));
  });
  await load(view);
}

registerScreen({ id: "owners", navKey: "nav.owners", perm: "owners:read", mount });
